"""One run of the broadcast benchmark: the service on the fakes, the broadcast made, help
messages throughout, a worker killed midway, and what the fakes and the database saw."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench import harness
from bench.escalation.org import bench_phones
from helpline.commands.org import demo_text
from helpline.db.models import OutboxRow, TelegramLinkRow
from helpline.settings import Settings
from helpline.simulator.forms import incoming_sms, random_sid
from rota.orgfile import parse_org
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, running_fake_telegram
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)
from tests.fakes.twilio_callbacks import StatusCallbacks

BODY = "Velkommen til nettverkstreff i Asker torsdag kl. 18! Ta gjerne med barna."
HELP_BODY = "Hei, kan noen ringe oss? Det er vanskelig her i kveld."
ASKER_LINE = "+4767000001"
GROUP = "benk"
FIRST_CHAT = 900_000_000
FINAL = ("sent", "delivered", "undelivered", "failed", "opted_out", "sandbox")
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30.0)
SECRET = "bench-webhook-secret"
POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class Options:
    """What to run, from the command line."""

    recipients: int
    rate: int
    telegram_share: float
    helps: int
    kill: bool
    stores: harness.Stores
    callback_delay: float = 0.2
    timeout_s: float = 900.0
    logs: Path | None = None


@dataclass(frozen=True, slots=True)
class Home:
    id: str
    phone: str
    chat: int | None  # linked on Telegram


@dataclass
class Observed:
    """What one run saw."""

    homes: list[Home]
    helpers: list[Home]
    warm: Home  # writes once before the broadcast, unmeasured
    twilio: list[tuple[float, str, str, str]] = field(default_factory=list)  # at, to, from, body
    telegram: list[tuple[float, int, str]] = field(default_factory=list)  # at, chat, text
    rows: list[tuple[str, str, str, int, int | None]] = field(default_factory=list)
    help_posts: list[tuple[str, float, int]] = field(default_factory=list)  # phone, at, HTTP
    created_s: float = 0.0
    killed_at: float | None = None
    killed: int | None = None  # which worker (index)
    finished: bool = False
    rss_kb: dict[str, int] = field(default_factory=dict)


def bench_org(recipients: int, helps: int) -> tuple[str, list[str], list[str]]:
    """The demo organisation with `recipients` foster homes in a nettverk (the audience)
    and `helps` more that write for help; the file and both homes' phones."""
    text = demo_text()
    org = parse_org(text)
    reserved = {
        org.helpline.fallback_phone,
        *(p.phone for p in org.people),
        *(n for k in org.kommuner for n in k.numbers),
        *(t.duty_phone for t in org.teams if t.duty_phone),
        *(n for h in org.foster_homes for n in h.phones),
    }
    phones = bench_phones(recipients + helps, reserved)
    entries = [
        f'\n[[foster_home]]\nid = "{_id(i)}"\nname = "Benkfamilie {i}"\n'
        f'kommune = "asker"\nphones = ["{phone}"]\n'
        for i, phone in enumerate(phones)
    ]
    members = ", ".join(f'"{_id(i)}"' for i in range(recipients))
    group = (
        f'\n[[group]]\nid = "{GROUP}"\nname = "Benkens nettverk"\nkind = "nettverk"\n'
        f'kommune = "asker"\nmembers = [{members}]\nstaff = ["kari"]\n'
    )
    return (
        text.rstrip("\n") + "\n" + "".join(entries) + group,
        phones[:recipients],
        phones[recipients:],
    )


def _id(i: int) -> str:
    return f"benk-{i:05d}"


async def link_telegram(
    engine: AsyncEngine, count: int, share: float, at: float
) -> list[int | None]:
    """Link every n-th audience home (n = 1/share) to a Telegram chat; the chat of each."""
    every = max(1, round(1 / share)) if share > 0 else 0
    chats = [FIRST_CHAT + i if every and i % every == 0 else None for i in range(count)]
    when = datetime.fromtimestamp(at, UTC)
    async with engine.begin() as connection:
        rows = [
            {
                "user_id": c,
                "chat_id": c,
                "kind": "foster_home",
                "target_id": _id(i),
                "linked_at": when,
            }
            for i, c in enumerate(chats)
            if c is not None
        ]
        if rows:
            await connection.execute(insert(TelegramLinkRow), rows)
    return chats


