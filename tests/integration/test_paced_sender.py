"""The paced lane on a real database and Redis, sending to the fake Twilio and Bot API:
pacing per sending number, the class rules at send time, refusals, and exactly once when a
sender dies mid-send. The token buckets run on simulated time (`paced_world`): pacing is
counted per simulated second, and what it achieves in real time is the broadcast bench's
to measure (`python -m bench.broadcast`)."""

from __future__ import annotations

import asyncio
import inspect
from collections import Counter
from collections.abc import AsyncIterator, Callable
from itertools import accumulate
from typing import cast

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.db.models import OptOutRow, OutboxRow, TelegramLinkRow
from helpline.jobs import Context, running_worker, sweep_paced
from helpline.optout import stop
from helpline.paced_rows import LEASE, claim, recover_stuck, release_held
from helpline.pacing import TELEGRAM_BURST, TELEGRAM_RATE
from helpline.sender import LANES, PacedSender, kick, watch
from routing.segments import segments
from tests.conftest import FrozenClock
from tests.fakes.telegram_api import FakeUser
from tests.integration.paced_world import NETWORK, Live, add_rows, live_services, rows_of
from tests.integration.test_pacing import busiest_second
from tests.unit.rota_fixtures import oslo, utc

pytestmark = pytest.mark.integration

BODY = "Nettverkstreff torsdag kl. 18 på Bærum kulturhus.\n\nSvar STOPP for å melde deg av."
PHONES = [f"+47900{n:05d}" for n in range(60)]
LANE_KEYS = [f"sender:lane:{n}" for n in range(LANES)]


@pytest.fixture
async def live(services: Services, clock: FrozenClock) -> AsyncIterator[Live]:
    clock.now = oslo(2026, 11, 23, 12)  # a Monday noon: not quiet
    async with live_services(services, clock, sms_rate=20) as world:
        yield world


async def until(condition: Callable[[], object], seconds: float = 10.0) -> None:
    """Poll `condition` (a check, or a coroutine function) until it holds; give up after
    `seconds`."""
    for _ in range(int(seconds * 100)):
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not so within {seconds} s")


def stamp_at_grant(live: Live, arrived: Callable[[], int]) -> None:
    """Let the simulated clock move on only once every message granted so far has
    reached its fake: each is then stamped with the instant its tokens were taken. (One
    bucket: `SimulatedTime.granted` counts its grants.)"""
    live.pacing.settle = lambda: until(lambda: arrived() >= live.pacing.granted)


async def drain(sender: PacedSender) -> int:
    """Run batches until nothing is left to claim."""
    total = 0
    while claimed := await sender.run_batch():
        total += claimed
    return total


async def test_queued_rows_go_out_once_each_and_are_recorded(live: Live) -> None:
    ids = await add_rows(
        live.services, [("sms", p) for p in PHONES[:5]] + [("telegram", "555")], BODY
    )
    assert await drain(PacedSender(live.services)) == 6
    rows = await rows_of(live.services, ids)
    assert [r.status for r in rows] == ["sent"] * 6
    assert sorted(m.form["To"] for m in live.twilio.messages) == PHONES[:5]
    assert {m.form["From"] for m in live.twilio.messages} == {NETWORK}
    assert {r.to: r.provider_id for r in rows[:5]} == {
        m.form["To"]: m.sid for m in live.twilio.messages
    }
    assert live.twilio.messages[0].form["StatusCallback"] == "http://helpline.test/twilio/status"
    [telegram] = live.telegram.sent_messages(555)
    assert telegram["text"] == BODY and rows[5].provider_id == str(telegram["message_id"])
    assert await drain(PacedSender(live.services)) == 0


