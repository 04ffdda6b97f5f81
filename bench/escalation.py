"""Benchmark message escalation: 1,000 conversations at once, nobody answers.

    .venv/bin/python -m bench.escalation [--conversations 1000] [--deadline 5] [--json]
        [--embedded] [--kill-worker [--kill-at half-opened|before-deadline|escalating]]
        [--workers 1] [--concurrency 50] [--database-url URL] [--redis-url URL]
        [--timeout 300] [--logs DIR]

The service runs as processes of its own, in sandbox mode (no Twilio credentials: the
outbox is the delivery): `helpline serve --no-jobs` for the webhooks and `helpline worker`
for the durable deadline jobs. Stores: PostgreSQL and Redis (default: database `test` and
Redis db 13 on 127.0.0.1, both WIPED first; `--database-url` must name a PostgreSQL
database for the same reason) or, with `--embedded`, SQLite and the embedded
Redis in a temporary directory (the benchmark starts that Redis itself, so it owns and
stops it whichever service process is killed).

The organisation is the demo one (`helpline/demo.toml`) with `message_deadline` set to
`--deadline` seconds and one extra foster home per conversation (`bench-0001`, ... with
unique Norwegian mobile numbers, spread over the demo kommuner). Each conversation is one
signed `POST /twilio/sms` from a different foster home with its own MessageSid, sent by
`--concurrency` clients at once.

How lateness and "exactly once" are measured, from the database after the run:

* A conversation's first deadline falls at `started_at + deadline`: `started_at` is the
  instant the webhook opened it, the same instant its `last_notified_at` got when the first
  staff member was notified.
* Its escalation is the first `outbox` row of kind "notify" to the second person of its
  frozen chain (`message_plan`); lateness = that row's `created_at` - the due time. The
  demo chains never repeat a phone (checked before the run), so rows to that phone are
  exactly the step-2 notifications: a doubled escalation shows as a second such row, and
  the later step-3 notification (to the third person) is never mistaken for one.
* Observation ends when every conversation has escalated and one more deadline has passed
  since the last escalation (a duplicate run of a job would have shown by then), or at the
  latest after the saq sweep (60 s) and `sweep_conversations` (every minute) would have
  rescued a lost job. Escalated exactly once = one such row per conversation then.

Lateness is split into the part the deadline job's `scheduled` adds by rounding the due
time up to whole seconds ("ceil slack", as `helpline.effects.schedule_deadline` does) and
the rest: the saq scheduler's 1 s poll, the queue and the job itself ("after scheduled").
Should the rounding go, "ceil slack" no longer applies and the total is what counts.

`--kill-worker` SIGKILLs the (first) worker once (by default when half the conversations
are open; `--kill-at before-deadline` one second before the first deadline; `--kill-at
escalating` when half of them have escalated, with jobs in flight) and starts a new one at
once. `--workers N` runs N worker processes on the one saq queue (default 1).

Target: p99 lateness < 2 s; a missed target is marked MISSED, not fatal. Exit status 2
when a conversation escalated zero times or more than once, a webhook failed, or the
service could not be set up; otherwise 0. Everything runs on 127.0.0.1 and stops within
`--timeout` seconds (default 300); the service processes are always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import sys
import time
from collections.abc import Collection, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.harness import (
    STOP_TIMEOUT_S,
    BenchError,
    Columns,
    Figure,
    Processes,
    Server,
    add_store_options,
    backend,
    fan_out,
    figure_table,
    figures_document,
    free_port,
    guarded,
    helpline_argv,
    percentile,
    platform_meta,
    post_signed,
    processes,
    reset_stores,
    run_command,
    service_env,
    store_urls,
    stores,
    wait_logged,
    wait_ready,
    workspace,
)
from helpline.commands.org import demo_text
from helpline.simulator.forms import incoming_sms, random_sid
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN
from rota.engine import Rota
from rota.orgfile import parse_org
from rota.phones import InvalidPhone, normalise_phone

SMS_PATH = "/twilio/sms"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
P99_TARGET_S = 2.0
SANDBOX_TOKEN = SANDBOX_AUTH_TOKEN
BENCH_HOME_PREFIX = "bench-"
FIRST_BENCH_NUMBER = 96_000_000  # +4796000000 upwards: Norwegian mobile numbers
RESCUE_S = 130.0  # saq's sweep (60 s job timeout, 60 s period) or the minute sweep
POLL_S = 0.25
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30.0)
KILL_POINTS = ("half-opened", "before-deadline", "escalating")
COLUMNS = Columns(label=46, value=10, unit=5)
BODY = "Hei, kan noen ringe oss? Det er litt vanskelig her i kveld."


@dataclass(frozen=True, slots=True)
class BenchHome:
    """A generated foster home: who writes, and which helpline number they text."""

    id: str
    phone: str
    kommune: str
    line: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one conversation's first deadline went."""

    contact_id: int
    due: float  # epoch seconds: started_at + deadline
    escalations: int  # step-2 notifications seen
    escalated_at: float | None  # created_at of the first of them

    @property
    def lateness(self) -> float | None:
        return None if self.escalated_at is None else self.escalated_at - self.due

    @property
    def ceil_slack(self) -> float:
        """What rounding the job's `scheduled` up to whole seconds adds."""
        return math.ceil(self.due) - self.due


