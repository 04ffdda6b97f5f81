"""Benchmark the console's pages against a bare aiohttp page: Oversikt, Kontaktlogg and
Vaktplan (month view) on a national-scale organisation with 10,000 contacts.

    .venv/bin/python -m bench.console [--requests N] [--concurrency C] [--contacts N]
        [--role admin|koordinator] [--json] [--database-url URL] [--redis-url URL]
        [--embedded] [--no-reset] [--seed S] [--profile FILE] [--logs DIR]

The service runs as a process of its own (`helpline migrate`, `helpline load` of the
national organisation of `bench.national` with an admin and a koordinator added, then
`helpline serve --no-jobs`) in sandbox mode, on PostgreSQL and Redis (default: database
`test` and Redis db 11 on 127.0.0.1, both WIPED first) or, with `--embedded`, on SQLite
and the embedded Redis in a temporary directory. Before it serves, `--contacts` finished
contacts (calls with their attempts, SMS and Telegram conversations, over the past year)
are written to its database. The organisation's rota year is the current one, so its
rotations are in force now.

The bench logs in as a browser does: the console's login form with its CSRF token, the
person's phone number, then the six-digit code of the login SMS, which sandbox mode keeps
in the outbox (read from the database). The admin sees all 357 kommuner, the koordinator
one barnevernvakt's (`--role`). Each page is warmed up, then fetched `--requests` times
by `--concurrency` clients on that session; the baseline (`bench/baseline.py`, its own
process) is then fetched as often for an HTML page of the same size. Vaktplan is measured
when the service has it; where it answers 404 the report says it is not built.

Target: p99 < 100 ms for every page; a missed target is shown, not fatal. Exit status 2
when a request failed (not 200, or not the page asked for) or the service could not start;
otherwise 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bench import harness
from bench.console_contacts import plan_contacts, store_contacts
from bench.console_pages import (
    Page,
    bench_org,
    code_of,
    console_pages,
    contacts_listed,
    csrf_of,
    judge,
)
from bench.figures import (
    Columns,
    Figure,
    Outcome,
    figure_table,
    outcome_document,
    percentile,
    platform_meta,
)
from helpline.db.engine import make_engine
from helpline.db.models import OutboxRow
from helpline.settings import Settings
from rota.orgfile import dump_org
from rota.wallclock import OSLO, zone

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/11"
P99_TARGET_MS = 100.0
WARMUP = 30
CONTACTS = 10_000
ROLES = ("admin", "koordinator")
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30.0)  # the first request loads the register
REPO = Path(__file__).resolve().parent.parent
COLUMNS = Columns(label=46, value=12, unit=6, decimals=2, whole_units=("", "B"))


# --- the database ------------------------------------------------------------------------


async def login_code(database_url: str, phone: str) -> str:
    """The code of the newest login SMS to `phone` in the sandbox outbox."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            body = await connection.scalar(
                select(OutboxRow.body)
                .where(OutboxRow.to == phone, OutboxRow.kind == "login")
                .order_by(OutboxRow.id.desc())
                .limit(1)
            )
    except (SQLAlchemyError, OSError) as error:
        raise harness.BenchError(f"could not read the login SMS: {error}") from None
    finally:
        await engine.dispose()
    if body is None:
        raise harness.BenchError("the service sent no login SMS (see service.log)")
    return code_of(body)


# --- the client --------------------------------------------------------------------------


async def log_in(
    session: aiohttp.ClientSession, base_url: str, phone: str, database_url: str
) -> None:
    """Log in as a browser does: the number form, then the code form; the session's
    cookie is then in `session`'s jar."""

    async def form(path: str, fields: dict[str, str]) -> None:
        page = await harness.get_timed(session, base_url + path, REQUEST_TIMEOUT)
        if page.status != 200:
            raise harness.BenchError(f"GET {path} answered {page.status}: {page.text[:300]}")
        data = {"csrf": csrf_of(page.text), **fields}
        async with session.post(
            base_url + path, data=data, allow_redirects=False, timeout=REQUEST_TIMEOUT
        ) as response:
            if response.status != 303:
                text = (await response.text())[:300]
                raise harness.BenchError(f"POST {path} answered {response.status}: {text}")

    await form("/console/login", {"phone": phone})
    code = await login_code(database_url, phone)
    await form("/console/login/code", {"code": code})


@dataclass
class Run:
    """Latencies (s, in request order), answer kinds and sizes of fetching one page."""

    latencies: list[float]
    kinds: Counter[str] = field(default_factory=Counter)
    first_error: str = ""
    body_bytes: int = 0  # of the last good answer
    listed: int = 0  # contacts linked from the last good answer (Kontaktlogg)

    @property
    def failures(self) -> int:
        return sum(n for kind, n in self.kinds.items() if kind != "ok")


