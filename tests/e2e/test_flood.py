"""Flood control end to end: signed SMS webhooks, counters in a real Redis, batch jobs run
as the worker runs them. Nothing is dropped: every message stored, every sender answered."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import cast

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select, update

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import ContactRow, MessageRow
from helpline.effects import followup_key
from helpline.jobs import Context, followup_batch, sweep_followups
from routing import message_texts as say
from routing.flood import window_at
from tests.conftest import FrozenClock, app_client
from tests.e2e.test_messages import (
    ASKER_LINE,
    BAERUM_LINE,
    HANSEN,
    MONDAY_10,
    Sms,
    chain,
    contacts,
    outbox,
    to,
)
from tests.e2e.twilio_driver import TwilioDriver

pytestmark = pytest.mark.e2e

COORDINATOR = "+4791112222"


@pytest.fixture
async def flooding(services: Services, clock: FrozenClock) -> AsyncIterator[Services]:
    """The demo organisation, a coordinator, and the clock at Monday 10:00."""
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    yield replace(services, settings=replace(services.settings, coordinators=(COORDINATOR,)))


@pytest.fixture
async def sms(flooding: Services) -> AsyncIterator[Sms]:
    client = await app_client(flooding)
    yield Sms(TwilioDriver(client, flooding.settings))
    await client.close()


def context(services: Services) -> Context:
    return cast(Context, {"services": services})


async def stored(services: Services) -> list[str]:
    async with services.sessions() as session:
        bodies = select(MessageRow.body).where(MessageRow.direction == "in")
        return list(await session.scalars(bodies.order_by(MessageRow.id)))


def unknown(i: int) -> str:
    return f"+479000{i:04d}"


async def test_thirty_sms_in_a_minute_make_one_notice_and_one_batch(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    bodies = [f"Melding nummer {i}" for i in range(30)]
    for i, body in enumerate(bodies):
        clock.now = MONDAY_10 + timedelta(seconds=i)
        await sms.send(HANSEN, body)
    [contact] = await contacts(flooding)
    primary = chain()[0]
    assert len(to(await outbox(flooding), primary)) == 1  # the conversation's first notice
    window = window_at(MONDAY_10, timedelta(seconds=60))
    job = await flooding.queue.job(followup_key(contact.id, window.index))
    assert job is not None and job.scheduled >= window.end.timestamp()  # durable, at its end
    clock.now = window.end + timedelta(seconds=1)
    assert await followup_batch(context(flooding), contact_id=contact.id) == 29
    assert await followup_batch(context(flooding), contact_id=contact.id) == 0  # a rerun
    assert await sweep_followups(context(flooding)) == 0
    first, batch = to(await outbox(flooding), primary)
    assert bodies[0] in first
    assert batch.startswith(f"29 nye meldinger fra Familien Hansen (Asker) i #K{contact.id}:")
    assert all(body in batch for body in bodies[1:]) and len(batch) <= 1600
    assert await stored(flooding) == bodies  # nothing dropped
    assert len(to(await outbox(flooding), HANSEN)) == 1  # one receipt


async def test_two_batch_runs_at_once_tell_staff_once(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    for i in range(3):
        clock.now = MONDAY_10 + timedelta(seconds=i)
        await sms.send(HANSEN, f"Hei {i}")
    [contact] = await contacts(flooding)
    clock.now = MONDAY_10 + timedelta(minutes=1, seconds=1)
    ctx = context(flooding)
    told = await asyncio.gather(
        *(followup_batch(ctx, contact_id=contact.id) for _ in range(3)), sweep_followups(ctx)
    )
    assert sorted(told[:3]) == [0, 0, 2]
    assert len(to(await outbox(flooding), chain()[0])) == 2


async def test_a_follow_up_after_the_window_is_told_at_once_with_what_was_left(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    """The first window's batch job has not run (no worker here, as if it were lost): the
    next window's first follow-up carries the untold one too, and the sweep finds none."""
    await sms.send(HANSEN, "Første")
    clock.now = MONDAY_10 + timedelta(seconds=10)
    await sms.send(HANSEN, "Andre")
    clock.now = MONDAY_10 + timedelta(minutes=3)
    await sms.send(HANSEN, "Tredje")
    *_, last = to(await outbox(flooding), chain()[0])
    assert last.startswith("2 nye meldinger") and "«Andre»" in last and "«Tredje»" in last
    assert await sweep_followups(context(flooding)) == 0