# --- pure parts --------------------------------------------------------------------------


def bench_phones(count: int, reserved: Collection[str]) -> list[str]:
    """`count` distinct valid Norwegian mobile numbers (E.164), none of them `reserved`."""
    phones: list[str] = []
    for n in range(FIRST_BENCH_NUMBER, 100_000_000):
        if len(phones) == count:
            return phones
        phone = f"+47{n}"
        if phone in reserved:
            continue
        try:
            if normalise_phone(phone) == phone:
                phones.append(phone)
        except InvalidPhone:
            continue
    if len(phones) == count:
        return phones
    raise ValueError(f"cannot make {count:,} numbers from +47{FIRST_BENCH_NUMBER} upwards")


def with_deadline(text: str, deadline_s: int) -> str:
    """`text` (a rota file) with `message_deadline` set to `deadline_s` seconds."""
    if deadline_s < 1:
        raise ValueError("the deadline must be at least 1 s")
    pattern = re.compile(r'^message_deadline\s*=\s*"[^"]*"', re.MULTILINE)
    changed, n = pattern.subn(f'message_deadline = "{deadline_s}s"', text)
    if n != 1:
        raise ValueError(f"expected one message_deadline line, found {n}")
    return changed


def bench_org(count: int, deadline_s: int, base: str | None = None) -> tuple[str, list[BenchHome]]:
    """The rota file to load: `base` (the demo organisation) with the deadline set and
    `count` extra foster homes, round-robin over its kommuner; and those homes."""
    text = with_deadline(demo_text() if base is None else base, deadline_s)
    org = parse_org(text)
    reserved = {org.helpline.fallback_phone}
    reserved |= {p.phone for p in org.people}
    reserved |= {t.duty_phone for t in org.teams if t.duty_phone}
    reserved |= {n for k in org.kommuner for n in k.numbers}
    reserved |= {n for h in org.foster_homes for n in h.phones}
    kommuner = [k for k in org.kommuner if k.numbers]
    if not kommuner:
        raise ValueError("the organisation has no kommune with a helpline number")
    width = max(4, len(str(count)))
    homes = [
        BenchHome(f"{BENCH_HOME_PREFIX}{i + 1:0{width}d}", phone, k.id, k.numbers[0])
        for i, phone in enumerate(bench_phones(count, reserved))
        for k in [kommuner[i % len(kommuner)]]
    ]
    entries = [_home_entry(h) for h in homes]
    return text.rstrip("\n") + "\n" + "".join(entries), homes


def _home_entry(home: BenchHome) -> str:
    number = home.id.removeprefix(BENCH_HOME_PREFIX)
    return (
        f'\n[[foster_home]]\nid = "{home.id}"\nname = "Benkfamilie {number}"\n'
        f'kommune = "{home.kommune}"\nphones = ["{home.phone}"]\n'
    )