async def fetch(
    session: aiohttp.ClientSession, url: str, marker: str, count: int, concurrency: int
) -> Run:
    """GET `url` `count` times from `concurrency` clients, each request timed alone."""
    run = Run([0.0] * count)

    async def one(i: int) -> None:
        answer = await harness.get_timed(session, url, REQUEST_TIMEOUT)
        run.latencies[i] = answer.seconds
        kind = answer.error or judge(answer.status, answer.text, marker)
        run.kinds[kind] += 1
        if kind == "ok":
            run.body_bytes = len(answer.body)
            run.listed = contacts_listed(answer.text)
        elif not run.first_error:
            run.first_error = f"{kind}: {answer.text}"[:600]

    await harness.fan_out(count, concurrency, one)
    return run


@dataclass
class Measured:
    """Per page: the service's warm-up and run and the baseline's run (None: not built)."""

    service: dict[str, tuple[Run, Run]] = field(default_factory=dict)
    baseline: dict[str, Run] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


async def measure(
    options: Options,
    service: tuple[str, harness.Server],
    baseline: tuple[str, harness.Server],
    pages: Sequence[Page],
    phone: str,
    database_url: str,
) -> Measured:
    """Log in, then per page: warm up, fetch it, fetch the baseline at its size."""
    (service_url, service_server), (base_url, base_server) = service, baseline
    measured = Measured()
    jar = aiohttp.CookieJar(unsafe=True)  # the service is at 127.0.0.1, an IP address
    connector = aiohttp.TCPConnector(limit=options.concurrency)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        await harness.wait_ready(session, service_url + "/healthz", service_server)
        await harness.wait_ready(session, base_url + "/healthz", base_server)
        await log_in(session, service_url, phone, database_url)
        for page in pages:
            url = service_url + page.path
            probe = await harness.get_timed(session, url, REQUEST_TIMEOUT)
            if probe.status == 404:
                measured.missing.append(page.key)
                continue
            warm = await fetch(session, url, page.marker, WARMUP, options.concurrency)
            run = await fetch(session, url, page.marker, options.requests, options.concurrency)
            measured.service[page.key] = (warm, run)
            size = run.body_bytes or warm.body_bytes
            bare = f"{base_url}/bare/{page.key}?bytes={size}"
            await fetch(session, bare, "<h1>", WARMUP, options.concurrency)
            measured.baseline[page.key] = await fetch(
                session, bare, "<h1>", options.requests, options.concurrency
            )
    return measured


# --- one benchmark run -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    """What to benchmark, from the command line."""

    requests: int
    concurrency: int
    contacts: int
    role: str
    seed: int
    stores: harness.Stores
    reset: bool = True
    profile: Path | None = None
    logs: Path | None = None


def run(options: Options) -> Outcome:
    """Set up the service and the baseline, measure, stop them (whatever happens)."""
    load_before = os.getloadavg()
    now = datetime.now(UTC)
    org, phones = bench_org(options.seed, now.astimezone(zone(OSLO)).year)
    pages = console_pages(org, now.astimezone(zone(OSLO)).date())
    with harness.service_setup(
        "bench-console-", options.logs, options.stores, reset=options.reset
    ) as setup:
        settings = Settings.from_mapping(setup.env)  # what the service reads: sandbox mode
        org_file = setup.work / "national.toml"
        org_file.write_text(dump_org(org), encoding="utf-8")
        setup.helpline("load", str(org_file))
        rng = random.Random(options.seed)
        planned = plan_contacts(org, options.contacts, now, rng, settings.categories)
        stored = harness.on_stores(store_contacts(settings.database_url, planned), "store contacts")
        serve = harness.helpline_argv("serve", "--port", str(setup.port), "--no-jobs")
        if options.profile is not None:
            profile = ["-m", "cProfile", "-o", str(options.profile.resolve())]
            serve = [serve[0], *profile, *serve[1:]]
        service_server = setup.procs.start(serve, "service")
        base_port = harness.free_port()
        baseline = [sys.executable, "-m", "bench.baseline", str(base_port)]
        base_server = setup.procs.start(baseline, "baseline", dict(os.environ), REPO)
        measured = asyncio.run(
            measure(
                options,
                (settings.public_url, service_server),
                (f"http://127.0.0.1:{base_port}", base_server),
                pages,
                phones[options.role],
                settings.database_url,
            )
        )
    meta: dict[str, object] = {
        "backend": options.stores.backend,
        "role": options.role,
        "kommuner": len(org.kommuner),
        "requests": options.requests,
        "warmup": WARMUP,
        "concurrency": options.concurrency,
        "seed": options.seed,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        **platform_meta(),
    }
    return outcome(options, pages, measured, stored, meta)


