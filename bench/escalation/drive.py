"""One run of the escalation benchmark: the service started, the conversations opened, a
worker killed if asked, and the escalations observed."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench import harness
from bench.escalation.org import BenchHome, bench_org, check_chains
from bench.escalation.verdicts import Reader, Stored, verdicts
from helpline.simulator.forms import incoming_sms, random_sid
from helpline.timers import Firing
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN

SMS_PATH = "/twilio/sms"
SANDBOX_TOKEN = SANDBOX_AUTH_TOKEN
RESCUE_S = 130.0  # the minute sweep, twice over
POLL_S = 0.25
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30.0)
KILL_POINTS = ("half-opened", "before-deadline", "escalating")
BODY = "Hei, kan noen ringe oss? Det er litt vanskelig her i kveld."


@dataclass(frozen=True, slots=True)
class Options:
    """What to run, from the command line."""

    conversations: int
    deadline_s: int
    concurrency: int
    stores: harness.Stores
    kill_at: str | None = None  # one of KILL_POINTS, or no kill
    workers: int = 1
    timeout_s: float = 300.0
    logs: Path | None = None


@dataclass
class Timeline:
    """When things happened, in epoch seconds (the services' clock is the same)."""

    first_post: float = 0.0
    last_post: float = 0.0
    all_escalated: float | None = None
    observed_until: float = 0.0
    killed: float | None = None
    worker_back: float | None = None


@dataclass
class Opening:
    """The webhook side: latencies (s) and failures."""

    latencies: list[float] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)  # home id -> epoch of the answer
    failures: int = 0
    first_error: str = ""
    done: int = 0


@dataclass(frozen=True, slots=True)
class Observed:
    """What one run saw: how many conversations it opened, the webhook side, what the
    service stored and when things happened."""

    total: int
    opening: Opening
    stored: Stored
    timeline: Timeline
    firings: list[Firing] = field(default_factory=list)  # the timer's journal


async def open_conversations(
    base_url: str,
    homes: Sequence[BenchHome],
    concurrency: int,
    opening: Opening,
    timeline: Timeline,
) -> None:
    """One signed SMS per home, from `concurrency` clients at once, into `opening`."""
    url = base_url + SMS_PATH
    opening.latencies = [0.0] * len(homes)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def text(i: int) -> None:
            home = homes[i]
            form = incoming_sms(random_sid("SM"), home.phone, home.line, BODY)
            answer = await harness.post_signed(session, url, form, SANDBOX_TOKEN, REQUEST_TIMEOUT)
            opening.latencies[i] = answer.seconds
            opening.answered[home.id] = time.time()  # its deadline was on the timer by then
            opening.done += 1
            if answer.status != 200:
                opening.failures += 1
                detail = f"{answer.error}: {answer.text}" if answer.error else answer.text
                opening.first_error = opening.first_error or f"HTTP {answer.status}: {detail[:300]}"

        timeline.first_post = time.time()
        await harness.fan_out(len(homes), concurrency, text)
        timeline.last_post = time.time()


async def _time_to_kill(
    options: Options, opening: Opening, reader: Reader, timeline: Timeline, total: int
) -> bool:
    if options.kill_at == "half-opened":
        return opening.done * 2 >= total
    if options.kill_at == "before-deadline":
        first_due = timeline.first_post + options.deadline_s
        return timeline.first_post > 0 and time.time() >= first_due - 1.0
    return await reader.escalated() * 2 >= total  # "escalating": jobs are in flight


def start_worker(procs: harness.Processes, number: int) -> harness.Server:
    """Start worker number `number` (its log is worker-NUMBER.log)."""
    return procs.start(harness.helpline_argv("worker"), f"worker-{number}")


async def wait_worker(worker: harness.Server) -> None:
    await harness.wait_logged(worker, "worker started", "the worker")


async def killer(
    options: Options,
    procs: harness.Processes,
    worker: list[harness.Server],
    opening: Opening,
    reader: Reader,
    timeline: Timeline,
    total: int,
) -> None:
    """SIGKILL the first worker at the chosen point and start a new one at once."""
    if options.kill_at is None:
        return
    while True:  # polled: the trigger is a count in the database, or the clock
        if await _time_to_kill(options, opening, reader, timeline, total):
            break
        await asyncio.sleep(0.02 if options.kill_at != "escalating" else 0.1)
    worker[0].proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(worker[0].proc.wait, harness.STOP_TIMEOUT_S)
    timeline.killed = time.time()
    worker[0] = start_worker(procs, options.workers + 1)
    await wait_worker(worker[0])
    timeline.worker_back = time.time()


