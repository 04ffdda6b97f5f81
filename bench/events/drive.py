"""The event benchmark's run, figures and command line (see `bench.events.__main__`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bench import harness
from bench.escalation.org import bench_phones
from bench.events.verdicts import duplicates, order_holds, peak, told_position
from bench.figures import Columns, Figure, figure_table, figures_document, percentile, platform_meta
from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.engine import migrate
from helpline.db.models import EventNoticeRow, InvitationRow, OutboxRow
from helpline.event_actions import create_event, invite_event
from helpline.jobs import running_worker
from helpline.settings import Settings
from helpline.simulator.forms import incoming_sms
from helpline.twilio_signing import signed_headers
from helpline.web.app import create_app
from helpline.web.twilio_auth import signing_token
from rota.wallclock import local_instant, zone
from routing.access import ADMIN
from routing.event_rules import Draft
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, running_fake_twilio

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
NETWORK = "+4767000090"
COLUMNS = Columns(label=52, value=10, unit=6)
SEND_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Options:
    homes: int = 2000
    capacity: int = 300
    answers: int = 1500
    concurrency: int = 50
    cancellations: int = 200
    rate: int = 200  # SMS segments per second
    retries: float = 0.05  # share of answers whose webhook Twilio sends twice
    changes: float = 0.10  # share of answering homes that answer again differently
    seed: int = 10


@dataclass
class Observed:
    invite_s: float = 0.0
    invitation_segments: int = 0
    latencies: list[float] = field(default_factory=list)
    yes_samples: list[int] = field(default_factory=list)
    told: dict[str, int] = field(default_factory=dict)
    queue: dict[str, int] = field(default_factory=dict)
    freed: int = 0
    offers: list[str] = field(default_factory=list)
    offer_notices: int = 0
    final_yes: int = 0
    failures: int = 0


class ShiftedClock:
    """The real clock moved to a Monday noon in Oslo: time passes, quiet hours never hit."""

    def __init__(self) -> None:
        tz = zone("Europe/Oslo")
        noon = local_instant(date(2026, 11, 30), clock_time(12), tz)
        self.offset = noon - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def organisation(homes: int) -> tuple[str, dict[str, str]]:
    """The demo with `homes` more foster homes in Asker (one phone each), quiet hours as in
    the demo; the TOML and each bench home's phone."""
    phones = bench_phones(homes, reserved=())
    lines = [demo_text()]
    by_home: dict[str, str] = {}
    for n, phone in enumerate(phones):
        home = f"bench{n:05d}"
        by_home[home] = phone
        lines.append(
            f'\n[[foster_home]]\nid = "{home}"\nname = "Familie {n}"\nkommune = "asker"\n'
            f'phones = ["{phone}"]\n'
        )
    return "".join(lines), by_home


@asynccontextmanager
async def served(services: Services) -> AsyncIterator[str]:
    runner = web.AppRunner(create_app(services.settings, services=services), access_log=None)
    await runner.setup()
    port = harness.free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _count(services: Services, *where: object) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(func.count()).select_from(OutboxRow).where(*where))  # type: ignore[arg-type]  # column expressions
    return int(found or 0)


async def _wait_sent(services: Services, kind: str) -> None:
    deadline = time.monotonic() + SEND_TIMEOUT_S
    while await _count(
        services, OutboxRow.kind == kind, OutboxRow.status.in_(("queued", "sending"))
    ):
        if time.monotonic() > deadline:
            raise harness.BenchError(f"{kind} messages were not all sent in {SEND_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.1)


async def _yes_people(services: Services, event_id: int) -> int:
    async with services.sessions() as session:
        found = await session.scalar(
            select(func.coalesce(func.sum(InvitationRow.people), 0)).where(
                InvitationRow.event_id == event_id, InvitationRow.answer == "yes"
            )
        )
    return int(found or 0)


async def _sample(services: Services, event_id: int, seen: Observed, stop: asyncio.Event) -> None:
    while not stop.is_set():
        seen.yes_samples.append(await _yes_people(services, event_id))
        await asyncio.sleep(0.02)


def _script(options: Options, phones: dict[str, str]) -> list[tuple[str, str, str]]:
    """(home, body, MessageSid) of every webhook, retries and changed answers included."""
    rng = random.Random(options.seed)
    homes = rng.sample(sorted(phones), options.answers)
    posts: list[tuple[str, str, str]] = []
    for n, home in enumerate(homes):
        people = 1 if rng.random() < 0.8 else 2
        posts.append((home, f"JA 1 {people}" if people > 1 else "JA 1", f"SMja{n:030d}"))
        if rng.random() < options.retries:
            posts.append(posts[-1])
    changers = rng.sample(homes, int(options.changes * options.answers))
    for n, home in enumerate(changers):
        posts.append((home, rng.choice(["JA 1", "JA 1 2", "NEI 1"]), f"SMch{n:030d}"))
    rng.shuffle(posts[len(homes) :])
    return posts


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    public: str,
    token: str,
    phone: str,
    body: str,
    sid: str,
    seen: Observed,
) -> None:
    form = incoming_sms(sid, phone, NETWORK, body, FAKE_ACCOUNT_SID)
    headers = signed_headers(public + "/twilio/sms", form, token)  # Twilio signs the public URL
    started = time.perf_counter()
    async with session.post(url + "/twilio/sms", data=form, headers=headers) as response:
        await response.read()
        if response.status != 200:
            seen.failures += 1
    seen.latencies.append(time.perf_counter() - started)


