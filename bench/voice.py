"""Benchmark `POST /twilio/voice` (new inbound calls) against a bare aiohttp baseline.

    .venv/bin/python -m bench.voice [--calls N] [--concurrency C] [--json]
        [--database-url URL] [--redis-url URL] [--embedded] [--no-reset] [--seed S]
        [--profile FILE] [--logs DIR]

The service runs as a process of its own (`helpline migrate`, `helpline demo`, then
`helpline serve --no-jobs`) in sandbox mode, on PostgreSQL and Redis (default: database
`test` and Redis db 14 on 127.0.0.1, both WIPED first) or, with `--embedded`, on SQLite and
the embedded Redis in a temporary directory. The baseline is a minimal aiohttp app in its
own process (`bench/baseline.py`) that reads the body and answers a constant TwiML
document of about the service's size. Both are warmed up, then driven identically: one
client session, `--concurrency` callers, every request signed as Twilio signs it, a
distinct CallSid per call, callers a mix of demo foster homes and unknown numbers.

Targets: service/baseline throughput >= 40 %, service p99 < 50 ms; a missed target is
shown, not fatal. Exit status 2 when a request failed (not 200, or the service answered its
fallback instead of dialling the plan) or the service could not start; otherwise 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench import harness
from bench.baseline import serve_baseline
from bench.figures import Columns, Figure, figure_table, figures_document, percentile, platform_meta
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
RATIO_TARGET = 0.40
P99_TARGET_MS = 50.0
WARMUP = 200
KNOWN_SHARE = 0.5  # share of calls from demo foster homes; the rest are unknown numbers
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10.0)
REPO = Path(__file__).resolve().parent.parent
COLUMNS = Columns(label=44, value=12, unit=6, decimals=2, whole_units=("", "B"))


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


@dataclass
class Run:
    """Latencies (s, in call order), answers and failures of driving one target."""

    latencies: list[float]
    wall_s: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)  # "ok", "HTTP 500", "fallback", ...
    first_error: str = ""
    answer_bytes: int = 0  # of the good answers

    @property
    def failures(self) -> int:
        return sum(n for kind, n in self.kinds.items() if kind != "ok")

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.wall_s if self.wall_s > 0 else 0.0

    def record(self, kind: str, detail: str = "", size: int = 0) -> None:
        """Count one answer; keep the first failure's detail."""
        self.kinds[kind] += 1
        if kind == "ok":
            self.answer_bytes += size
        elif not self.first_error:
            self.first_error = f"{kind}: {detail}"[:600]


@dataclass
class Outcome:
    """Everything one benchmark run reports."""

    figures: list[Figure]
    failures: int
    requests: int
    first_error: str
    answers: dict[str, dict[str, int]]  # per target: answer kind -> count
    meta: dict[str, object] = field(default_factory=dict)


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
    targets: Sequence[tuple[Target, harness.Server]], calls: int, concurrency: int, seed: int
) -> dict[str, tuple[Run, Run]]:
    """Wait for each target, warm every one up, then measure them one after the other."""
    rng = random.Random(seed)
    known = demo_callers()
    connector = aiohttp.TCPConnector(limit=concurrency)
    runs: dict[str, tuple[Run, Run]] = {}
    async with aiohttp.ClientSession(connector=connector) as session:
        warm: dict[str, Run] = {}
        for target, server in targets:
            await harness.wait_ready(session, target.base_url + "/healthz", server)
            warm[target.name] = await drive(
                session, target, plan_calls(WARMUP, known, rng), concurrency
            )
        for target, _server in targets:
            run = await drive(session, target, plan_calls(calls, known, rng), concurrency)
            runs[target.name] = (warm[target.name], run)
    return runs


# --- one benchmark run -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    """What to benchmark, from the command line."""

    calls: int
    concurrency: int
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
        runs = asyncio.run(measure(targets, options.calls, options.concurrency, options.seed))
        stored = harness.on_stores(count_contacts(settings.database_url), "count the contacts")
    return _outcome(options, runs, stored)