async def test_sms_never_exceed_rate_plus_burst_in_any_second(live: Live) -> None:
    """Two senders (as two workers) share one number's bucket: 20 segments a second, with
    a burst of 20; a third of the messages take two segments."""
    long = BODY + " " + "x" * 100  # two segments
    short_ids = await add_rows(live.services, [("sms", p) for p in PHONES[:40]], BODY)
    long_ids = await add_rows(live.services, [("sms", p) for p in PHONES[40:]], long)
    total = 40 + 20 * segments(long).count
    assert total == 80
    stamp_at_grant(live, lambda: len(live.twilio.messages))
    two = (drain(PacedSender(live.services)), drain(PacedSender(live.services)))
    sent = await asyncio.gather(*two)
    assert sum(sent) == 60
    assert [r.status for r in await rows_of(live.services, short_ids + long_ids)] == ["sent"] * 60
    parts = [segments(m.form["Body"]).count for m in live.twilio.messages]
    arrivals = [m.at for m, n in zip(live.twilio.messages, parts, strict=True) for _ in range(n)]
    assert busiest_second(arrivals) <= 20 + 20
    # A new bucket starts empty, so the rate alone: each message goes once the last of its
    # segments' tokens came, a token every 50 ms; 80 segments take 4 s.
    start = live.pacing.start_ms
    assert [round(m.at * 1000) - start for m in live.twilio.messages] == [
        50 * n for n in accumulate(parts)
    ]
    assert live.pacing.elapsed_ms == total * 50


async def test_telegram_stays_under_thirty_a_second(live: Live) -> None:
    chats = [str(5_000 + n) for n in range(45)]
    await add_rows(live.services, [("telegram", c) for c in chats], "Hei")

    def delivered() -> list[float]:
        return [call.at for call in live.telegram.calls_to("sendMessage") if call.ok]

    stamp_at_grant(live, lambda: len(delivered()))
    await asyncio.gather(drain(PacedSender(live.services)), drain(PacedSender(live.services)))
    arrivals = delivered()
    assert len(arrivals) == 45
    assert busiest_second(arrivals) <= TELEGRAM_RATE + TELEGRAM_BURST < 30
    assert live.pacing.elapsed_ms == 45 * 50  # from empty, at 20 a second


async def test_at_send_time_quiet_hours_hold_sms_and_info_and_silence_group_telegram(
    live: Live, clock: FrozenClock
) -> None:
    clock.now = oslo(2026, 11, 23, 23)  # queued by day, claimed in quiet hours
    info = await add_rows(live.services, [("sms", PHONES[0]), ("telegram", "601")], BODY)
    group = await add_rows(
        live.services,
        [("sms", PHONES[1]), ("telegram", "602")],
        "Hei alle",
        msg_class="group",
        group_id="asker-rf-nilsen",
    )
    await drain(PacedSender(live.services))
    rows = await rows_of(live.services, info + group)
    morning = utc(2026, 11, 24, 7)  # 08:00 in Oslo
    assert [(r.status, r.not_before) for r in rows] == [
        ("held", morning), ("held", morning), ("held", morning), ("sent", None),
    ]  # fmt: skip
    [silent] = live.telegram.calls_to("sendMessage")
    assert silent.params["chat_id"] == 602 and silent.params["disable_notification"] is True
    assert not live.twilio.messages

    clock.now = morning
    assert await release_held(live.services.sessions, clock.now) == 3
    await drain(PacedSender(live.services))
    assert [r.status for r in await rows_of(live.services, info + group)] == ["sent"] * 4
    assert sorted(m.form["To"] for m in live.twilio.messages) == [PHONES[0], PHONES[1]]


async def test_a_stopp_after_queueing_stops_the_message(live: Live) -> None:
    ids = await add_rows(live.services, [("sms", PHONES[0]), ("sms", PHONES[1])], BODY)
    group = await add_rows(
        live.services,
        [("sms", PHONES[2])],
        "Hei",
        msg_class="group",
        group_id="asker-rf-nilsen",
        sender="+4767000091",
    )
    async with live.services.sessions() as session, session.begin():
        await stop(session, "sms", PHONES[0], "network", "keyword", live.services.clock())
        # STOPP to the network number does not stop a group's messages from its own number
        await stop(session, "sms", PHONES[2], "network", "keyword", live.services.clock())
    await drain(PacedSender(live.services))
    rows = await rows_of(live.services, ids + group)
    assert [r.status for r in rows] == ["opted_out", "sent", "sent"]
    assert sorted(m.form["To"] for m in live.twilio.messages) == [PHONES[1], PHONES[2]]