def check_chains(text: str, at: datetime, within: timedelta) -> None:
    """Refuse an organisation whose chains could repeat a phone while the run lasts: the
    analysis tells step 2 from step 3 by the recipient."""
    org = parse_org(text)
    rota = Rota(org)
    for kommune in org.kommuner:
        for instant in (at, at + within):
            phones = [entry.phone for entry in rota.on_duty(kommune.id, instant)]
            if len(phones) < 2 or len(set(phones)) != len(phones):
                raise BenchError(
                    f"the chain of {kommune.id} at {instant:%H:%M} has {len(phones)} steps "
                    f"or repeats a phone: cannot tell escalations apart"
                )


def judge_conversation(
    contact_id: int,
    started_at: float,
    deadline_s: float,
    second_phone: str,
    notifications: Sequence[tuple[float, str]],
) -> Verdict:
    """The verdict on one conversation from its "notify" rows (created_at, to): the
    escalation is a notification to the second person of its chain."""
    to_second = sorted(at for at, to in notifications if to == second_phone)
    return Verdict(
        contact_id,
        started_at + deadline_s,
        len(to_second),
        to_second[0] if to_second else None,
    )


@dataclass(frozen=True, slots=True)
class Summary:
    """Lateness quantiles (s) of the escalated conversations, and the counts."""

    conversations: int
    once: int
    missing: int
    doubled: int
    early: int
    p50: float
    p90: float
    p99: float
    max: float
    ceil_p50: float
    ceil_max: float
    after_p50: float
    after_p99: float
    after_max: float


def summarise(verdicts: Sequence[Verdict]) -> Summary:
    """Quantiles over the conversations that escalated, and how many did not once."""
    late = sorted(v.lateness for v in verdicts if v.lateness is not None)
    slack = sorted(v.ceil_slack for v in verdicts if v.lateness is not None)
    after = sorted(v.lateness - v.ceil_slack for v in verdicts if v.lateness is not None)
    nan = float("nan")

    def q(values: Sequence[float], at: float) -> float:
        return percentile(values, at) if values else nan

    return Summary(
        conversations=len(verdicts),
        once=sum(v.escalations == 1 for v in verdicts),
        missing=sum(v.escalations == 0 for v in verdicts),
        doubled=sum(v.escalations > 1 for v in verdicts),
        early=sum(1 for x in late if x < 0),
        p50=q(late, 0.5),
        p90=q(late, 0.9),
        p99=q(late, 0.99),
        max=late[-1] if late else nan,
        ceil_p50=q(slack, 0.5),
        ceil_max=slack[-1] if slack else nan,
        after_p50=q(after, 0.5),
        after_p99=q(after, 0.99),
        after_max=after[-1] if after else nan,
    )


# --- reading the database ----------------------------------------------------------------


@dataclass
class Stored:
    """What the service stored for the benchmark's conversations."""

    contacts: dict[int, tuple[float, str]]  # id -> (started_at epoch, second phone)
    notifications: dict[int, list[tuple[float, str]]]  # id -> [(created_at, to)]
    moved: int  # "moved" notices: a shift change reassigned conversations mid-run


class Reader:
    """Reads contacts and "notify" rows with the service's own models."""

    def __init__(self, database_url: str) -> None:
        from helpline.db.engine import make_engine

        self.engine = make_engine(database_url)

    async def escalated(self) -> int:
        """Conversations with two or more "notify" rows (a cheap progress count)."""
        from sqlalchemy import func, select

        from helpline.db.models import OutboxRow

        many = (
            select(OutboxRow.contact_id)
            .where(OutboxRow.kind == "notify")
            .group_by(OutboxRow.contact_id)
            .having(func.count() >= 2)
            .subquery()
        )
        async with self.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(many)) or 0)

    async def read(self) -> Stored:
        from sqlalchemy import func, select

        from helpline.db.models import ContactRow, OutboxRow
        from routing.conversations import MessagePlan

        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(ContactRow.id, ContactRow.started_at, ContactRow.message_plan).where(
                        ContactRow.foster_home_id.like(f"{BENCH_HOME_PREFIX}%")
                    )
                )
            ).all()
            notify = (
                await connection.execute(
                    select(OutboxRow.contact_id, OutboxRow.created_at, OutboxRow.to).where(
                        OutboxRow.kind == "notify"
                    )
                )
            ).all()
            moved = await connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "moved")
            )
        contacts: dict[int, tuple[float, str]] = {}
        for contact_id, started_at, plan in rows:
            steps = MessagePlan.from_json(plan).steps if plan else ()
            contacts[contact_id] = (
                started_at.timestamp(),
                steps[1].phone if len(steps) > 1 else "",
            )
        notifications: dict[int, list[tuple[float, str]]] = {c: [] for c in contacts}
        for owner, created_at, to in notify:
            if owner is not None and owner in notifications:
                notifications[owner].append((created_at.timestamp(), to))
        return Stored(contacts, notifications, int(moved or 0))

    async def close(self) -> None:
        await self.engine.dispose()


