"""Benchmark the message webhooks, `POST /twilio/sms` and `POST /telegram/webhook`, while
1,000 conversations open, against a bare aiohttp baseline in the same run.

    .venv/bin/python -m bench.messages [--conversations 1000] [--concurrency 50] [--json]
        [--database-url URL] [--redis-url URL] [--embedded] [--profile FILE] [--logs DIR]

The service runs as a deployment runs it: `helpline serve --no-jobs` for the webhooks and
one `helpline worker` for the jobs, in sandbox mode for SMS (no Twilio credentials: the
outbox is the delivery) and with Telegram live against the fake Bot API
(`tests/fakes/telegram_api.py`, in this process), so the web process sends the Telegram
receipts, as in production (right after each webhook has answered, in the background).
Stores: PostgreSQL and Redis (default: database `test` and Redis db 10 on 127.0.0.1, both
WIPED first) or, with `--embedded`, SQLite and the embedded Redis in a temporary directory.

The organisation is the demo one with one generated foster home per conversation (as
`bench.escalation` makes them); every second home is linked on Telegram. Each home opens
its conversation (a signed SMS with its own MessageSid, or a Telegram update with its
own update_id), `--concurrency` clients at once; then each writes a follow-up into its
open conversation. The baseline (`bench/baseline.py`) gets the same requests.

Targets: p99 <= 100 ms per channel (opening and follow-ups together) on the service;
every conversation and message stored once. Exit status 2 when a request failed or the
service could not be set up; otherwise 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import func, insert, select

from bench import harness
from bench.escalation.org import BENCH_HOME_PREFIX, BenchHome, bench_org
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
from helpline.db.models import ContactRow, MessageRow, TelegramLinkRow
from helpline.settings import Settings
from helpline.simulator.forms import incoming_sms, random_sid
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
SMS_PATH, TELEGRAM_PATH = "/twilio/sms", "/telegram/webhook"
SECRET = "bench-messages-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
P99_TARGET_MS = 100.0
WARMUP = 100  # conversations opened (and followed up) before anything is timed
DEADLINE_S = 900  # nobody answers, but no deadline falls due while the run lasts
FIRST_CHAT = 700_000_000
OPENING = "Hei, kan noen ringe oss? Det er litt vanskelig her i kveld."
FOLLOW_UP = "Det haster litt, vi er hjemme hele kvelden."
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30.0)
REPO = Path(__file__).resolve().parent.parent
COLUMNS = Columns(label=46, value=10, unit=6, decimals=2)
CHANNELS = ("sms", "telegram")
PHASES = ("open", "follow-up")


@dataclass(frozen=True, slots=True)
class Writer:
    """A foster home that writes: by SMS (`chat` None) or on its linked Telegram chat."""

    home: BenchHome
    chat: int | None

    @property
    def channel(self) -> str:
        return "sms" if self.chat is None else "telegram"


@dataclass
class Run:
    """Latencies (s) per (channel, phase) of driving one target, and its failures."""

    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    wall_s: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    def record(self, key: tuple[str, str], seconds: float, kind: str, detail: str) -> None:
        self.latencies.setdefault(key, []).append(seconds)
        self.kinds[kind] += 1
        if kind != "ok" and not self.first_error:
            self.first_error = f"{key[0]} {key[1]}: {kind}: {detail}"[:600]

    @property
    def failures(self) -> int:
        return sum(n for kind, n in self.kinds.items() if kind != "ok")

    @property
    def requests(self) -> int:
        return sum(self.kinds.values())

    def of(self, channel: str, phase: str | None = None) -> list[float]:
        phases = PHASES if phase is None else (phase,)
        return sorted(x for p in phases for x in self.latencies.get((channel, p), []))


@dataclass(frozen=True, slots=True)
class Options:
    conversations: int
    concurrency: int
    stores: harness.Stores
    profile: Path | None = None
    logs: Path | None = None


# --- the client --------------------------------------------------------------------------


class Poster:
    """Posts one writer's message to a target as Twilio or Telegram posts it."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, fake: FakeTelegram) -> None:
        self.session, self.base_url, self.fake = session, base_url.rstrip("/"), fake

    async def post(self, writer: Writer, body: str) -> harness.Answer:
        if writer.chat is None:
            form = incoming_sms(random_sid("SM"), writer.home.phone, writer.home.line, body)
            url = self.base_url + SMS_PATH
            return await harness.post_signed(
                self.session, url, form, SANDBOX_AUTH_TOKEN, REQUEST_TIMEOUT
            )
        update = self.fake.message_update(FakeUser(writer.chat, "Forelder"), body)
        headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
        data = json.dumps(update)
        t0 = time.perf_counter()
        try:
            async with self.session.post(
                self.base_url + TELEGRAM_PATH, data=data, headers=headers, timeout=REQUEST_TIMEOUT
            ) as response:
                answer = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            detail = (str(error) or repr(error)).encode()
            return harness.Answer(0, detail, time.perf_counter() - t0, type(error).__name__)
        return harness.Answer(status, answer, time.perf_counter() - t0)


