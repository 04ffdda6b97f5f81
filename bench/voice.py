"""Benchmark `POST /twilio/voice` (new inbound calls) against a bare aiohttp baseline.

    .venv/bin/python -m bench.voice [--calls N] [--concurrency C[,C...]] [--json]
        [--database-url URL] [--redis-url URL] [--embedded] [--no-reset] [--seed S]
        [--profile FILE] [--logs DIR]

The service runs as a process of its own (`helpline migrate`, `helpline demo`, then
`helpline serve --no-jobs`) in sandbox mode, on PostgreSQL and Redis (default: database
`test` and Redis db 14 on 127.0.0.1, both WIPED first) or, with `--embedded`, on SQLite and
the embedded Redis in a temporary directory. The baseline is a minimal aiohttp app in its
own process (`bench/baseline.py`) that reads the body and answers a constant TwiML
document of about the service's size. Both are warmed up, then driven identically at
each `--concurrency` level in turn (default 64, then 8): one client session, that many
callers, every request signed as Twilio signs it, a distinct CallSid per call, callers a
mix of demo foster homes and unknown numbers. The service process's resident memory is
read once every level ran.

Targets (issue 12), at every level: service/baseline throughput >= 40 % (goal 50 %);
service p99 <= 60 ms at 64 callers (goal 25 ms) and <= 15 ms at 8; service RSS <= 150 MB
after the bench. A missed target is shown, not fatal. Exit status 2 when a request failed
(not 200, or the service answered its fallback instead of dialling the plan) or the
service could not start; otherwise 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench import harness
from bench.baseline import serve_baseline
from bench.figures import Outcome, platform_meta
from bench.voice_report import Measured, Run, document, outcome_of, table
from helpline.commands.org import demo_text
from helpline.db.engine import make_engine
from helpline.db.models import ContactRow
from helpline.settings import Settings
from helpline.simulator.forms import incoming_call
from helpline.web.twilio_auth import signing_token
from rota.orgfile import parse_org

VOICE_PATH = "/twilio/voice"
DIALLED = "/twilio/voice/dialled"  # in every answer that rings the plan, not the fallback
HELPLINE_LINE = "+4767000001"  # Asker's number in the demo organisation
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
LEVELS = (64, 8)
WARMUP = 200
COUNT_ATTEMPTS, COUNT_RETRY_S = 10, 2.0
KNOWN_SHARE = 0.5  # share of calls from demo foster homes; the rest are unknown numbers
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10.0)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Call:
    """One inbound call to place: its CallSid and caller."""

    sid: str
    caller: str


@dataclass(frozen=True, slots=True)
class Target:
    """A server to drive: where to POST, what it signs against, how to judge answers."""

    name: str
    base_url: str
    token: str
    expect: str = ""  # a 200 answer must contain this, else it counts as failed


# --- pure parts --------------------------------------------------------------------------


def judge(status: int, body: str, expect: str = "") -> str:
    """The kind of an answer: "ok", "HTTP <status>", or, for a 200 without `expect`,
    "fallback (dial)" or "fallback (no dial)" (nobody is rung at all)."""
    if status != 200:
        return f"HTTP {status}"
    if expect in body:
        return "ok"
    return "fallback (dial)" if "<Dial" in body else "fallback (no dial)"


def plan_calls(
    count: int, known: Sequence[str], rng: random.Random, known_share: float = KNOWN_SHARE
) -> list[Call]:
    """`count` calls with distinct CallSids, from known numbers or unknown mobile ones."""
    taken = set(known)
    calls: list[Call] = []
    for _ in range(count):
        sid = "CA" + uuid.UUID(int=rng.getrandbits(128), version=4).hex
        if known and rng.random() < known_share:
            caller = rng.choice(known)
        else:
            caller = f"+4748{rng.randrange(10**6):06d}"
            while caller in taken:
                caller = f"+4748{rng.randrange(10**6):06d}"
        calls.append(Call(sid, caller))
    return calls


def demo_callers() -> list[str]:
    """Every foster home phone of the demo organisation (`helpline/demo.toml`)."""
    return [phone for home in parse_org(demo_text()).foster_homes for phone in home.phones]


# --- what the service stored ------------------------------------------------------------


async def count_contacts(database_url: str) -> int:
    """Voice contacts stored by the service."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).select_from(ContactRow).where(ContactRow.channel == "voice")
            )
    finally:
        await engine.dispose()
    return int(count or 0)


def _stored_calls(database_url: str) -> int:
    """`count_contacts`, tried again while a shared server refuses the connection (too many
    clients); -1 when it never answered, so the run's figures still print."""
    for attempt in range(COUNT_ATTEMPTS):
        try:
            return harness.on_stores(count_contacts(database_url), "count the contacts")
        except harness.BenchError as error:
            print(f"{error} (attempt {attempt + 1} of {COUNT_ATTEMPTS})", file=sys.stderr)
            time.sleep(COUNT_RETRY_S)
    return -1


# --- the client --------------------------------------------------------------------------


