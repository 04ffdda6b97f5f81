"""Broadcasts end to end (issue 9): made through the API, sent by the paced lane to the fake
Twilio and Bot API, their delivery moved by signed status callbacks (twice, and out of
order), carrier stops and a blocked bot, quiet hours, and help that still reaches a number
that said STOPP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from helpline import broadcasts
from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import OptOutRow, OutboxRow, TelegramLinkRow
from helpline.jobs import Context, sweep_paced
from helpline.optout import stop
from helpline.sender import PacedSender
from helpline.simulator.forms import incoming_sms
from helpline.web import twilio_voice
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import ADMIN_TOKEN, Client, add_token, auth
from tests.e2e.twilio_driver import TwilioDriver
from tests.fakes.telegram_api import FakeUser
from tests.integration.paced_world import NETWORK, Live, live_services
from tests.unit.rota_fixtures import oslo, utc

pytestmark = pytest.mark.e2e

ASKER_LINE = "+4767000001"
HANSEN = ("+4798765432", "+4798765433")
ASKER_PHONES = {*HANSEN, "+4792345678", "+4747112233", "+4790112233", "+4790554433"}
TEXT = "Nettverkstreff torsdag kl. 18 på Asker kulturhus. Velkommen!"
NILSEN_CHAT = 7001  # Familien Nilsen reads us on Telegram


@dataclass
class World:
    live: Live
    client: Client
    twilio: TwilioDriver

    @property
    def services(self) -> Services:
        return self.live.services

    async def broadcast(self, body: dict[str, Any], token: str = ADMIN_TOKEN) -> tuple[int, Any]:
        response = await self.client.post("/api/broadcasts", json=body, headers=auth(token))
        return response.status, await response.json()

    async def send_all(self) -> None:
        sender = PacedSender(self.services)
        while await sender.run_batch():
            pass

    async def show(self, broadcast_id: int) -> dict[str, Any]:
        async with self.services.sessions() as session:
            shown = await broadcasts.show(session, broadcast_id, "Europe/Oslo")
        assert shown is not None
        return shown

    async def callback(self, sid: str, status: str, error_code: int | None = None) -> int:
        """Twilio's status callback for message `sid`, signed, to the app."""
        record = self.live.callbacks.record(sid)
        form = self.live.callbacks.form(record, status, error_code)
        code, _ = await self.twilio.post("/twilio/status", form)
        return code

    def sids(self) -> dict[str, str]:
        return {str(r["to"]): str(r["sid"]) for r in self.live.twilio.created}


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = oslo(2026, 11, 23, 12)  # a Monday noon
    await load_text(services, demo_text())
    async with live_services(services, clock, sms_rate=50) as live:
        await add_token(live.services, "admin-kari", ADMIN_TOKEN)
        async with live.services.sessions() as session, session.begin():
            session.add(
                TelegramLinkRow(
                    user_id=NILSEN_CHAT,
                    chat_id=NILSEN_CHAT,
                    kind="foster_home",
                    target_id="nilsen",
                    linked_at=clock.now,
                )
            )
        live.telegram.add_user(FakeUser(NILSEN_CHAT, "Nilsen"))
        client = await app_client(live.services)
        try:
            yield World(live, client, TwilioDriver(client, live.services.settings))
        finally:
            await client.close()


async def test_a_broadcast_with_duplicate_and_late_status_callbacks(world: World) -> None:
    status, made = await world.broadcast({"to": "kommune:asker", "text": TEXT})
    assert status == 201, made
    assert (made["recipients"], made["sms"], made["telegram"], made["opted_out"]) == (6, 5, 1, 0)
    await world.send_all()
    sms = world.live.twilio.messages
    assert {m.form["To"] for m in sms} == ASKER_PHONES - {"+4790554433"}  # Nilsen: Telegram
    assert all(m.form["From"] == NETWORK for m in sms)
    assert all(m.form["Body"] == TEXT + "\n\nSvar STOPP for å melde deg av." for m in sms)
    assert all(m.form["StatusCallback"] == "http://helpline.test/twilio/status" for m in sms)
    [telegram] = world.live.telegram.sent_messages(NILSEN_CHAT)
    assert telegram["text"] == TEXT  # no SMS footer on Telegram
    shown = await world.show(made["id"])
    assert shown["states"]["sent"] == 6 and shown["channels"] == {"sms": 5, "telegram": 1}

    sids = world.sids()
    first, second = sids[HANSEN[0]], sids[HANSEN[1]]
    assert await world.callback(first, "sent") == 200
    assert await world.callback(first, "delivered") == 200
    assert await world.callback(first, "delivered") == 200  # Twilio sent it twice
    assert await world.callback(first, "sent") == 200  # late, after delivered
    assert await world.callback(second, "undelivered", 30003) == 200
    assert await world.callback(second, "delivered") == 200  # after a final state: nothing
    shown = await world.show(made["id"])
    assert shown["states"] == {
        **dict.fromkeys(broadcasts.STATES, 0),
        "sent": 4,
        "delivered": 1,
        "undelivered": 1,
    }
    async with world.services.sessions() as session:
        row = await session.scalar(select(OutboxRow).where(OutboxRow.provider_id == second))
    assert row is not None and row.error_code == 30003