def outcome(
    options: Options,
    pages: Sequence[Page],
    measured: Measured,
    stored: int,
    meta: dict[str, object],
) -> Outcome:
    """The figures of one run: per page the service's and the baseline's latencies."""
    figures: list[Figure] = []
    for page in pages:
        if page.key not in measured.service:
            continue
        _warm, service = measured.service[page.key]
        bare = measured.baseline[page.key]
        figures += _page_figures(page, service, bare)
        if page.key == "kontaktlogg":
            figures.append(
                Figure("kontaktlogg_listed", "  contacts listed on the page", service.listed, "")
            )
    figures.append(
        Figure("contacts_stored", "contacts in the database", stored, "", f"{options.contacts:,}",
               stored == options.contacts)
    )  # fmt: skip
    runs = [r for warm, run in measured.service.values() for r in (warm, run)]
    runs += list(measured.baseline.values())
    failures = sum(r.failures for r in runs)
    figures.append(
        Figure("failed_requests", "failed requests (incl. warm-up)", failures, "", "0",
               failures == 0)
    )  # fmt: skip
    first = next((r.first_error for r in runs if r.first_error), "")
    requests = sum(len(r.latencies) for r in runs)
    return Outcome(figures, failures, requests, first, missing=measured.missing, meta=meta)


def _page_figures(page: Page, service: Run, bare: Run) -> list[Figure]:
    ms = sorted(x * 1e3 for x in service.latencies)
    bare_ms = sorted(x * 1e3 for x in bare.latencies)
    p99 = percentile(ms, 0.99)
    k = page.key
    return [
        Figure(f"{k}_p50_ms", f"{page.name} p50", percentile(ms, 0.5), "ms"),
        Figure(f"{k}_p90_ms", f"{page.name} p90", percentile(ms, 0.9), "ms"),
        Figure(f"{k}_p99_ms", f"{page.name} p99", p99, "ms", f"< {P99_TARGET_MS:g} ms",
               p99 < P99_TARGET_MS),
        Figure(f"{k}_max_ms", f"{page.name} max", ms[-1], "ms"),
        Figure(f"{k}_bytes", "  page size", service.body_bytes, "B"),
        Figure(f"{k}_baseline_p50_ms", "  baseline page, same size, p50", percentile(bare_ms, 0.5),
               "ms"),
        Figure(f"{k}_baseline_p99_ms", "  baseline page, same size, p99",
               percentile(bare_ms, 0.99), "ms"),
    ]  # fmt: skip


# --- reporting and the command line ------------------------------------------------------


def _table(outcome: Outcome) -> str:
    m = outcome.meta
    lines = [
        f"console page benchmark  backend={m['backend']}  role={m['role']} "
        f"({m['kommuner']} kommuner)  requests={m['requests']:,} per page  "
        f"warm-up={m['warmup']}  concurrency={m['concurrency']}",
        f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)  load average "
        f"{_load(m['load_before'])} before, {_load(m['load_after'])} after",
        "",
        *figure_table(outcome.figures, COLUMNS),
    ]
    for key in outcome.missing:
        lines.append(f"{key}: the service answers 404 there (not built): not measured")
    return "\n".join(lines)


def _load(values: object) -> str:
    return " ".join(f"{x:.2f}" for x in values) if isinstance(values, list) else "?"


def _document(outcome: Outcome) -> dict[str, object]:
    return outcome_document(outcome, not_built=outcome.missing)


def _parser() -> argparse.ArgumentParser:
    parser = harness.bench_parser("python -m bench.console", __doc__)
    add = parser.add_argument
    add("--requests", type=int, default=300, help="requests to time per page (default 300)")
    add("--concurrency", type=int, default=1, help="concurrent clients (default 1)")
    add("--contacts", type=int, default=CONTACTS, help=f"contacts stored (default {CONTACTS:,})")
    add("--role", choices=ROLES, default="admin", help="who logs in (default admin: all kommuner)")
    add("--json", action="store_true", help="print JSON instead of a table")
    harness.add_store_options(parser, DEFAULT_REDIS_URL)
    add("--no-reset", action="store_true", help="do not wipe the database and Redis db first")
    add("--seed", type=int, default=2027, help="seed of the organisation and the contacts")
    add("--profile", type=Path, metavar="FILE", help="run the service under cProfile into FILE")
    add("--logs", type=Path, metavar="DIR", help="keep setup.log, service.log, baseline.log")
    return parser


def _options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Options:
    if args.requests < 1 or args.concurrency < 1 or args.contacts < 0:
        parser.error("--requests and --concurrency must be at least 1, --contacts at least 0")
    return Options(
        requests=args.requests,
        concurrency=args.concurrency,
        contacts=args.contacts,
        role=args.role,
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
    options = _options(parser, args)
    outcome = harness.guarded(lambda: run(options))
    if outcome is None:
        return 2
    return harness.report(outcome, args.json, _document, _table)


if __name__ == "__main__":
    raise SystemExit(main())
