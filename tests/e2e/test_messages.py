"""Message conversations end to end: SMS webhooks signed like Twilio's, sandbox outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import cast

import pytest
from sqlalchemy import event, select
from sqlalchemy.util import await_only

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.contacts import read_contact
from helpline.db.models import ContactRow, MessageRow, OutboxRow
from helpline.jobs import Context, followup_batch, message_deadline, sweep_conversations
from routing.access import ADMIN
from routing.conversations import MessagePlan
from tests.conftest import FrozenClock, app_client
from tests.e2e.demo_duty import (
    ASKER_MONDAY_10,
    ASKER_MONDAY_EVENING,
    ASKER_MONDAY_NIGHT,
    BAERUM_MONDAY_10,
    MONDAY_21_51,
    MONDAY_21_55,
    MONDAY_22_01,
    phones,
)
from tests.e2e.demo_duty import MONDAY_10 as MONDAY_10  # the instant other e2e tests import
from tests.e2e.twilio_driver import TwilioDriver

pytestmark = pytest.mark.e2e

ASKER_LINE, BAERUM_LINE = "+4767000001", "+4767000002"
HANSEN, JOHANSEN, STRANGER = "+4798765432", "+4792345678", "+4790000001"


@pytest.fixture
async def twilio(services: Services, clock: FrozenClock) -> AsyncIterator[TwilioDriver]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield TwilioDriver(client, services.settings)
    await client.close()


#: The demo's chains on Monday 10:00, by kommune, as written down in `demo_duty`.
MONDAY_10_CHAINS = {"asker": ASKER_MONDAY_10, "baerum": BAERUM_MONDAY_10}


def chain(kommune: str = "asker") -> list[str]:
    """The numbers on duty for `kommune` on Monday 10:00, in the order they are called."""
    return phones(MONDAY_10_CHAINS[kommune])


class Sms:
    """Texts to the helpline, as Twilio posts them."""

    def __init__(self, twilio: TwilioDriver) -> None:
        self.twilio, self.count = twilio, 0

    async def send(
        self, sender: str, body: str, to: str = ASKER_LINE, sid: str | None = None
    ) -> int:
        self.count += 1
        form = {
            "MessageSid": sid or f"SM{self.count:032d}",
            "From": sender,
            "To": to,
            "Body": body,
            "AccountSid": "AC" + "0" * 32,
            "NumMedia": "0",
        }
        status, answer = await self.twilio.post("/twilio/sms", form)
        assert status == 200, answer
        return status


async def outbox(services: Services) -> list[OutboxRow]:
    async with services.sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def contacts(services: Services) -> list[ContactRow]:
    async with services.sessions() as session:
        return list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))


def to(rows: list[OutboxRow], phone: str) -> list[str]:
    return [row.body for row in rows if row.to == phone]


async def test_a_message_notifies_the_primary_once_and_the_parent_gets_one_receipt(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Vi trenger å snakke med noen i kveld.")
    clock.now = MONDAY_10 + timedelta(seconds=5)
    await sms.send(HANSEN, "Det haster litt.")  # in the first notice's window: batched
    [contact] = await contacts(services)
    code = f"K{contact.id}"
    primary = chain()[0]
    assert len(to(await outbox(services), primary)) == 1
    clock.now = MONDAY_10 + timedelta(minutes=1)  # the window's end: its batch job runs
    assert await followup_batch(cast(Context, {"services": services}), contact_id=contact.id) == 1
    rows = await outbox(services)
    first, follow = to(rows, primary)
    assert f"#{code}" in first and "Familien Hansen (Asker)" in first
    assert "Vi trenger å snakke med noen i kveld." in first
    assert "Det haster litt." in follow
    [receipt] = to(rows, HANSEN)
    assert ASKER_MONDAY_10[0].name.split()[0] in receipt and "113" in receipt and "112" in receipt
    assert all(row.sender == ASKER_LINE and row.status == "sandbox" for row in rows)
    assert (contact.channel, contact.foster_home_id, contact.notified_steps) == ("sms", "hansen", 1)


async def test_staff_answer_by_sms_is_relayed_without_their_number(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Kan noen ringe meg?")
    [contact] = await contacts(services)
    primary = chain()[0]
    await sms.send(primary, f"#K{contact.id} Hei! Jeg ringer deg om fem minutter.")
    rows = await outbox(services)
    relayed = to(rows, HANSEN)[-1]
    assert relayed.endswith("Hei! Jeg ringer deg om fem minutter.")
    assert primary not in relayed
    [contact] = await contacts(services)
    assert contact.answered_at == MONDAY_10 and contact.first_answer_at == MONDAY_10
    assert contact.acknowledged_phone == primary and contact.outcome == "answered"
    async with services.sessions() as session:
        directions = [
            (m.direction, m.sender_role)
            for m in await session.scalars(select(MessageRow).order_by(MessageRow.id))
        ]
    assert directions == [("in", "foster_parent"), ("out", "staff")]
    async with services.sessions() as session, session.begin():
        detail = await read_contact(session, contact.id, ADMIN)
    assert detail is not None and isinstance(messages := detail["messages"], list)
    bodies = [m["body"] for m in messages]
    assert bodies == ["Kan noen ringe meg?", "Hei! Jeg ringer deg om fem minutter."]
    assert (detail["seconds_to_answer"], detail["seconds_to_first_answer"]) == (0, 0)
    clock.now = MONDAY_10 + timedelta(minutes=2)  # a new window: told at once
    await sms.send(HANSEN, "Takk!")  # joins the conversation, goes to the one who took it
    assert "Takk!" in to(await outbox(services), primary)[-1]


async def test_a_retried_sms_is_processed_once(twilio: TwilioDriver, services: Services) -> None:
    sms = Sms(twilio)
    for _ in range(3):
        await sms.send(HANSEN, "Hei", sid="SM-retried")
    assert len(await contacts(services)) == 1
    assert len(await outbox(services)) == 2  # one notification, one receipt


async def test_escalation_after_the_deadline_then_everyone_is_alerted(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Hjelp")
    [contact] = await contacts(services)
    ctx = cast(Context, {"services": services})
    steps = chain()
    clock.now = MONDAY_10 + timedelta(minutes=9)
    await message_deadline(ctx, contact_id=contact.id)  # too early: nothing
    assert len(to(await outbox(services), steps[1])) == 0
    for minutes, step in ((10, 1), (20, 2), (30, 3)):
        clock.now = MONDAY_10 + timedelta(minutes=minutes)
        await message_deadline(ctx, contact_id=contact.id)
        await message_deadline(ctx, contact_id=contact.id)  # a duplicate run: nothing more
        escalated = to(await outbox(services), steps[step])
        assert len(escalated) == 1 and "ikke besvart av" in escalated[0]
    clock.now = MONDAY_10 + timedelta(minutes=40)
    await message_deadline(ctx, contact_id=contact.id)
    await sweep_conversations(ctx)
    rows = await outbox(services)
    alerts = [row for row in rows if row.kind == "alert"]
    assert sorted(row.to for row in alerts) == sorted(set(steps))
    [contact] = await contacts(services)
    assert contact.exhausted_at is not None and contact.urgent


async def test_a_taken_conversation_never_escalates(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Hjelp")
    [contact] = await contacts(services)
    await sms.send(chain()[0], f"#K{contact.id} JA")
    clock.now = MONDAY_10 + timedelta(hours=1)
    await message_deadline(cast(Context, {"services": services}), contact_id=contact.id)
    assert to(await outbox(services), chain()[1]) == []


async def test_several_open_conversations_need_a_code(
    twilio: TwilioDriver, services: Services
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Hei fra Hansen")
    await sms.send(JOHANSEN, "Hei fra Johansen")
    first, second = await contacts(services)
    before = len(await outbox(services))
    await sms.send(chain()[0], "Jeg ringer dere snart")
    rows = await outbox(services)
    assert len(rows) == before + 1
    help_text = rows[-1].body
    assert rows[-1].to == chain()[0]
    assert f"#K{first.id}" in help_text and f"#K{second.id}" in help_text
    assert to(rows, HANSEN)[-1] != "Jeg ringer dere snart"


async def test_closing_with_a_category_and_an_unknown_category(
    twilio: TwilioDriver, services: Services
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Spørsmål om skolen")
    [contact] = await contacts(services)
    primary = chain()[0]
    await sms.send(primary, f"#K{contact.id} LUKK hobby")
    assert "samvær" in to(await outbox(services), primary)[-1]
    [contact] = await contacts(services)
    assert contact.closed_at is None
    await sms.send(primary, f"#k{contact.id} lukk Skole")
    [contact] = await contacts(services)
    assert contact.closed_at == MONDAY_10 and contact.category == "skole"
    await sms.send(HANSEN, "En ny sak")
    assert len(await contacts(services)) == 2  # a closed conversation is not reopened


async def test_an_unknown_number_opens_a_conversation_for_the_dialled_kommune(
    twilio: TwilioDriver, services: Services
) -> None:
    await Sms(twilio).send(STRANGER, "Hei, jeg er nytt fosterhjem", to=BAERUM_LINE)
    [contact] = await contacts(services)
    assert (contact.kommune_id, contact.foster_home_id) == ("baerum", None)
    first = to(await outbox(services), chain("baerum")[0])[0]
    assert "et ukjent nummer (Bærum)" in first and STRANGER not in first


async def test_a_forged_sms_is_403_and_changes_nothing(
    twilio: TwilioDriver, services: Services
) -> None:
    form = {"MessageSid": "SM-forged", "From": HANSEN, "To": ASKER_LINE, "Body": "x"}
    status, _ = await twilio.post("/twilio/sms", form, signature="bad")
    assert status == 403
    assert await contacts(services) == [] and await outbox(services) == []


async def test_at_a_shift_change_a_conversation_nobody_took_moves_on(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    evening, night = MONDAY_21_55, MONDAY_22_01  # asker-bvt's evening, then bvv-vest's night
    before, after = ASKER_MONDAY_EVENING[0], ASKER_MONDAY_NIGHT[0]  # Ola, then Hilde
    clock.now = evening
    await Sms(twilio).send(HANSEN, "Vi trenger hjelp i kveld")
    clock.now = night
    ctx = cast(Context, {"services": services})
    await sweep_conversations(ctx)
    await sweep_conversations(ctx)  # the next minute: nothing moves twice
    rows = await outbox(services)
    [contact] = await contacts(services)
    moved = to(rows, before.phone)[-1]
    assert "Barnevernvakta" in moved or after.name.split()[0] in moved
    [notified] = to(rows, after.phone)
    assert f"#K{contact.id}" in notified and "Vi trenger hjelp i kveld" in notified
    assert contact.notified_steps == 1 and contact.last_notified_at == night


async def test_coordinators_are_alerted_when_nobody_takes_a_message(
    services: Services, clock: FrozenClock
) -> None:
    coordinator = "+4791112222"
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    settings = replace(services.settings, coordinators=(coordinator,))
    client = await app_client(replace(services, settings=settings))
    try:
        await Sms(TwilioDriver(client, settings)).send(HANSEN, "Hjelp")
    finally:
        await client.close()
    [contact] = await contacts(services)
    ctx = cast(Context, {"services": replace(services, settings=settings)})
    for minutes in (10, 20, 30, 40):
        clock.now = MONDAY_10 + timedelta(minutes=minutes)
        await message_deadline(ctx, contact_id=contact.id)
    [alert] = to(await outbox(services), coordinator)
    assert f"#K{contact.id}" in alert and "Ingen har tatt meldingen" in alert
    assert "Hjelp" not in alert  # the message itself stays in the contact log


async def test_two_deadline_runs_at_once_escalate_once(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    """The deadline job and the minute sweep may run together; SQLite has no row locks,
    so only a compare-and-set keeps them from both notifying the next step."""
    sms = Sms(twilio)
    for phone in (HANSEN, JOHANSEN, "+4747112233", "+4799887766"):
        await sms.send(phone, "Hjelp")
    clock.now = MONDAY_10 + timedelta(minutes=10)
    ctx = cast(Context, {"services": services})
    for contact in await contacts(services):
        await asyncio.gather(
            *(message_deadline(ctx, contact_id=contact.id) for _ in range(3)),
            sweep_conversations(ctx),
        )
    rows = await outbox(services)
    for contact in await contacts(services):
        notices = [r for r in rows if r.contact_id == contact.id and r.kind == "notify"]
        assert len(notices) == 2, contact.id
        assert contact.notified_steps == 2


async def test_an_unknown_number_gets_a_neutral_receipt_that_names_nobody(
    twilio: TwilioDriver, services: Services
) -> None:
    """Anyone can text the helpline: a stranger must not learn who is on duty."""
    await Sms(twilio).send(STRANGER, "Hvem har vakt nå?", to=BAERUM_LINE)
    [receipt] = to(await outbox(services), STRANGER)
    for name in [entry.name for entry in BAERUM_MONDAY_10]:
        for word in name.split():
            assert word not in receipt, word
    for number in ("113", "112", "116 111"):
        assert number in receipt
    assert "innen 10 minutter" in receipt


@contextmanager
def paused_after_first_read(
    services: Services, contact_id: int
) -> Iterator[tuple[asyncio.Event, asyncio.Event]]:
    """Hold the first transaction that reads conversation `contact_id` whole, right after
    that read (`seen` is set then), until `go` is set: it waits on the event loop, in
    SQLAlchemy's greenlet, so everything else runs meanwhile. Only on SQLite: there
    PostgreSQL's FOR UPDATE would make any second reader wait for the first."""
    go, seen = asyncio.Event(), asyncio.Event()

    def after(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        if (
            not seen.is_set()
            and statement.startswith("SELECT contacts.id, contacts.channel")
            and params == (contact_id,)
        ):
            seen.set()
            await_only(go.wait())

    engine = services.engine.sync_engine
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen, go
    finally:
        event.remove(engine, "after_cursor_execute", after)


async def test_the_sweep_and_a_deadline_job_at_a_shift_change_move_a_conversation_once(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    """At 22:00 the night team takes over as the evening primary's deadline passes: the
    sweep reassigns, the deadline job escalates, at the same moment. The sweep reads the
    conversation, the deadline job then escalates it, and only then does the sweep write:
    through the one claim it finds the state changed and leaves it (the next minute's
    sweep moves it on). Without the claim it would overwrite the escalation, telling the
    primary, not the backup who now has it, that it moved."""
    opened = MONDAY_21_51  # asker-bvt's evening
    moment = MONDAY_22_01  # bvv-vest's night, and the deadline
    primary, backup = phones(ASKER_MONDAY_EVENING)[:2]  # Ola Berg, then Ingrid Solberg
    night = ASKER_MONDAY_NIGHT[0].phone  # Barnevernvakta Vest's duty phone
    clock.now = opened
    await Sms(twilio).send(HANSEN, "Hjelp")
    [contact] = await contacts(services)
    clock.now = moment
    ctx = cast(Context, {"services": services})
    if services.engine.dialect.name == "sqlite":
        with paused_after_first_read(services, contact.id) as (seen, go):
            sweep = asyncio.create_task(sweep_conversations(ctx))
            await asyncio.wait_for(seen.wait(), 10)  # the sweep has read the conversation
            await message_deadline(ctx, contact_id=contact.id)  # reads, escalates, commits
            go.set()
            await sweep
    else:
        await asyncio.gather(message_deadline(ctx, contact_id=contact.id), sweep_conversations(ctx))

    def told(rows: list[OutboxRow]) -> list[tuple[str, str]]:
        return [(r.kind, r.to) for r in rows if r.kind in ("notify", "moved")]

    [contact] = await contacts(services)
    plan = MessagePlan.from_json(contact.message_plan or "")
    stored = (contact.notified_steps, plan.steps[contact.notified_steps - 1].phone)
    escalated = ([("notify", primary), ("notify", backup)], (2, backup))
    serial = [
        escalated,  # the job first; the sweep lost the claim
        ([("notify", primary), ("moved", primary), ("notify", night)], (1, night)),
        ([("notify", primary), ("notify", backup), ("moved", backup), ("notify", night)],
         (1, night)),  # the job, then the sweep on what the job stored
    ]  # fmt: skip
    if services.engine.dialect.name == "sqlite":
        assert (told(await outbox(services)), stored) == escalated
    else:
        assert (told(await outbox(services)), stored) in serial
    await sweep_conversations(ctx)  # the next minute: moved on, the backup told
    assert told(await outbox(services))[2:] == [("moved", backup), ("notify", night)]