def channel_env(
    env: dict[str, str], twilio: FakeTwilio, telegram: FakeTelegram, rate: int
) -> dict[str, str]:
    """The service's environment with live channels on the fakes."""
    return {
        **env,
        "TWILIO_ACCOUNT_SID": FAKE_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": FAKE_AUTH_TOKEN,
        "HELPLINE_TWILIO_API_BASE": twilio.base_url,
        "TELEGRAM_BOT_TOKEN": FAKE_BOT_TOKEN,
        "HELPLINE_TELEGRAM_API_BASE": telegram.base_url,
        "HELPLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HELPLINE_SMS_RATE": str(rate),
    }


async def make_broadcast(env: dict[str, str], cwd: Path) -> int:
    """`helpline broadcast send` to the audience; the broadcast's id."""
    argv = harness.helpline_argv(
        "broadcast", "send", "--to", f"group:{GROUP}", "--text", BODY, "--json"
    )
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise harness.BenchError(f"broadcast send exited {proc.returncode}: {err.decode()[-800:]}")
    return int(json.loads(out)["id"])


async def send_helps(url: str, helpers: Sequence[Home], every_s: float, seen: Observed) -> None:
    """One signed SMS for help from each helper, `every_s` apart."""
    async with aiohttp.ClientSession() as session:
        for home in helpers:
            form = incoming_sms(random_sid("SM"), home.phone, ASKER_LINE, HELP_BODY)
            at = time.time()
            answer = await harness.post_signed(
                session, url + "/twilio/sms", form, FAKE_AUTH_TOKEN, REQUEST_TIMEOUT
            )
            seen.help_posts.append((home.phone, at, answer.status))
            await asyncio.sleep(max(0.0, every_s - (time.time() - at)))


async def warm_up(url: str, home: Home) -> None:
    """One help SMS, answered, before anything is measured."""
    form = incoming_sms(random_sid("SM"), home.phone, ASKER_LINE, HELP_BODY)
    async with aiohttp.ClientSession() as session:
        answer = await harness.post_signed(
            session, url + "/twilio/sms", form, FAKE_AUTH_TOKEN, REQUEST_TIMEOUT
        )
    if answer.status != 200:
        raise harness.BenchError(f"the warm-up SMS was answered {answer.status}: {answer.text}")


async def killer(
    workers: Sequence[harness.Server],
    twilio: FakeTwilio,
    telegram: FakeTelegram,
    half: int,
    seen: Observed,
) -> None:
    """SIGKILL a worker once half the audience has been sent the broadcast: the one using
    the most CPU just then, which is the one sending (saq often hands it every lane)."""
    for _ in range(10**7):  # polled: the trigger is what the fakes received
        if len(twilio.created) + len(telegram.calls) >= half:
            break
        await asyncio.sleep(0.05)
    before = [cpu_ticks(w.proc.pid) for w in workers]
    await asyncio.sleep(0.5)
    used = [cpu_ticks(w.proc.pid) - ticks for w, ticks in zip(workers, before, strict=True)]
    n = used.index(max(used))
    victim = workers[n]
    seen.rss_kb[f"worker-{n + 1} (killed)"] = rss_kb(victim.proc.pid)
    victim.proc.send_signal(signal.SIGKILL)
    seen.killed_at, seen.killed = time.time(), n
    await asyncio.to_thread(victim.proc.wait, harness.STOP_TIMEOUT_S)


def cpu_ticks(pid: int) -> int:
    """User and system CPU time a live process has used, in clock ticks; 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


async def unsettled(engine: AsyncEngine, broadcast_id: int) -> int:
    """Rows of the broadcast not in a final state yet."""
    async with engine.connect() as connection:
        count = await connection.scalar(
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.broadcast_id == broadcast_id, OutboxRow.status.not_in(FINAL))
        )
    return int(count or 0)


async def stored_rows(
    engine: AsyncEngine, broadcast_id: int
) -> list[tuple[str, str, str, int, int | None]]:
    """(channel, to, status, attempts, error_code) of every row of the broadcast."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                OutboxRow.channel,
                OutboxRow.to,
                OutboxRow.status,
                OutboxRow.attempts,
                OutboxRow.error_code,
            ).where(OutboxRow.broadcast_id == broadcast_id)
        )
    return [tuple(row) for row in rows]  # type: ignore[misc]  # five columns, as selected