@contextmanager
def statements_of(services: Services) -> Iterator[list[str]]:
    """The kinds of SQL statement (SELECT, UPDATE, ...) run in the block."""
    kinds: list[str] = []

    def executed(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        kinds.append(statement.split(None, 1)[0].upper())

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield kinds
    finally:
        event.remove(engine, "before_cursor_execute", executed)


async def test_a_usual_status_callback_is_one_update_and_still_moves_once_and_forward(
    world: World, clock: FrozenClock
) -> None:
    # A broadcast's callbacks come twice per SMS; help shares the webhook's process with
    # them, so the usual ones (a known SID) are an UPDATE, and a look when it moved nothing.
    status, made = await world.broadcast({"to": "home:hansen", "text": TEXT})
    assert status == 201, made
    await world.send_all()
    first, second = world.sids()[HANSEN[0]], world.sids()[HANSEN[1]]
    with statements_of(world.services) as forward:
        assert await world.callback(first, "delivered") == 200
    with statements_of(world.services) as late:
        assert await world.callback(first, "sent") == 200  # after delivered: nothing
    assert (forward, late) == (["UPDATE"], ["UPDATE", "SELECT"])

    delivered_at = clock.now
    clock.now = delivered_at + timedelta(minutes=5)
    codes = await asyncio.gather(*(world.callback(first, "delivered") for _ in range(3)))
    assert codes == [200, 200, 200]  # Twilio sent it again, and again at once
    assert await world.callback(first, "undelivered", 30003) == 200  # after a final state
    twice = await asyncio.gather(
        world.callback(second, "undelivered", 30003), world.callback(second, "undelivered", 30003)
    )
    assert list(twice) == [200, 200]
    assert await world.callback(second, "delivered") == 200
    async with world.services.sessions() as session:
        rows = {
            row.provider_id: row
            for row in await session.scalars(
                select(OutboxRow).where(OutboxRow.provider_id.in_([first, second]))
            )
        }
    assert (rows[first].status, rows[first].error_code) == ("delivered", None)
    moved_at = rows[first].delivered_at
    assert moved_at is not None and moved_at.replace(tzinfo=UTC) == delivered_at  # moved once
    assert (rows[second].status, rows[second].error_code) == ("undelivered", 30003)
    assert rows[second].delivered_at is None


async def _lock_waiters(connection: AsyncConnection) -> int:
    """Backends of this database waiting for a lock (PostgreSQL)."""
    waiting = await connection.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )
    return int(waiting or 0)


async def test_status_callbacks_piling_up_never_take_the_connections_help_needs(
    world: World, database_url: str
) -> None:
    # A starved machine queues a broadcast's callbacks in the webhook process; once they
    # held every pooled connection, and help SMS waited out the pool and failed.
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only")
    status, made = await world.broadcast({"to": "home:hansen", "text": TEXT})
    assert status == 201, made
    await world.send_all()
    sid = world.sids()[HANSEN[0]]
    holder = create_async_engine(database_url)
    try:
        async with holder.connect() as locker, holder.connect() as looker:
            await locker.execute(  # the row stays locked: its callbacks wait for it
                select(OutboxRow.id).where(OutboxRow.provider_id == sid).with_for_update()
            )
            pile = [asyncio.create_task(world.callback(sid, "delivered")) for _ in range(40)]
            seen = [-1]
            for _ in range(2_000):  # until the waiters stop coming (all the pool, or the gate)
                seen.append(await _lock_waiters(looker))
                if seen[-1] > 0 and seen[-10:] == [seen[-1]] * 10:
                    break
                await asyncio.sleep(0.01)
            form = incoming_sms("SM" + "2" * 32, HANSEN[1], ASKER_LINE, "Kan noen ringe oss?")
            code, _ = await world.twilio.post("/twilio/sms", form)
            waiting = seen[-1]
            await locker.rollback()
            codes = await asyncio.gather(*pile)
    finally:
        await holder.dispose()
    assert code == 200
    assert 0 < waiting <= twilio_voice.MESSAGE_STATUS_CONCURRENCY
    assert codes == [200] * 40
    async with world.services.sessions() as session:
        rows = list(await session.scalars(select(OutboxRow).where(OutboxRow.to == HANSEN[1])))
    assert {(r.msg_class, r.status) for r in rows} == {("info", "sent"), ("help", "sent")}