def judge(writer: Writer, answer: harness.Answer) -> str:
    """ "ok", the error's type, or "HTTP <status>" (an SMS answer must be TwiML)."""
    if answer.error:
        return answer.error
    if answer.status != 200:
        return f"HTTP {answer.status}"
    if writer.chat is None and "<Response" not in answer.text:
        return "not TwiML"
    return "ok"


async def drive(poster: Poster, writers: Sequence[Writer], concurrency: int, run: Run) -> None:
    """Open a conversation for each writer, then a follow-up from each, timed one by one."""
    for phase, body in zip(PHASES, (OPENING, FOLLOW_UP), strict=True):

        async def one(i: int, phase: str = phase, body: str = body) -> None:
            writer = writers[i]
            answer = await poster.post(writer, body)
            run.record((writer.channel, phase), answer.seconds, judge(writer, answer), answer.text)

        run.wall_s += await harness.fan_out(len(writers), concurrency, one)


# --- set-up and what the service stored ---------------------------------------------------


def writers_of(homes: Sequence[BenchHome]) -> list[Writer]:
    """Every second home writes on Telegram (its chat linked), the others by SMS."""
    return [Writer(home, FIRST_CHAT + i if i % 2 else None) for i, home in enumerate(homes)]


async def link_chats(database_url: str, writers: Sequence[Writer]) -> None:
    """Link the Telegram writers' chats to their foster homes, as a redeemed deep link does."""
    now = datetime.now(UTC)
    rows = [
        {"user_id": w.chat, "chat_id": w.chat, "kind": "foster_home", "target_id": w.home.id}
        | {"linked_at": now}
        for w in writers
        if w.chat is not None
    ]
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(TelegramLinkRow), rows)
    finally:
        await engine.dispose()


async def stored(database_url: str) -> tuple[int, int]:
    """The bench homes' conversations and inbound messages the service stored."""
    engine = make_engine(database_url)
    bench = ContactRow.foster_home_id.like(f"{BENCH_HOME_PREFIX}%")
    try:
        async with engine.connect() as connection:
            contacts = await connection.scalar(select(func.count()).where(bench))
            messages = await connection.scalar(
                select(func.count())
                .select_from(MessageRow)
                .join(ContactRow, MessageRow.contact_id == ContactRow.id)
                .where(bench, MessageRow.direction == "in")
            )
    finally:
        await engine.dispose()
    return int(contacts or 0), int(messages or 0)


def run(options: Options) -> Outcome:
    """Set up the service and the baseline, measure both, stop them (whatever happens)."""
    total = options.conversations + WARMUP
    text, homes = bench_org(total, DEADLINE_S)
    writers = writers_of(homes)
    warm, timed = writers[:WARMUP], writers[WARMUP:]
    stores = options.stores  # the bench starts an embedded Redis itself: serve and worker share it
    with harness.service_setup("bench-messages-", options.logs, stores, own_redis=True) as setup:
        org_file = setup.work / "org.toml"
        org_file.write_text(text, encoding="utf-8")
        setup.helpline("load", str(org_file))
        database_url = Settings.from_mapping(setup.env).database_url
        harness.on_stores(link_chats(database_url, writers), "link the Telegram chats")
        runs, load = asyncio.run(_measure(options, setup, warm, timed))
        counts = harness.on_stores(stored(database_url), "count what was stored")
    return _outcome(options, runs, counts, load)