def _latency_figures(prefix: str, label: str, run: Run, p99_target: float | None) -> list[Figure]:
    ms = sorted(x * 1e3 for x in run.latencies)
    p99 = percentile(ms, 0.99)
    target = f"< {p99_target:g} ms" if p99_target is not None else ""
    ok = p99 < p99_target if p99_target is not None else None
    mean_bytes = run.answer_bytes / max(run.kinds["ok"], 1)
    return [
        Figure(f"{prefix}_rps", f"{label} throughput", run.rps, "req/s"),
        Figure(f"{prefix}_p50_ms", f"{label} p50", percentile(ms, 0.5), "ms"),
        Figure(f"{prefix}_p90_ms", f"{label} p90", percentile(ms, 0.9), "ms"),
        Figure(f"{prefix}_p99_ms", f"{label} p99", p99, "ms", target, ok),
        Figure(f"{prefix}_max_ms", f"{label} max", ms[-1], "ms"),
        Figure(f"{prefix}_answer_bytes", f"{label} good answer size (mean)", mean_bytes, "B"),
    ]


def _outcome(options: Options, runs: dict[str, tuple[Run, Run]], stored: int) -> Outcome:
    (service_warm, service), (bare_warm, bare) = runs["service"], runs["baseline"]
    ratio = service.rps / bare.rps if bare.rps else 0.0
    p50_ratio = percentile(sorted(service.latencies), 0.5) / percentile(sorted(bare.latencies), 0.5)
    expected = WARMUP + options.calls
    every = [service_warm, service, bare_warm, bare]
    failures = sum(r.failures for r in every)
    figures = [
        *_latency_figures("baseline", "baseline", bare, None),
        *_latency_figures("service", "service /twilio/voice", service, P99_TARGET_MS),
        Figure(
            "throughput_ratio_pct",
            "service / baseline throughput",
            ratio * 100,
            "%",
            f">= {RATIO_TARGET:.0%}",
            ratio >= RATIO_TARGET,
        ),
        Figure("p50_ratio", "service p50 / baseline p50", p50_ratio, "x"),
        Figure(
            "failed_requests", "failed requests (incl. warm-up)", failures, "", "0", failures == 0
        ),
        Figure(
            "contacts_stored",
            "voice contacts stored by the service",
            stored,
            "",
            f"{expected:,}",
            stored == expected,
        ),
    ]
    answers = {
        name: dict((warm.kinds + measured.kinds).most_common())
        for name, (warm, measured) in runs.items()
    }
    errors = (f"{name}: {r.first_error}" for name, pair in runs.items() for r in pair)
    first = next((error for error in errors if not error.endswith(": ")), "")
    meta: dict[str, object] = {
        "backend": options.stores.backend,
        "calls": options.calls,
        "warmup": WARMUP,
        "concurrency": options.concurrency,
        "seed": options.seed,
        **platform_meta(),
    }
    requests = sum(len(r.latencies) for r in every)
    return Outcome(figures, failures, requests, first, answers, meta)


# --- reporting and the command line ------------------------------------------------------


def _table(outcome: Outcome) -> str:
    m = outcome.meta
    lines = [
        f"voice webhook benchmark  backend={m['backend']}  calls={m['calls']:,}  "
        f"warm-up={m['warmup']}  concurrency={m['concurrency']}",
        f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)",
        "",
        *figure_table(outcome.figures, COLUMNS),
        "",
    ]
    for name, kinds in outcome.answers.items():
        lines.append(f"{name} answers: " + ", ".join(f"{k} {n:,}" for k, n in kinds.items()))
    return "\n".join(lines)


def _document(outcome: Outcome) -> dict[str, object]:
    return {
        **outcome.meta,
        "figures": figures_document(outcome.figures),
        "answers": outcome.answers,
        "failures": {
            "count": outcome.failures,
            "requests": outcome.requests,
            "first_error": outcome.first_error or None,
        },
    }


def _parser() -> argparse.ArgumentParser:
    parser = harness.bench_parser("python -m bench.voice", __doc__)
    add = parser.add_argument
    add("--calls", type=int, default=3000, help="calls to time per target (default 3000)")
    add("--concurrency", type=int, default=64, help="concurrent callers (default 64)")
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


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if args.calls < 1 or args.concurrency < 1:
        parser.error("--calls and --concurrency must be at least 1")
    return Options(
        calls=args.calls,
        concurrency=args.concurrency,
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
    return harness.report(outcome, args.json, _document, _table)


if __name__ == "__main__":
    raise SystemExit(main())
