"""The outbox against the fake Twilio: retries, giving up, and rows a crash left `sending`,
each as the every-minute sweep (`deliver_outbox`) handles them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import cast

import pytest
from sqlalchemy import event, select

from bots.twilio_sms import TwilioSms
from helpline.bootstrap import Services
from helpline.db.models import OutboxRow
from helpline.jobs import Context, deliver_outbox
from helpline.outbox import Outbox
from routing.delivery import MAX_ATTEMPTS, SENDING_TIMEOUT
from tests.conftest import FrozenClock
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)

pytestmark = pytest.mark.integration

TO, FROM = "+4798765432", "+4767000001"
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def fake(clock: FrozenClock) -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio(clock=clock) as running:
        yield running


@pytest.fixture
async def live(services: Services, fake: FakeTwilio) -> AsyncIterator[Services]:
    """The services with an outbox that sends through the fake Twilio."""
    async with twilio(fake.base_url) as sms:
        yield replace(services, outbox=Outbox(services.sessions, services.clock, sms))


def twilio(api_base: str) -> TwilioSms:
    return TwilioSms(
        account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN, api_base=api_base, timeout=2.0
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def queued(services: Services, body: str = "Ring meg") -> int:
    async with services.sessions() as session, session.begin():
        row = services.outbox.queue(
            session, channel="sms", to=TO, sender=FROM, body=body, contact_id=None, kind="help"
        )
    return row.id


async def row(services: Services, row_id: int) -> OutboxRow:
    async with services.sessions() as session:
        found = await session.scalar(select(OutboxRow).where(OutboxRow.id == row_id))
    assert found is not None
    return found


async def sweep(services: Services) -> int:
    return await deliver_outbox(cast(Context, {"services": services}))


async def crash_mid_send(services: Services, row_id: int) -> None:
    """A deliverer claims the row and dies while Twilio has not answered: it stays
    `sending`. (Its Twilio is a port that takes the request and never answers.)"""
    connected = asyncio.Event()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()  # until the dying deliverer's connection closes
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with twilio(f"http://127.0.0.1:{port}") as hanging:
        dying = Outbox(services.sessions, services.clock, hanging)
        sending = asyncio.create_task(dying.deliver([row_id]))
        await asyncio.wait_for(connected.wait(), 5)  # claimed: the send has begun
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
    server.close()
    await server.wait_closed()


async def test_a_row_a_crash_left_sending_is_sent_again_after_the_window(
    live: Services, fake: FakeTwilio, clock: FrozenClock
) -> None:
    row_id = await queued(live)
    await crash_mid_send(live, row_id)
    assert ((await row(live, row_id)).status, (await row(live, row_id)).attempts) == ("sending", 1)
    clock.now += SENDING_TIMEOUT - MINUTE  # the deliverer might still be at it
    assert await sweep(live) == 0
    assert (await row(live, row_id)).status == "sending"
    clock.now += MINUTE
    assert await sweep(live) == 1
    stored = await row(live, row_id)
    assert (stored.status, stored.attempts) == ("sent", 2)
    [sent] = fake.messages
    assert (stored.provider_id, sent.form["Body"]) == (sent.sid, "Ring meg")
    assert await sweep(live) == 0 and len(fake.messages) == 1  # sent rows stay sent


async def test_the_help_lane_sweep_leaves_a_paced_row_to_the_paced_lane(
    live: Services, fake: FakeTwilio, clock: FrozenClock
) -> None:
    """An info message a paced sender left `sending` must not be resent, unpaced and
    unchecked, through the help lane: the paced lane takes its own claims back."""
    row_id = await queued(live, "Invitasjon")
    async with live.sessions() as session, session.begin():
        stored = await session.get(OutboxRow, row_id)
        assert stored is not None
        stored.msg_class, stored.status, stored.claimed_at = "info", "sending", clock.now
    clock.now += SENDING_TIMEOUT + MINUTE
    await live.outbox.recover_sending()
    assert (await row(live, row_id)).status == "sending"
    assert fake.messages == []


async def test_a_row_left_sending_after_its_last_attempt_is_given_up(
    live: Services, fake: FakeTwilio, clock: FrozenClock
) -> None:
    row_id = await queued(live)
    fake.fail_next(500, count=MAX_ATTEMPTS - 1)
    for _ in range(MAX_ATTEMPTS - 1):
        await sweep(live)
    assert (await row(live, row_id)).attempts == MAX_ATTEMPTS - 1
    await crash_mid_send(live, row_id)  # the last attempt dies mid-send
    clock.now += SENDING_TIMEOUT
    assert await sweep(live) == 0
    stored = await row(live, row_id)
    assert (stored.status, stored.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(fake.messages) == MAX_ATTEMPTS - 1


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_and_throttling_are_retried_by_the_sweep(
    live: Services, fake: FakeTwilio, status: int
) -> None:
    row_id = await queued(live)
    fake.fail_next(status)
    assert await live.outbox.deliver([row_id]) == 0
    assert ((await row(live, row_id)).status, (await row(live, row_id)).attempts) == ("pending", 1)
    assert await sweep(live) == 1
    assert [m.status for m in fake.messages] == [status, 201]
    assert (await row(live, row_id)).status == "sent"


async def test_an_unreachable_twilio_is_retried_by_the_sweep(
    services: Services, live: Services, fake: FakeTwilio
) -> None:
    row_id = await queued(live)
    async with twilio(f"http://127.0.0.1:{closed_port()}") as down:
        offline = replace(services, outbox=Outbox(services.sessions, services.clock, down))
        assert await sweep(offline) == 0
    assert ((await row(live, row_id)).status, (await row(live, row_id)).attempts) == ("pending", 1)
    assert fake.messages == []
    assert await sweep(live) == 1
    assert (await row(live, row_id)).status == "sent"


async def test_the_outbox_gives_up_after_its_last_attempt(live: Services, fake: FakeTwilio) -> None:
    row_id = await queued(live)
    fake.fail_next(503, count=MAX_ATTEMPTS + 1)
    for _ in range(MAX_ATTEMPTS + 2):
        await sweep(live)
    stored = await row(live, row_id)
    assert (stored.status, stored.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(fake.messages) == MAX_ATTEMPTS


async def test_a_refused_message_is_not_retried(live: Services, fake: FakeTwilio) -> None:
    async with live.sessions() as session, session.begin():
        bad = live.outbox.queue(
            session, channel="sms", to="98765432", sender=FROM, body="x", contact_id=None
        )
    assert await sweep(live) == 0
    assert ((await row(live, bad.id)).status, len(fake.messages)) == ("failed", 1)
    assert await sweep(live) == 0 and len(fake.messages) == 1


async def test_a_delivery_costs_two_statements(live: Services) -> None:
    """The claim returns the row it claimed and the outcome is one update, each committed
    alone (before: a transaction of an update and a read, then one of an update)."""
    row_id = await queued(live)
    seen: list[str] = []

    def statement(_conn: object, _cursor: object, text: str, *_args: object) -> None:
        seen.append(text.split(maxsplit=1)[0])

    engine = live.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        assert await live.outbox.deliver([row_id]) == 1
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert seen == ["UPDATE", "UPDATE"]
    assert (await row(live, row_id)).status == "sent"