async def _measure(
    options: Options, setup: harness.Setup, warm: Sequence[Writer], timed: Sequence[Writer]
) -> tuple[dict[str, Run], str]:
    async with running_fake_telegram() as fake:
        env = {
            **setup.env,
            "TELEGRAM_BOT_TOKEN": FAKE_BOT_TOKEN,
            "HELPLINE_TELEGRAM_API_BASE": fake.base_url,
            "HELPLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
        serve = harness.helpline_argv("serve", "--no-jobs", "--port", str(setup.port))
        if options.profile is not None:
            profile = ["-m", "cProfile", "-o", str(options.profile.resolve())]
            serve = [serve[0], *profile, *serve[1:]]
        service = setup.procs.start(serve, "serve", env)
        worker = setup.procs.start(harness.helpline_argv("worker"), "worker", env)
        base_port = harness.free_port()
        baseline = [sys.executable, "-m", "bench.baseline", str(base_port)]
        bare = setup.procs.start(baseline, "baseline", dict(os.environ), REPO)
        bare_url = f"http://127.0.0.1:{base_port}"
        connector = aiohttp.TCPConnector(limit=options.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await harness.wait_ready(session, setup.url + "/readyz", service)
            await harness.wait_logged(worker, "worker started", "the worker")
            await harness.wait_ready(session, bare_url + "/healthz", bare)
            runs: dict[str, Run] = {}
            load = ""
            for name, url in (("service", setup.url), ("baseline", bare_url)):
                warm_run, timed_run = Run(), Run()
                poster = Poster(session, url, fake)
                await drive(poster, warm, options.concurrency, warm_run)
                load = load or _load()  # the machine's, as the service's run starts
                await drive(poster, timed, options.concurrency, timed_run)
                runs[name], runs[f"{name} warm-up"] = timed_run, warm_run
        for server, what in ((service, "serve"), (worker, "the worker")):
            if server.proc.poll() is not None:
                raise harness.BenchError(f"{what} exited with {server.proc.returncode}")
    return runs, load


def _load() -> str:
    """The load averages (1, 5, 15 min), as `uptime` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


# --- the figures -------------------------------------------------------------------------


def _latency(key: str, label: str, ms: list[float], target: bool) -> list[Figure]:
    if not ms:
        return []
    p99 = percentile(ms, 0.99)
    goal, ok = (f"<= {P99_TARGET_MS:g} ms", p99 <= P99_TARGET_MS) if target else ("", None)
    return [
        Figure(f"{key}_p50_ms", f"{label} p50", percentile(ms, 0.5), "ms"),
        Figure(f"{key}_p99_ms", f"{label} p99", p99, "ms", goal, ok),
        Figure(f"{key}_max_ms", f"{label} max", ms[-1], "ms"),
    ]


def _outcome(options: Options, runs: dict[str, Run], counts: tuple[int, int], load: str) -> Outcome:
    service, bare = runs["service"], runs["baseline"]
    figures: list[Figure] = []
    for channel in CHANNELS:
        ms = [x * 1e3 for x in service.of(channel)]
        bare_ms = [x * 1e3 for x in bare.of(channel)]
        figures += _latency(f"baseline_{channel}", f"baseline {channel}", bare_ms, False)
        figures += _latency(f"service_{channel}", f"service {channel}", ms, True)
        for phase in PHASES:
            phase_ms = [x * 1e3 for x in service.of(channel, phase)]
            key = f"service_{channel}_{phase.replace('-', '')}"
            figures += _latency(key, f"  {channel} {phase}", phase_ms, False)
        if ms and bare_ms:
            ratio = percentile(ms, 0.99) / percentile(bare_ms, 0.99)
            figures.append(
                Figure(f"{channel}_p99_ratio", f"  {channel} p99 / baseline", ratio, "x")
            )
    rate = service.requests / service.wall_s if service.wall_s else 0.0
    figures.append(Figure("service_rps", "service requests per second", rate, "req/s"))
    failures = sum(r.failures for r in runs.values())
    total = options.conversations + WARMUP
    contacts, messages = counts
    figures += [
        Figure("failed", "failed requests (incl. warm-up)", failures, "", "0", failures == 0),
        Figure("contacts", "conversations stored", contacts, "", f"{total:,}", contacts == total),
        Figure(
            "messages", "messages stored", messages, "", f"{2 * total:,}", messages == 2 * total
        ),
    ]
    errors = (f"{name}: {r.first_error}" for name, r in runs.items() if r.first_error)
    meta: dict[str, object] = {
        "backend": options.stores.backend,
        "conversations": options.conversations,
        "warmup": WARMUP,
        "concurrency": options.concurrency,
        "load": load,
        **platform_meta(),
    }
    answers = {name: dict(r.kinds.most_common()) for name, r in runs.items()}
    requests = sum(r.requests for r in runs.values())
    return Outcome(figures, failures, requests, next(errors, ""), answers=answers, meta=meta)


def _table(outcome: Outcome) -> str:
    m = outcome.meta
    lines = [
        f"message webhook benchmark  backend={m['backend']}  conversations={m['conversations']:,}"
        f" (+{m['warmup']} warm-up)  concurrency={m['concurrency']}  load {m['load']}",
        f"python {m['python']} ({m['machine']}, {m['cpus']} cpus)",
        "",
        *figure_table(outcome.figures, COLUMNS),
        "",
        *(
            f"{name}: " + ", ".join(f"{kind} {n:,}" for kind, n in kinds.items())
            for name, kinds in outcome.answers.items()
        ),
    ]
    return "\n".join(lines)


def _document(outcome: Outcome) -> dict[str, object]:
    return outcome_document(outcome, answers=outcome.answers)


def _parser() -> argparse.ArgumentParser:
    parser = harness.bench_parser("python -m bench.messages", __doc__)
    add = parser.add_argument
    add("--conversations", type=int, default=1000, help="conversations to open (default 1000)")
    add("--concurrency", type=int, default=50, help="concurrent webhook posts (default 50)")
    add("--json", action="store_true", help="print JSON instead of a table")
    harness.add_store_options(parser, DEFAULT_REDIS_URL)
    add("--profile", type=Path, metavar="FILE", help="run serve under cProfile into FILE")
    add("--logs", type=Path, metavar="DIR", help="keep the service logs in DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark: 2 when a request failed or the service could not start, else 0."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.conversations < 2 or args.concurrency < 1:
        parser.error("--conversations must be at least 2, --concurrency at least 1")
    options = Options(
        args.conversations,
        args.concurrency,
        harness.chosen_stores(parser, args, DEFAULT_REDIS_URL),
        args.profile,
        args.logs,
    )
    outcome = harness.guarded(lambda: run(options))
    if outcome is None:
        return 2
    return harness.report(outcome, args.json, _document, _table)


if __name__ == "__main__":
    raise SystemExit(main())