async def observe(reader: Reader, options: Options, timeline: Timeline, total: int) -> Stored:
    """Poll until every conversation escalated, then wait one more deadline after the
    last escalation (or give up when the rescue window closed); what was stored then."""
    limit = timeline.last_post + options.deadline_s + RESCUE_S
    while time.time() < limit:
        if await reader.escalated() >= total:
            timeline.all_escalated = time.time()
            break
        await asyncio.sleep(POLL_S)
    if timeline.all_escalated is not None:
        escalated = [v.escalated_at for v in verdicts(await reader.read(), options.deadline_s)]
        last = max((at for at in escalated if at is not None), default=time.time())
        await asyncio.sleep(max(0.0, last + options.deadline_s - time.time()))
    stored = await reader.read()
    timeline.observed_until = time.time()
    return stored


async def read_journal(redis_url: str) -> list[Firing]:
    """Every run the timer recorded (`helpline.timers.journal`)."""
    import redis.asyncio as aioredis

    from helpline import timers

    client = aioredis.from_url(redis_url)
    try:
        return (await timers.journal(client))[0]
    finally:
        await client.aclose()


async def drive(
    options: Options,
    setup: harness.Setup,
    homes: Sequence[BenchHome],
    database_url: str,
    timeline: Timeline,
) -> tuple[Opening, Stored]:
    """Start serve and a worker, open the conversations, kill if asked, observe."""
    procs, base_url, port = setup.procs, setup.url, str(setup.port)
    serve = procs.start(harness.helpline_argv("serve", "--no-jobs", "--port", port), "serve")
    worker = [start_worker(procs, n + 1) for n in range(options.workers)]
    async with aiohttp.ClientSession() as session:
        await harness.wait_ready(session, base_url + "/readyz", serve)
    for started in worker:
        await wait_worker(started)
    reader = Reader(database_url)
    opening = Opening()
    kill = asyncio.create_task(
        killer(options, procs, worker, opening, reader, timeline, len(homes))
    )
    try:
        await open_conversations(base_url, homes, options.concurrency, opening, timeline)
        stored = await observe(reader, options, timeline, len(homes))
        if kill.done():
            kill.result()  # a failed restart is an error of the run
    finally:
        kill.cancel()
        await asyncio.gather(kill, return_exceptions=True)
        await reader.close()
    for server, name in ((serve, "serve"), *((w, "a worker") for w in worker)):
        if server.proc.poll() is not None:
            raise harness.BenchError(f"{name} exited with {server.proc.returncode} during the run")
    return opening, stored


def run(options: Options) -> Observed:
    """Set up, drive and observe the service, stop it (whatever happens)."""
    try:
        return _run(options)
    except TimeoutError:
        raise harness.BenchError(f"the run took over {options.timeout_s:g} s") from None


def _run(options: Options) -> Observed:
    from helpline.embedded_redis import EmbeddedRedis
    from helpline.settings import Settings

    give_up = time.monotonic() + options.timeout_s

    def left() -> float:
        """Seconds left of `--timeout`, the bound of the whole run."""
        seconds = give_up - time.monotonic()
        if seconds <= 0:
            raise TimeoutError
        return seconds

    text, homes = bench_org(options.conversations, options.deadline_s)
    check_chains(text, datetime.now(UTC), timedelta(seconds=options.timeout_s))
    prefix, stores = "bench-escalation-", options.stores
    with harness.service_setup(prefix, options.logs, stores, own_redis=True, left=left) as setup:
        org_file = setup.work / "org.toml"
        org_file.write_text(text, encoding="utf-8")
        setup.helpline("load", str(org_file))
        settings = Settings.from_mapping(setup.env)
        timeline = Timeline()
        opening, stored = asyncio.run(
            asyncio.wait_for(drive(options, setup, homes, settings.database_url, timeline), left())
        )
        redis_url = settings.redis_url or EmbeddedRedis(settings.data_dir).url
        firings = asyncio.run(asyncio.wait_for(read_journal(redis_url), left()))
    return Observed(len(homes), opening, stored, timeline, firings)