# --- one run -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    """What to run, from the command line."""

    conversations: int
    deadline_s: int
    concurrency: int
    database_url: str | None  # None: SQLite in the data directory (embedded)
    redis_url: str | None  # None: the embedded Redis
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
    failures: int = 0
    first_error: str = ""
    done: int = 0


@dataclass
class Outcome:
    """Everything one benchmark run reports."""

    figures: list[Figure]
    summary: Summary
    bad: list[Verdict]
    opening: Opening
    meta: dict[str, object]


async def open_conversations(
    base_url: str, homes: Sequence[BenchHome], concurrency: int, opening: Opening,
    timeline: Timeline,
) -> None:  # fmt: skip
    """One signed SMS per home, from `concurrency` clients at once, into `opening`."""
    url = base_url + SMS_PATH
    opening.latencies = [0.0] * len(homes)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def text(i: int) -> None:
            home = homes[i]
            form = incoming_sms(random_sid("SM"), home.phone, home.line, BODY)
            answer = await post_signed(session, url, form, SANDBOX_TOKEN, REQUEST_TIMEOUT)
            opening.latencies[i] = answer.seconds
            opening.done += 1
            if answer.status != 200:
                opening.failures += 1
                detail = f"{answer.error}: {answer.text}" if answer.error else answer.text
                opening.first_error = opening.first_error or f"HTTP {answer.status}: {detail[:300]}"

        timeline.first_post = time.time()
        await fan_out(len(homes), concurrency, text)
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


def start_worker(procs: Processes, number: int) -> Server:
    """Start worker number `number` (its log is worker-NUMBER.log)."""
    return procs.start(helpline_argv("worker"), f"worker-{number}")


async def wait_worker(worker: Server) -> None:
    await wait_logged(worker, "worker started", "the worker")


async def killer(
    options: Options, procs: Processes, worker: list[Server],
    opening: Opening, reader: Reader, timeline: Timeline, total: int,
) -> None:  # fmt: skip
    """SIGKILL the first worker at the chosen point and start a new one at once."""
    if options.kill_at is None:
        return
    while True:  # polled: the trigger is a count in the database, or the clock
        if await _time_to_kill(options, opening, reader, timeline, total):
            break
        await asyncio.sleep(0.02 if options.kill_at != "escalating" else 0.1)
    worker[0].proc.send_signal(signal.SIGKILL)
    await asyncio.to_thread(worker[0].proc.wait, STOP_TIMEOUT_S)
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


async def drive(
    options: Options, procs: Processes, env: dict[str, str], homes: Sequence[BenchHome],
    database_url: str, timeline: Timeline,
) -> tuple[Opening, Stored]:  # fmt: skip
    """Start serve and a worker, open the conversations, kill if asked, observe."""
    base_url = env["HELPLINE_PUBLIC_URL"]
    port = base_url.rsplit(":", 1)[1]
    serve = procs.start(helpline_argv("serve", "--no-jobs", "--port", port), "serve")
    worker = [start_worker(procs, n + 1) for n in range(options.workers)]
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base_url + "/readyz", serve)
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
            raise BenchError(f"{name} exited with {server.proc.returncode} during the run")
    return opening, stored


def run(options: Options) -> Outcome:
    """Set up, drive and observe the service, stop it (whatever happens); the outcome."""
    try:
        return _run(options)
    except TimeoutError:
        raise BenchError(f"the run took over {options.timeout_s:g} s") from None