async def _answer_all(
    services: Services, url: str, posts: Sequence[tuple[str, str, str]], phones: dict[str, str],
    concurrency: int, seen: Observed,
) -> None:  # fmt: skip
    token = signing_token(services.settings)
    public = services.settings.public_url
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as client:

        async def one(home: str, body: str, sid: str) -> None:
            async with gate:
                await _post(client, url, public, token, phones[home], body, sid, seen)

        first = [p for p in posts if p[2].startswith("SMja")]
        await asyncio.gather(*(one(*p) for p in first))
        await asyncio.gather(*(one(*p) for p in posts if not p[2].startswith("SMja")))


async def _cancel(
    services: Services, url: str, event_id: int, phones: dict[str, str], options: Options,
    seen: Observed,
) -> None:  # fmt: skip
    async with services.sessions() as session:
        rows = list(
            await session.scalars(
                select(InvitationRow).where(
                    InvitationRow.event_id == event_id, InvitationRow.answer == "yes"
                )
            )
        )
    rng = random.Random(options.seed + 1)
    leaving = rng.sample(rows, min(options.cancellations, len(rows)))
    seen.freed = sum(r.people for r in leaving)
    posts = [(r.foster_home_id, "NEI 1", f"SMno{n:030d}") for n, r in enumerate(leaving)]
    await _answer_all(services, url, posts, phones, options.concurrency, seen)


async def run(options: Options, settings: Settings) -> Observed:
    seen = Observed()
    clock = ShiftedClock()
    async with running_fake_twilio() as twilio:
        live = replace(
            settings, twilio_account_sid=FAKE_ACCOUNT_SID, twilio_auth_token=FAKE_AUTH_TOKEN,
            twilio_api_base=twilio.base_url, sms_rate=options.rate,
        )  # fmt: skip
        async with open_services(live, clock=clock) as services:
            await migrate(services.engine)
            org_text, phones = organisation(options.homes)
            await load_text(services, org_text)
            loaded = await services.organisation()
            assert loaded is not None
            now = clock()
            starts = now + timedelta(days=10)
            draft = Draft(
                "fagdag", "Fagdag for fosterforeldre", starts, starts + timedelta(hours=6),
                "Asker kulturhus", options.capacity, now + timedelta(days=7),
            )  # fmt: skip
            event_id = await create_event(services, loaded, draft, "kommune:asker", ADMIN, "bench")
            if event_id != 1:  # the answers say JA 1
                raise harness.BenchError("the stores were not empty: the event is not number 1")
            async with running_worker(services), served(services) as url:
                started = time.monotonic()
                await invite_event(services, loaded, event_id, None, ADMIN, "bench")
                await _wait_sent(services, "invitation")
                seen.invite_s = time.monotonic() - started
                async with services.sessions() as session:
                    seen.invitation_segments = int(
                        await session.scalar(
                            select(func.sum(OutboxRow.segments)).where(
                                OutboxRow.kind == "invitation", OutboxRow.channel == "sms"
                            )
                        )
                        or 0
                    )
                stop = asyncio.Event()
                sampler = asyncio.create_task(_sample(services, event_id, seen, stop))
                posts = _script(options, phones)
                await _answer_all(services, url, posts, phones, options.concurrency, seen)
                await _observe_line(services, event_id, twilio.messages, phones, seen)
                await _cancel(services, url, event_id, phones, options, seen)
                await _wait_sent(services, "event")
                stop.set()
                await sampler
                seen.final_yes = await _yes_people(services, event_id)
                by_phone = {phone: home for home, phone in phones.items()}
                seen.offers = [
                    by_phone[m.form["To"]]
                    for m in twilio.messages
                    if m.form["Body"].startswith("Det er blitt ledig plass")
                    and m.form["To"] in by_phone
                ]
                async with services.sessions() as session:
                    seen.offer_notices = int(
                        await session.scalar(
                            select(func.count())
                            .select_from(EventNoticeRow)
                            .where(EventNoticeRow.kind.like("offer:%"))
                        )
                        or 0
                    )
    return seen