def rss_kb(pid: int) -> int:
    """The peak resident set (VmHWM) of a live process, in kB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


async def _drive(
    options: Options, setup: harness.Setup, seen: Observed, engine: AsyncEngine
) -> None:
    """Serve, two workers, the broadcast, help throughout, the kill, until all settled."""
    async with (
        running_fake_twilio() as twilio,
        running_fake_telegram() as telegram,
        aiohttp.ClientSession() as session,
    ):
        callbacks = StatusCallbacks(twilio, session)
        callbacks.automatic(("sent", "delivered"), options.callback_delay)
        env = channel_env(setup.env, twilio, telegram, options.rate)
        procs, port = setup.procs, str(setup.port)
        serve = procs.start(
            harness.helpline_argv("serve", "--no-jobs", "--port", port), "serve", env=env
        )
        workers = [
            procs.start(harness.helpline_argv("worker"), f"worker-{n}", env=env) for n in (1, 2)
        ]
        await harness.wait_ready(session, setup.url + "/readyz", serve)
        for worker in workers:
            await harness.wait_logged(worker, "worker started", "a worker")
        await warm_up(setup.url, seen.warm)  # the first SMS a process sends loads twilio's client
        started = time.time()
        broadcast_id = await make_broadcast(env, setup.work)
        seen.created_s = time.time() - started
        sms = sum(1 for h in seen.homes if h.chat is None)
        expected_s = max(sms / options.rate, 1.0)
        every_s = expected_s / max(1, len(seen.helpers))
        helps = asyncio.create_task(send_helps(setup.url, seen.helpers, every_s, seen))
        kill = (
            asyncio.create_task(killer(workers, twilio, telegram, len(seen.homes) // 2, seen))
            if options.kill
            else None
        )
        try:
            while time.time() - started < options.timeout_s:
                if await unsettled(engine, broadcast_id) == 0 and helps.done():
                    seen.finished = True
                    break
                await asyncio.sleep(POLL_S)
            await asyncio.sleep(options.callback_delay * 3)
            await callbacks.drain()
        finally:
            helps.cancel()
            if kill is not None:
                kill.cancel()
            await asyncio.gather(helps, *([kill] if kill else []), return_exceptions=True)
        seen.rss_kb["serve"] = rss_kb(serve.proc.pid)
        seen.rss_kb.update(
            {
                f"worker-{n}": rss_kb(w.proc.pid)
                for n, w in enumerate(workers, 1)
                if w.proc.poll() is None
            }
        )
        seen.twilio = [
            (r.at, r.form["To"], r.form["From"], r.form["Body"])
            for r in twilio.messages
            if r.accepted
        ]
        seen.telegram = [
            (c.at, int(c.params["chat_id"]), str(c.params["text"]))
            for c in telegram.calls_to("sendMessage")
            if c.ok
        ]
        seen.rows = await stored_rows(engine, broadcast_id)


def run(options: Options) -> Observed:
    """Set up, drive and observe the service, stop it (whatever happens)."""
    with harness.service_setup(
        "bench-broadcast-", options.logs, options.stores, own_redis=True
    ) as setup:
        text, phones, help_phones = bench_org(options.recipients, options.helps + 1)
        org_file = setup.work / "org.toml"
        org_file.write_text(text, encoding="utf-8")
        setup.helpline("load", str(org_file))
        database_url = Settings.from_mapping(setup.env).database_url

        async def go() -> Observed:
            engine = create_async_engine(database_url)
            try:
                share = options.telegram_share
                chats = await link_telegram(engine, len(phones), share, time.time())
                pairs = enumerate(zip(phones, chats, strict=True))
                homes = [Home(_id(i), phone, chat) for i, (phone, chat) in pairs]
                helpers = [Home(f"help-{i}", p, None) for i, p in enumerate(help_phones)]
                seen = Observed(homes, helpers[1:], helpers[0])
                drive = _drive(options, setup, seen, engine)
                await asyncio.wait_for(drive, options.timeout_s + 120)
                return seen
            finally:
                await engine.dispose()

        return asyncio.run(go())