def _run(options: Options) -> Outcome:
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
    with workspace("bench-escalation-", options.logs) as (work, logs), ExitStack() as stack:
        data = work / "data"
        env = service_env(os.environ, free_port(), data, options.database_url, options.redis_url)
        database_url = Settings.from_mapping(env).database_url
        if options.redis_url is None:  # we own the embedded Redis: no service process does
            embedded = EmbeddedRedis(data)
            embedded.start()
            stack.callback(embedded.stop)
        elif options.database_url is not None:
            reset = reset_stores(options.database_url, options.redis_url)
            stores(asyncio.wait_for(reset, left()), "reset the stores")
        setup_log = logs / "setup.log"
        run_command(helpline_argv("migrate"), env, work, setup_log, left())
        org_file = work / "org.toml"
        org_file.write_text(text, encoding="utf-8")
        run_command(helpline_argv("load", str(org_file)), env, work, setup_log, left())
        procs = stack.enter_context(processes(env, work, logs))
        timeline = Timeline()
        opening, stored = asyncio.run(
            asyncio.wait_for(drive(options, procs, env, homes, database_url, timeline), left())
        )
    return outcome(options, len(homes), opening, stored, timeline)


def verdicts(stored: Stored, deadline_s: float) -> list[Verdict]:
    """One verdict per stored conversation."""
    return [
        judge_conversation(c, started, deadline_s, second, stored.notifications[c])
        for c, (started, second) in sorted(stored.contacts.items())
    ]


def outcome(
    options: Options, total: int, opening: Opening, stored: Stored, timeline: Timeline
) -> Outcome:
    """The figures of one run."""
    judged = verdicts(stored, options.deadline_s)
    s = summarise(judged)
    ms = sorted(x * 1e3 for x in opening.latencies)
    open_s = timeline.last_post - timeline.first_post
    n = f"{total:,}"
    target = f"< {P99_TARGET_S:g} s"
    after = "  after scheduled (poll+queue+job)"
    figures = [
        Figure("conversations", "conversations opened", total, ""),
        Figure("open_s", "time to open them all", open_s, "s"),
        Figure("open_rate", "  opening rate", total / open_s if open_s > 0 else 0.0, "/s"),
        Figure("webhook_p50_ms", "  POST /twilio/sms p50", percentile(ms, 0.5), "ms"),
        Figure("webhook_p99_ms", "  POST /twilio/sms p99", percentile(ms, 0.99), "ms"),
        Figure("failed_posts", "failed webhook posts", opening.failures, "", "0",
               opening.failures == 0),
        Figure("stored", "conversations stored", len(judged), "", n, len(judged) == total),
        Figure("escalated_once", "escalated exactly once to step 2", s.once, "", n,
               s.once == total),
        Figure("missing", "  not escalated", s.missing, "", "0", s.missing == 0),
        Figure("doubled", "  escalated more than once", s.doubled, "", "0", s.doubled == 0),
        Figure("early", "  escalated before the deadline", s.early, "", "0", s.early == 0),
        Figure("lateness_p50_s", "lateness p50", s.p50, "s"),
        Figure("lateness_p90_s", "lateness p90", s.p90, "s"),
        Figure("lateness_p99_s", "lateness p99", s.p99, "s", target, s.p99 < P99_TARGET_S),
        Figure("lateness_max_s", "lateness max", s.max, "s"),
        Figure("ceil_slack_p50_s", "  of which ceil(due) slack p50", s.ceil_p50, "s"),
        Figure("ceil_slack_max_s", "  of which ceil(due) slack max", s.ceil_max, "s"),
        Figure("after_scheduled_p50_s", f"{after} p50", s.after_p50, "s"),
        Figure("after_scheduled_p99_s", f"{after} p99", s.after_p99, "s"),
        Figure("after_scheduled_max_s", f"{after} max", s.after_max, "s"),
    ]  # fmt: skip
    if timeline.killed is not None and timeline.worker_back is not None:
        killed, back = timeline.killed, timeline.worker_back
        first_due = timeline.first_post + options.deadline_s
        unattended = sum(killed <= v.due <= back for v in judged)
        figures += [
            Figure("killed_after_s", "worker SIGKILLed, s after the first post",
                   killed - timeline.first_post, "s"),
            Figure("killed_before_due_s", "  s before the first deadline", first_due - killed,
                   "s"),
            Figure("restart_s", "  new worker up after", back - killed, "s"),
            Figure("unattended", "  deadlines due until the new worker was up", unattended, ""),
        ]  # fmt: skip
    if stored.moved:
        figures.append(Figure("moved", "shift-change reassignments (skew the run)",
                              stored.moved, "", "0", False))  # fmt: skip
    bad = [v for v in judged if v.escalations != 1][:20]
    meta: dict[str, object] = {
        "backend": backend(options.database_url),
        "conversations": total,
        "deadline_s": options.deadline_s,
        "concurrency": options.concurrency,
        "kill_worker": options.kill_at,
        "workers": options.workers,
        **platform_meta(),
        "observed_s_after_last_post": round(timeline.observed_until - timeline.last_post, 3),
        "first_error": opening.first_error or None,
    }
    return Outcome(figures, s, bad, opening, meta)