async def test_a_carrier_stop_and_a_blocked_bot_are_stored(live: Live) -> None:
    now = live.services.clock()
    async with live.services.sessions() as session, session.begin():
        session.add(
            TelegramLinkRow(
                user_id=701, chat_id=701, kind="foster_home", target_id="hansen", linked_at=now
            )
        )
    live.twilio.refuse(PHONES[0])
    live.telegram.add_user(FakeUser(701, "Liv"))
    live.telegram.block(701)
    ids = await add_rows(live.services, [("sms", PHONES[0]), ("telegram", "701")], BODY)
    await drain(PacedSender(live.services))
    rows = await rows_of(live.services, ids)
    assert [(r.status, r.error_code) for r in rows] == [("failed", 21610), ("failed", 403)]
    async with live.services.sessions() as session:
        stops = list(await session.scalars(select(OptOutRow)))
        link = await session.get(TelegramLinkRow, 701)
    assert [(s.channel, s.address, s.scope, s.source) for s in stops] == [
        ("sms", PHONES[0], "network", "carrier")
    ]
    assert link is not None and link.blocked_at == now


async def test_a_vendor_outage_is_retried_later(live: Live, clock: FrozenClock) -> None:
    [row_id] = await add_rows(live.services, [("sms", PHONES[0])], BODY)
    live.twilio.fail_next(503)
    await drain(PacedSender(live.services))
    [row] = await rows_of(live.services, [row_id])
    assert (row.status, row.attempts) == ("queued", 1) and row.not_before is not None
    assert await drain(PacedSender(live.services)) == 0  # not before its time
    clock.now = row.not_before
    await drain(PacedSender(live.services))
    [row] = await rows_of(live.services, [row_id])
    assert (row.status, row.attempts) == ("sent", 2)
    assert [m.status for m in live.twilio.messages] == [503, 201]


async def test_a_sender_killed_mid_send_leaves_each_recipient_sent_exactly_once(
    live: Live, clock: FrozenClock
) -> None:
    """The first sender dies while Twilio and Telegram are answering: they take what they
    were given, but the sender never learns it. Other rows it never claimed. A second
    sender sends those at once, and after the lease it asks Twilio (its message list) about
    the dead sender's claims: every phone gets exactly one SMS. Telegram cannot say, so the
    chat that may have got it is not sent it again (at most once)."""
    phones = PHONES[:12]
    ids = await add_rows(
        live.services,
        [("telegram", "801"), ("telegram", "802")] + [("sms", p) for p in phones],
        BODY,
    )
    live.telegram.delay_next(30, count=1)  # one chat's answer is held back...
    live.twilio.delay_next(30, count=3)  # ...and so are the first three SMS
    batch = PacedSender(live.services).batch_size()  # both chats and batch - 2 phones
    first = asyncio.create_task(PacedSender(live.services).run_batch())

    async def only_the_held_back_are_unanswered() -> bool:
        held = live.twilio.holding == 3 and live.telegram.holding == 1
        rows = await rows_of(live.services, ids)
        return held and sum(r.status == "sent" for r in rows) == batch - 4

    await until(only_the_held_back_are_unanswered)  # the rest went through and are recorded
    first.cancel()  # the worker is gone: nothing more of it runs
    await asyncio.gather(first, return_exceptions=True)
    live.twilio.release()
    live.telegram.release()
    await until(lambda: len(live.telegram.calls_to("sendMessage")) == 2)
    await until(lambda: len(live.twilio.created) == batch - 2)
    second = PacedSender(live.services)
    assert await drain(second) == len(ids) - batch  # the rows the first never claimed
    stuck = [r.id for r in await rows_of(live.services, ids) if r.status == "sending"]
    assert len(stuck) == 4 and stuck[0] in ids[:2]  # the dead sender's claims, till the lease
    unknown = stuck[0]  # the Telegram message whose answer the dead sender never got
    clock.now += LEASE + LEASE / 10
    assert await recover_stuck(live.services.sessions, clock.now) == stuck
    assert await drain(second) == 4
    rows = await rows_of(live.services, ids)
    assert [r.status for r in rows] == ["failed" if r.id == unknown else "sent" for r in rows]
    got = Counter(m.form["To"] for m in live.twilio.messages if m.accepted)
    assert got == Counter(dict.fromkeys(phones, 1))  # exactly once each
    assert {r.provider_id for r in rows[2:]} == {r["sid"] for r in live.twilio.created}
    by_chat = Counter(m["chat"]["id"] for m in live.telegram.sent_messages())
    assert by_chat == Counter({801: 1, 802: 1})  # each got it once; one row says it failed


