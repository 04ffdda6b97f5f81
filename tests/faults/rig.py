"""The fault run's service: `helpline serve` and `helpline worker` as processes of their
own, on PostgreSQL and Redis reached through fault proxies, with Twilio on the fake.

`fault_rig` wipes the stores, starts the proxies and the fake, migrates, loads the demo
organisation with one generated foster home per message to come (`bench.escalation.org`)
and starts the processes; a `Rig` then makes calls and sends messages the way Twilio
posts them (each webhook twice at once when `twice` is set), kills and restarts the
processes, and `audit` counts what the fake and the database saw. Used by `tests/faults`
and `bench/faults.py`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench import harness
from bench.escalation.org import BenchHome, bench_org, check_chains
from helpline.simulator.forms import incoming_call, incoming_sms, random_sid
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)
from tests.faults.proxy import ProxyThread

FALLBACK = "+4740000000"  # the demo's fallback_phone
#: A caller must not wait out a connection timeout: every call is answered within this.
CALL_ANSWER_S = 3.0
WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=15.0)  # Twilio's own webhook timeout
SUPERVISED_STARTS = 10
BODY = "Hei, kan noen ringe oss? Det er litt vanskelig her i kveld."


@dataclass
class Tally:
    """What the run sent and what it was answered."""

    calls: int = 0
    by_rota: int = 0
    by_fallback: int = 0
    split: int = 0  # delivered twice at once, one copy answered by each
    unanswered: list[str] = field(default_factory=list)  # why, per call not answered
    messages: list[BenchHome] = field(default_factory=list)  # each answered 200
    refused: list[str] = field(default_factory=list)  # why, per message not answered 200


@dataclass
class Rig:
    """The running service under faults; see the module docstring."""

    work: Path
    env: dict[str, str]
    port: int
    pg: ProxyThread
    redis: ProxyThread
    twilio: FakeTwilio
    procs: harness.Processes
    database_url: str  # straight to PostgreSQL, for the audit
    homes: list[BenchHome]
    http: aiohttp.ClientSession
    reader: AsyncEngine  # straight to PostgreSQL, one connection, for the audit
    twice: bool = False
    tally: Tally = field(default_factory=Tally)
    serve: harness.Server | None = None
    workers: list[harness.Server] = field(default_factory=list)
    _next_home: int = 0
    _started: int = 0

    @property
    def url(self) -> str:
        return self.env["HELPLINE_PUBLIC_URL"]

    # --- processes ------------------------------------------------------------------

    async def start_serve(self) -> None:
        """Start `helpline serve` on the rig's port and wait until it answers /healthz."""
        argv = harness.helpline_argv("serve", "--no-jobs", "--port", str(self.port))

        async def start() -> harness.Server:
            self._started += 1
            serve = self.procs.start(argv, f"serve-{self._started}")
            await harness.wait_ready(self.http, self.url + "/healthz", serve)
            return serve

        self.serve = await _supervised(start)

    async def kill_serve(self) -> None:
        """SIGKILL the web process."""
        assert self.serve is not None
        self.serve.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.serve.proc.wait, harness.STOP_TIMEOUT_S)

    async def start_worker(self) -> None:
        async def start() -> harness.Server:
            self._started += 1
            worker = self.procs.start(harness.helpline_argv("worker"), f"worker-{self._started}")
            await harness.wait_logged(worker, "worker started", "the worker")
            return worker

        self.workers.append(await _supervised(start))

    async def kill_worker(self) -> None:
        """SIGKILL the oldest worker."""
        worker = self.workers.pop(0)
        worker.proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.proc.wait, harness.STOP_TIMEOUT_S)

    async def readyz(self) -> int:
        async with self.http.get(self.url + "/readyz", timeout=WEBHOOK_TIMEOUT) as response:
            return response.status

    # --- traffic ----------------------------------------------------------------------

    async def post(
        self, path: str, form: dict[str, str], limit: aiohttp.ClientTimeout = WEBHOOK_TIMEOUT
    ) -> list[harness.Answer]:
        """POST a signed webhook (twice at once when `twice`); every answer."""
        url = self.url + path
        one = harness.post_signed(self.http, url, form, FAKE_AUTH_TOKEN, limit)
        if not self.twice:
            return [await one]
        again = harness.post_signed(self.http, url, form, FAKE_AUTH_TOKEN, limit)
        return list(await asyncio.gather(one, again))

    async def call(self) -> str:
        """An incoming call; "rota", "fallback", "split" (its two copies answered one by
        each) or "unanswered" (tallied). Every copy must be answered within 3 s."""
        home = self.homes[self.tally.calls % len(self.homes)]
        self.tally.calls += 1
        form = incoming_call(random_sid("CA"), home.phone, home.line, FAKE_ACCOUNT_SID)
        answers = await self.post("/twilio/voice", form, aiohttp.ClientTimeout(CALL_ANSWER_S))
        outcomes = {dialled(answer) for answer in answers}
        if "unanswered" in outcomes:
            first = next(a for a in answers if dialled(a) == "unanswered")
            self.tally.unanswered.append(f"{first.status} {first.error} {first.text[:200]}")
            return "unanswered"
        if len(outcomes) > 1:  # one copy by the rota, its twin (timed out) by the fallback
            self.tally.split += 1
            return "split"
        (outcome,) = outcomes
        if outcome == "fallback":
            self.tally.by_fallback += 1
        else:
            self.tally.by_rota += 1
        return outcome

    async def message(self) -> bool:
        """A help SMS from the next foster home, opening its own conversation (tallied)."""
        if self._next_home >= len(self.homes):
            raise harness.BenchError(
                f"all {len(self.homes)} foster homes have written: ask for more"
            )
        home = self.homes[self._next_home]
        self._next_home += 1
        form = incoming_sms(random_sid("SM"), home.phone, home.line, BODY, FAKE_ACCOUNT_SID)
        answers = await self.post("/twilio/sms", form)
        if all(answer.status == 200 for answer in answers):
            self.tally.messages.append(home)
            return True
        bad = next(a for a in answers if a.status != 200)
        self.tally.refused.append(f"{bad.status} {bad.error} {bad.text[:200]}")
        return False

    async def traffic(self, seconds: float, every_s: float = 0.5) -> None:
        """A call and a message every `every_s` for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.monotonic()
            await asyncio.gather(self.call(), self.message())
            await asyncio.sleep(max(0.0, every_s - (time.monotonic() - started)))


async def _supervised(start: Callable[[], Awaitable[harness.Server]]) -> harness.Server:
    """Start a process again, as a supervisor would, while it exits at start-up for want
    of a PostgreSQL connection (a shared server on a busy machine: not the run's fault)."""
    for _ in range(SUPERVISED_STARTS - 1):
        try:
            return await start()
        except harness.BenchError as error:
            if "too many clients" not in str(error):
                raise
            await asyncio.sleep(2.0)
    return await start()


def dialled(answer: harness.Answer) -> str:
    """Whom a call's TwiML rings first: "rota", "fallback" or "unanswered"."""
    if answer.status != 200:
        return "unanswered"
    try:
        numbers = [n.text for n in ET.fromstring(answer.body).iter("Number")]
    except ET.ParseError:
        return "unanswered"
    if not numbers:
        return "unanswered"
    return "fallback" if numbers[0] == FALLBACK else "rota"


def proxied(url: str, port: int) -> str:
    """`url` with its host and port replaced by the proxy's."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def upstream(url: str, default_port: int) -> tuple[str, int]:
    """Where a database or Redis URL points: host and port."""
    parsed = urlsplit(url)
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


@asynccontextmanager
async def fault_rig(
    database_url: str,
    redis_url: str,
    work: Path,
    *,
    homes: int = 400,
    deadline_s: int = 600,
    workers: int = 1,
    twice: bool = False,
) -> AsyncIterator[Rig]:
    """The service on these (wiped) stores through fault proxies, for the block; `homes`
    foster homes to write from, `deadline_s` the organisation's message deadline."""
    await _spare_connection(lambda: harness.reset_stores(database_url, redis_url))
    text, bench_homes = bench_org(homes, deadline_s)
    check_chains(text, datetime.now(UTC), timedelta(minutes=30))
    org_file = work / "org.toml"
    org_file.write_text(text, encoding="utf-8")
    async with AsyncExitStack() as stack:
        pg = ProxyThread(*upstream(database_url, 5432))
        stack.callback(pg.close)
        rds = ProxyThread(*upstream(redis_url, 6379))
        stack.callback(rds.close)
        twilio = await stack.enter_async_context(running_fake_twilio())
        port = harness.free_port()
        env = harness.service_env(
            os.environ,
            port,
            work / "data",
            proxied(database_url, pg.port),
            proxied_redis(redis_url, rds.port),
        )
        env |= {
            "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
            "HELPLINE_TWILIO_API_BASE": twilio.base_url,
            "HELPLINE_FALLBACK_PHONE": FALLBACK,
        }
        log = work / "setup.log"
        await asyncio.to_thread(
            harness.run_command, harness.helpline_argv("migrate"), env, work, log
        )
        load = harness.helpline_argv("load", str(org_file))
        await asyncio.to_thread(harness.run_command, load, env, work, log)
        procs = stack.enter_context(harness.Processes(env, work, work))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        # Held for the whole run: on a shared server a fresh connection per poll may
        # find none to spare.
        reader = create_async_engine(database_url, pool_size=1, max_overflow=0)
        stack.push_async_callback(reader.dispose)
        await _spare_connection(lambda: _ping(reader))
        rig = Rig(
            work, env, port, pg, rds, twilio, procs, database_url, bench_homes, http, reader, twice
        )
        await rig.start_serve()
        for _ in range(workers):
            await rig.start_worker()
        yield rig


async def _spare_connection(work: Callable[[], Awaitable[None]], wait_s: float = 180.0) -> None:
    """Run `work`, again while PostgreSQL has no connection to spare (a shared server on
    a busy machine: "too many clients" is not a fault of the run)."""
    end = time.monotonic() + wait_s
    while True:
        try:
            await work()
            return
        except DBAPIError as error:
            if "too many clients" not in str(error) or time.monotonic() > end:
                raise
            await asyncio.sleep(2.0)


async def _ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def proxied_redis(url: str, port: int) -> str:
    """A redis:// URL (with its db) pointed at the proxy."""
    rest = url.split("://", 1)[1]
    path = rest.split("/", 1)[1] if "/" in rest else "0"
    return f"redis://127.0.0.1:{port}/{path}"