async def drive(
    session: aiohttp.ClientSession, target: Target, calls: Sequence[Call], concurrency: int
) -> Run:
    """Place `calls` against `target` from `concurrency` callers; each request timed alone."""
    run = Run([0.0] * len(calls))
    url = target.base_url.rstrip("/") + VOICE_PATH

    async def place(i: int) -> None:
        form = incoming_call(calls[i].sid, calls[i].caller, HELPLINE_LINE)
        answer = await harness.post_signed(session, url, form, target.token, REQUEST_TIMEOUT)
        run.latencies[i] = answer.seconds
        if answer.error:
            run.record(answer.error, answer.text)
        else:
            run.record(
                judge(answer.status, answer.text, target.expect), answer.text, len(answer.body)
            )

    run.wall_s = await harness.fan_out(len(calls), concurrency, place)
    return run


async def measure(
    targets: Sequence[tuple[Target, harness.Server]],
    calls: int,
    levels: Sequence[int],
    seed: int,
) -> tuple[dict[str, Run], Measured]:
    """Wait for each target, warm every one up, then measure them one after the other at
    each concurrency level; the warm-ups and the runs."""
    rng = random.Random(seed)
    known = demo_callers()
    connector = aiohttp.TCPConnector(limit=max(levels))
    runs: Measured = {}
    async with aiohttp.ClientSession(connector=connector) as session:
        warm: dict[str, Run] = {}
        for target, server in targets:
            await harness.wait_ready(session, target.base_url + "/healthz", server)
            warm[target.name] = await drive(
                session, target, plan_calls(WARMUP, known, rng), levels[0]
            )
        for level in levels:
            runs[level] = {}
            for target, _server in targets:
                run = await drive(session, target, plan_calls(calls, known, rng), level)
                runs[level][target.name] = run
    return warm, runs


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid` (MiB), from /proc; NaN where there is none."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return float("nan")
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
    return int(kilobytes) / 1024


# --- one benchmark run -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    """What to benchmark, from the command line."""

    calls: int
    levels: tuple[int, ...]
    seed: int
    stores: harness.Stores
    reset: bool = True
    profile: Path | None = None
    logs: Path | None = None


def run(options: Options) -> Outcome:
    """Set up both servers, measure them, stop them (whatever happens); the outcome."""
    prefix, stores = "bench-voice-", options.stores
    with harness.service_setup(prefix, options.logs, stores, reset=options.reset) as setup:
        setup.helpline("demo")
        serve = harness.helpline_argv("serve", "--port", str(setup.port), "--no-jobs")
        if options.profile is not None:
            profile = ["-m", "cProfile", "-o", str(options.profile.resolve())]
            serve = [serve[0], *profile, *serve[1:]]
        service_server = setup.procs.start(serve, "service")
        base_port = harness.free_port()
        baseline = [sys.executable, "-m", "bench.baseline", str(base_port)]
        base_server = setup.procs.start(baseline, "baseline", dict(os.environ), REPO)
        settings = Settings.from_mapping(setup.env)  # what the service reads: sandbox mode
        token = signing_token(settings)
        service = Target("service", settings.public_url, token, DIALLED)
        bare = Target("baseline", f"http://127.0.0.1:{base_port}", token)
        targets = [(service, service_server), (bare, base_server)]
        warm, runs = asyncio.run(measure(targets, options.calls, options.levels, options.seed))
        rss = rss_mb(service_server.proc.pid)
        stored = _stored_calls(settings.database_url)
    meta: dict[str, object] = {
        "backend": options.stores.backend,
        "calls": options.calls,
        "warmup": WARMUP,
        "concurrency": ",".join(map(str, options.levels)),
        "seed": options.seed,
        **platform_meta(),
    }
    expected = WARMUP + options.calls * len(options.levels)
    return outcome_of(warm, runs, stored, rss, expected, meta)


# --- reporting and the command line ------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = harness.bench_parser("python -m bench.voice", __doc__)
    add = parser.add_argument
    add("--calls", type=int, default=3000, help="calls to time per target (default 3000)")
    add(
        "--concurrency",
        type=_levels,
        default=LEVELS,
        help="concurrent callers, levels run in turn (default 64,8)",
    )
    add("--json", action="store_true", help="print JSON instead of a table")
    harness.add_store_options(parser, DEFAULT_REDIS_URL)
    add("--no-reset", action="store_true", help="do not wipe the database and Redis db first")
    add("--seed", type=int, default=2027, help="seed of callers and CallSids")
    add("--profile", type=Path, metavar="FILE", help="run the service under cProfile into FILE")
    add(
        "--logs",
        type=Path,
        metavar="DIR",
        help="keep setup.log, service.log and baseline.log in DIR",
    )
    add("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def _levels(text: str) -> tuple[int, ...]:
    """`64,8` as (64, 8)."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if args.calls < 1 or min(args.concurrency) < 1:
        parser.error("--calls and --concurrency must be at least 1")
    return Options(
        calls=args.calls,
        levels=args.concurrency,
        seed=args.seed,
        stores=harness.chosen_stores(parser, args, DEFAULT_REDIS_URL),
        reset=not args.no_reset,
        profile=args.profile,
        logs=args.logs,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark: 2 when a request failed or a server did not start, else 0."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.serve_baseline is not None:
        serve_baseline(args.serve_baseline)
        return 0
    options = _options(parser, args)
    outcome = harness.guarded(lambda: run(options))
    if outcome is None:
        return 2
    return harness.report(outcome, args.json, document, table)


if __name__ == "__main__":
    raise SystemExit(main())