async def test_claims_are_exclusive(live: Live) -> None:
    await add_rows(live.services, [("sms", p) for p in PHONES[:30]], BODY)
    now = live.services.clock()
    batches = await asyncio.gather(*(claim(live.services.sessions, now, 7) for _ in range(6)))
    claimed = [row.id for batch in batches for row in batch]
    assert len(claimed) == len(set(claimed))


async def test_the_lanes_run_as_saq_jobs_and_rest_when_done(live: Live) -> None:
    ids = await add_rows(live.services, [("sms", p) for p in PHONES[:20]], BODY)
    assert await kick(live.services) == LANES
    assert await kick(live.services) == 0  # running already
    async with running_worker(live.services):
        await until(lambda: len(live.twilio.created) == 20, seconds=20)
        for _ in range(200):  # the lanes find nothing more and rest
            if not await live.services.redis.exists(*LANE_KEYS):
                break
            await asyncio.sleep(0.05)
    assert [r.status for r in await rows_of(live.services, ids)] == ["sent"] * 20
    got = Counter(m.form["To"] for m in live.twilio.messages)
    assert got == Counter(dict.fromkeys(PHONES[:20], 1))
    assert not await live.services.redis.exists(*LANE_KEYS)
    assert await kick(live.services) == LANES  # rested lanes start again at once


async def test_the_minute_sweep_releases_held_rows_and_takes_back_dead_claims(
    live: Live, clock: FrozenClock
) -> None:
    held = await add_rows(live.services, [("sms", PHONES[0])], BODY, status="held")
    async with live.services.sessions() as session, session.begin():
        for row in await session.scalars(select(OutboxRow).where(OutboxRow.id.in_(held))):
            row.not_before = clock.now
    stuck = await add_rows(live.services, [("sms", PHONES[1])], BODY, status="sending")
    help_row = await add_rows(
        live.services, [("sms", PHONES[2])], "Hjelp", status="sending", msg_class="help"
    )
    async with live.services.sessions() as session, session.begin():
        claimed = select(OutboxRow).where(OutboxRow.id.in_(stuck + help_row))
        for row in await session.scalars(claimed):
            row.claimed_at = clock.now - LEASE * 2
    context = cast(Context, {"services": live.services})
    assert await sweep_paced(context) == 2
    rows = await rows_of(live.services, held + stuck + help_row)
    assert [r.status for r in rows] == ["queued", "queued", "sending"]  # help is not ours


async def test_every_worker_watches_for_due_rows_no_lane_sends(
    live: Live, clock: FrozenClock
) -> None:
    """A worker died with every lane: the other's watch starts them again at once, and
    releases held rows when their time comes."""
    held = await add_rows(live.services, [("sms", PHONES[0])], BODY, status="held")
    async with live.services.sessions() as session, session.begin():
        row = await session.get(OutboxRow, held[0])
        assert row is not None
        row.not_before = clock.now
    watching = asyncio.create_task(watch(live.services, every=0.05))
    try:
        for _ in range(100):
            if await live.services.redis.exists(*LANE_KEYS) == LANES:
                break
            await asyncio.sleep(0.02)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    [row] = await rows_of(live.services, held)
    assert row.status == "queued"
    assert await live.services.redis.exists(*LANE_KEYS) == LANES
    assert await kick(live.services) == 0  # they were started: nothing more to start