async def test_the_sweep_sends_a_batch_whose_job_never_ran(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    for i in range(3):
        clock.now = MONDAY_10 + timedelta(seconds=i)
        await sms.send(HANSEN, f"Melding {i}")
    clock.now = MONDAY_10 + timedelta(seconds=30)
    assert await sweep_followups(context(flooding)) == 0  # the window is not over yet
    clock.now = MONDAY_10 + timedelta(minutes=2)
    assert await sweep_followups(context(flooding)) == 1
    assert to(await outbox(flooding), chain()[0])[-1].startswith("2 nye meldinger")


async def test_twenty_unknown_numbers_make_ten_conversations_and_one_flood(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    cap = flooding.settings.unknown_per_hour
    for i in range(20):
        clock.now = MONDAY_10 + timedelta(seconds=i)
        await sms.send(unknown(i), f"Hei fra nummer {i}")
    clock.now = MONDAY_10 + timedelta(seconds=30)
    await sms.send(unknown(15), "Hei igjen")  # a flood sender again: joins, no new receipt
    await sms.send(unknown(99), "Hei Bærum", to=BAERUM_LINE)  # the cap is per line
    found = await contacts(flooding)
    [flood] = [c for c in found if c.flood]
    assert len(found) == cap + 2
    assert [c.helpline_number for c in found if not c.flood].count(ASKER_LINE) == cap
    assert flood.helpline_number == ASKER_LINE and flood.kommune_id == "asker"
    assert len(await stored(flooding)) == 22  # every message stored
    rows = await outbox(flooding)
    for i in [*range(20), 99]:
        [receipt] = to(rows, unknown(i))  # every sender answered, once
        assert "116 111" in receipt and "vakt" not in receipt
    [alert] = to(rows, COORDINATOR)
    assert alert == say.flood_alert("Asker", f"K{flood.id}", cap)
    primary = chain()[0]
    notices = to(rows, primary)
    assert len(notices) == cap + 1  # one per conversation, the flood's first included
    assert "Mange nye meldinger fra ukjente numre" in notices[-1]
    clock.now = MONDAY_10 + timedelta(minutes=1, seconds=1)
    assert await followup_batch(context(flooding), contact_id=flood.id) == 10
    batch = to(await outbox(flooding), primary)[-1]
    assert batch.startswith(f"10 nye meldinger fra et ukjent nummer (Asker) i #K{flood.id}")
    assert "Hei igjen" in batch and unknown(15) not in batch


async def test_staff_cannot_answer_a_flood_conversation_as_if_it_had_one_sender(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    for i in range(flooding.settings.unknown_per_hour + 2):
        clock.now = MONDAY_10 + timedelta(seconds=i)
        await sms.send(unknown(i), "Hei")
    [flood] = [c for c in await contacts(flooding) if c.flood]
    before = await outbox(flooding)
    await sms.send(chain()[0], f"#K{flood.id} Hvem er dere?")
    [answer] = (await outbox(flooding))[len(before) :]
    assert answer.to == chain()[0] and answer.body == say.flood_no_reply(f"K{flood.id}")


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


async def test_with_redis_down_every_follow_up_is_notified_and_nothing_floods(
    flooding: Services, clock: FrozenClock
) -> None:
    dead = aioredis.from_url(f"redis://127.0.0.1:{dead_port()}", socket_connect_timeout=0.5)
    down = replace(flooding, redis=dead)
    client = await app_client(down)
    try:
        sms = Sms(TwilioDriver(client, down.settings))
        for i in range(5):
            clock.now = MONDAY_10 + timedelta(seconds=i)
            await sms.send(HANSEN, f"Melding {i}")
        for i in range(12):
            await sms.send(unknown(i), "Hei")
    finally:
        await client.close()
        await dead.aclose()
    found = await contacts(flooding)
    assert len(found) == 13 and not any(c.flood for c in found)
    assert len(to(await outbox(flooding), chain()[0])) == 1 + 4 + 12  # fail open: all told
    async with flooding.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MessageRow)) == 17


async def test_a_conversation_opened_before_flood_control_tells_only_what_is_new(
    sms: Sms, flooding: Services, clock: FrozenClock
) -> None:
    """Its earlier follow-ups were told one by one (no mark stored): none is told again."""
    await sms.send(HANSEN, "Første")
    clock.now = MONDAY_10 + timedelta(seconds=5)
    await sms.send(HANSEN, "Andre")
    async with flooding.sessions() as session, session.begin():
        await session.execute(update(ContactRow).values(followup_notified_at=None))
    clock.now = MONDAY_10 + timedelta(seconds=10)
    await sms.send(HANSEN, "Tredje")
    clock.now = MONDAY_10 + timedelta(minutes=5)
    assert await sweep_followups(context(flooding)) == 0
    first, new = to(await outbox(flooding), chain()[0])
    assert "«Tredje»" in new and "Andre" not in new