def failed(result: Outcome, total: int) -> bool:
    """Exit 2: a conversation not escalated exactly once, or a webhook failed."""
    s = result.summary
    return s.once != total or s.conversations != total or result.opening.failures > 0


# --- reporting and the command line ------------------------------------------------------


def _table(result: Outcome) -> str:
    m = result.meta
    kill = f"  kill-worker={m['kill_worker']}" if m["kill_worker"] else ""
    kill += f"  workers={m['workers']}" if m["workers"] != 1 else ""
    lines = [
        f"escalation benchmark  backend={m['backend']}  conversations={m['conversations']:,}  "
        f"deadline={m['deadline_s']} s  concurrency={m['concurrency']}{kill}",
        f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)",
        "",
        *figure_table(result.figures, COLUMNS),
    ]
    for v in result.bad:
        lines.append(f"  conversation {v.contact_id}: {v.escalations} step-2 notifications")
    return "\n".join(lines)


def _document(result: Outcome) -> dict[str, object]:
    return {
        **result.meta,
        "figures": figures_document(result.figures),
        "not_once": [asdict(v) for v in result.bad],
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.escalation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--conversations", type=int, default=1000, help="conversations to open (default 1000)")
    add("--deadline", type=int, default=5, help="message_deadline in seconds (default 5)")
    add("--concurrency", type=int, default=50, help="concurrent webhook posts (default 50)")
    add("--json", action="store_true", help="print JSON instead of a table")
    add("--kill-worker", action="store_true", help="SIGKILL the worker once and start another")
    add("--kill-at", choices=KILL_POINTS, default=KILL_POINTS[0],
        help="when to kill it (default: when half the conversations are open)")  # fmt: skip
    add("--workers", type=int, default=1, help="worker processes (default 1)")
    add_store_options(parser, DEFAULT_REDIS_URL)
    add("--timeout", type=float, default=300.0, help="give up after this many seconds (all)")
    add("--logs", type=Path, metavar="DIR", help="keep the service logs in DIR")
    return parser


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if min(args.conversations, args.concurrency, args.deadline, args.workers) < 1:
        parser.error("--conversations, --concurrency, --deadline, --workers: at least 1")
    database_url, redis_url = store_urls(parser, args, DEFAULT_REDIS_URL)
    return Options(
        conversations=args.conversations,
        deadline_s=args.deadline,
        concurrency=args.concurrency,
        database_url=database_url,
        redis_url=redis_url,
        kill_at=args.kill_at if args.kill_worker else None,
        workers=args.workers,
        timeout_s=args.timeout,
        logs=args.logs,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark: 2 when a conversation did not escalate exactly once, a webhook
    failed or the service could not be set up; otherwise 0."""
    parser = _parser()
    args = parser.parse_args(argv)
    options = _options(parser, args)
    result = guarded(lambda: run(options))
    if result is None:
        return 2
    print(json.dumps(_document(result), indent=2) if args.json else _table(result))
    if failed(result, options.conversations):
        first = result.meta["first_error"]
        print(f"error: not every conversation escalated exactly once, or webhooks failed"
              f"{f' (first: {first})' if first else ''}", file=sys.stderr)  # fmt: skip
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