async def _observe_line(
    services: Services, event_id: int, messages: Sequence[object], phones: dict[str, str],
    seen: Observed,
) -> None:  # fmt: skip
    """The positions the confirmations told, and the stored line, before cancellations."""
    by_phone = {phone: home for home, phone in phones.items()}
    for message in messages:
        form = getattr(message, "form", {})
        position = told_position(form.get("Body", ""))
        home = by_phone.get(form.get("To", ""))
        if position is not None and home is not None:
            seen.told[home] = position  # a later placing (after a changed answer) wins
    async with services.sessions() as session:
        rows = await session.scalars(
            select(InvitationRow).where(
                InvitationRow.event_id == event_id, InvitationRow.answer == "waitlist"
            )
        )
        seen.queue = {r.foster_home_id: r.queue or 0 for r in rows}


def figures(options: Options, seen: Observed) -> list[Figure]:
    expected = seen.invitation_segments / options.rate
    lat = sorted(seen.latencies)
    most = peak(seen.yes_samples)
    offers_once = duplicates(seen.offers) == 0 and len(seen.offers) == seen.offer_notices
    return [
        Figure("invitations", "invitations sent (SMS segments)", seen.invitation_segments, ""),
        Figure("invite_s", "time to send all invitations", seen.invite_s, "s"),
        Figure("invite_expected_s", "  at the configured rate it takes", expected, "s"),
        Figure("invite_ratio", "  ratio (1.0 = exactly the rate)", seen.invite_s / expected,
               "x", "≤ 1.10", seen.invite_s / expected <= 1.10),
        Figure("webhooks", "answer webhooks posted", len(lat), ""),
        Figure("answer_p50", "answer webhook p50", percentile(lat, 0.5) * 1000, "ms"),
        Figure("answer_p99", "answer webhook p99", percentile(lat, 0.99) * 1000, "ms"),
        Figure("failures", "webhooks not answered 200", seen.failures, "", "0",
               seen.failures == 0),
        Figure("yes_peak", "most people on yes at any sample", most, "", f"≤ {options.capacity}",
               most <= options.capacity),
        Figure("yes_samples", "  samples taken", len(seen.yes_samples), ""),
        Figure("yes_final", "people on yes at the end", seen.final_yes, ""),
        Figure("waitlist", "homes on the waitlist (before cancellations)", len(seen.queue), ""),
        Figure("order", "waitlist order holds (1 = yes)", float(order_holds(seen.told, seen.queue)),
               "", "1", order_holds(seen.told, seen.queue)),
        Figure("freed", "places freed by cancellations", seen.freed, ""),
        Figure("offers", "offers sent", len(seen.offers), ""),
        Figure("offers_per_place", "  offers per freed place",
               len(seen.offers) / seen.freed if seen.freed else 0.0, "", "≤ 1",
               len(seen.offers) <= seen.freed),
        Figure("offer_duplicates", "  offers sent twice", duplicates(seen.offers), "", "0",
               offers_once),
    ]  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__)
    harness.add_store_options(parser, DEFAULT_REDIS_URL)
    defaults = Options()
    for name in ("homes", "capacity", "answers", "concurrency", "cancellations", "rate"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    options = Options(args.homes, args.capacity, args.answers, args.concurrency,
                      args.cancellations, args.rate)  # fmt: skip
    if options.answers > options.homes:
        parser.error("--answers must not exceed --homes")
    stores = harness.chosen_stores(parser, args, DEFAULT_REDIS_URL)
    with tempfile.TemporaryDirectory(prefix="bench-events-") as work:
        env = {"HELPLINE_DATA_DIR": work, "HELPLINE_PUBLIC_URL": "http://helpline.bench"}
        if stores.database_url and stores.redis_url:
            harness.on_stores(harness.reset_stores(stores.database_url, stores.redis_url), "reset")
            env |= {"HELPLINE_DATABASE_URL": stores.database_url,
                    "HELPLINE_REDIS_URL": stores.redis_url}  # fmt: skip
        settings = Settings.from_mapping(env)
        seen = harness.guarded(lambda: asyncio.run(run(options, settings)))
    if seen is None:
        return 1
    found = figures(options, seen)
    if args.json:
        meta = {**platform_meta(), "backend": stores.backend, **options.__dict__}
        print(json.dumps({"figures": figures_document(found), "meta": meta}, indent=2))
    else:
        print(f"bench.events on {stores.backend}: {options}")
        print("\n".join(figure_table(found, COLUMNS)))
    return 0 if all(f.ok is not False for f in found) else 1


if __name__ == "__main__":
    sys.exit(main())