async def test_a_carrier_stop_on_send_and_in_a_callback_become_opt_outs(world: World) -> None:
    world.live.twilio.refuse(HANSEN[0])  # 21610: they texted STOP to the network number
    status, made = await world.broadcast({"to": "home:hansen,home:johansen", "text": TEXT})
    assert status == 201
    await world.send_all()
    assert await world.callback(world.sids()["+4792345678"], "undelivered", 21610) == 200
    shown = await world.show(made["id"])
    assert (shown["states"]["failed"], shown["states"]["sent"], shown["states"]["undelivered"]) == (
        1,
        1,
        1,
    )
    async with world.services.sessions() as session:
        stops = {(s.address, s.scope, s.source) for s in await session.scalars(select(OptOutRow))}
    assert stops == {(HANSEN[0], "network", "carrier"), ("+4792345678", "network", "carrier")}
    status, again = await world.broadcast(
        {"to": "home:hansen,home:johansen", "text": TEXT, "dry_run": True}
    )
    assert status == 200 and (again["recipients"], again["opted_out"]) == (3, 2)


async def test_a_blocked_bot_fails_that_message_and_the_next_goes_by_sms(world: World) -> None:
    world.live.telegram.block(NILSEN_CHAT)
    status, made = await world.broadcast({"to": "home:nilsen", "text": TEXT})
    assert status == 201 and made["telegram"] == 1
    await world.send_all()
    assert (await world.show(made["id"]))["states"]["failed"] == 1
    async with world.services.sessions() as session:
        link = await session.get(TelegramLinkRow, NILSEN_CHAT)
    assert link is not None and link.blocked_at is not None
    status, made = await world.broadcast({"to": "home:nilsen", "text": TEXT})
    assert (made["telegram"], made["sms"]) == (0, 1)
    await world.send_all()
    assert [m.form["To"] for m in world.live.twilio.messages] == ["+4790554433"]


async def test_quiet_hours_hold_the_broadcast_until_eight(world: World, clock: FrozenClock) -> None:
    clock.now = oslo(2026, 11, 23, 22, 30)
    status, made = await world.broadcast({"to": "kommune:asker", "text": TEXT})
    assert status == 201 and made["held_by_quiet_hours"] == 6
    await world.send_all()
    assert (await world.show(made["id"]))["states"]["held"] == 6
    assert not world.live.twilio.messages and not world.live.telegram.sent_messages()
    clock.now = utc(2026, 11, 24, 7)  # 08:00 in Oslo
    assert await sweep_paced(cast(Context, {"services": world.services})) == 6
    await world.send_all()
    assert (await world.show(made["id"]))["states"]["sent"] == 6


async def test_a_help_message_still_reaches_a_number_that_said_stopp(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        await stop(session, "sms", HANSEN[0], "network", "keyword", world.services.clock())
    status, made = await world.broadcast({"to": "home:hansen", "text": TEXT})
    assert status == 201 and made["opted_out"] == 1
    await world.send_all()
    assert [m.form["To"] for m in world.live.twilio.messages] == [HANSEN[1]]
    form = {
        "MessageSid": "SM" + "1" * 32,
        "From": HANSEN[0],
        "To": ASKER_LINE,
        "Body": "Kan noen ringe oss?",
        "NumMedia": "0",
    }
    assert (await world.twilio.post("/twilio/sms", form))[0] == 200
    answers = [m for m in world.live.twilio.messages if m.form["To"] == HANSEN[0]]
    assert answers and all(m.accepted and m.form["From"] == ASKER_LINE for m in answers)
    async with world.services.sessions() as session:
        rows = list(await session.scalars(select(OutboxRow).where(OutboxRow.to == HANSEN[0])))
    assert {(r.msg_class, r.status) for r in rows} == {("info", "opted_out"), ("help", "sent")}
