"""Retention end to end: contacts made through signed webhooks, aged with the clock, then
purged; recordings deleted at a fake Twilio; the statistics the API serves unchanged."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import Executable, select

from bots.twilio_recordings import TwilioRecordings
from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import (
    AccessLogRow,
    ApiTokenRow,
    ContactRow,
    MessageRow,
    OutboxRow,
    WebhookEventRow,
)
from helpline.jobs import Context, purge_content
from helpline.retention import PurgeCounts, purge
from helpline.web.api import token_hash
from tests.conftest import FrozenClock, app_client
from tests.e2e.twilio_driver import TwilioDriver, incoming
from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)

pytestmark = pytest.mark.e2e

TOKEN = "retention-test-token"
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = MONDAY_10 + timedelta(days=60)
AGED = MONDAY_10 + timedelta(days=91)
ASKER_LINE = "+4767000001"
HANSEN, JOHANSEN, OLSEN = "+4798765432", "+4792345678", "+4799887766"
STRANGER, OTHER_STRANGER = "+4790000001", "+4790000002"
Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio() as running:
        yield running


@pytest.fixture
async def store(fake: FakeTwilio) -> AsyncIterator[TwilioRecordings]:
    async with TwilioRecordings(
        account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN, api_base=fake.base_url
    ) as recordings:
        yield recordings


class World:
    """The service as Twilio and a coordinator reach it."""

    def __init__(self, services: Services, client: Client) -> None:
        self.services, self.client = services, client
        self.twilio = TwilioDriver(client, services.settings)
        self.sent = 0

    async def sms(self, sender: str, body: str) -> None:
        self.sent += 1
        form = {"MessageSid": f"SM{self.sent:032d}", "From": sender, "To": ASKER_LINE, "Body": body}
        status, answer = await self.twilio.post("/twilio/sms", form)
        assert status == 200, answer

    async def voicemail(self, call_sid: str, caller: str, recording_url: str) -> None:
        """A call nobody answers, ending in a voicemail."""
        call = incoming(call_sid, caller, ASKER_LINE)
        document = await self.twilio.twiml("/twilio/voice", call)
        while (dial := document.find("Dial")) is not None:
            document = await self.twilio.twiml(
                dial.get("action", ""), {**call, "DialCallStatus": "no-answer"}
            )
        record = document.find("Record")
        assert record is not None
        await self.twilio.twiml(
            record.get("action", ""),
            {
                **call,
                "RecordingUrl": recording_url,
                "RecordingDuration": "14",
                "RecordingSid": recording_url.rsplit("/", 1)[-1],
            },
        )
        await self.twilio.post(
            "/twilio/status", {**call, "CallStatus": "completed", "CallDuration": "95"}
        )

    async def statistics(self) -> Any:
        response = await self.client.get(
            "/api/contacts", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status == 200
        return (await response.json())["contacts"]


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    async with services.sessions() as session, session.begin():
        session.add(
            ApiTokenRow(
                name="statistikk",
                token_hash=token_hash(TOKEN),
                created_at=MONDAY_10,
                role="admin",
                kommuner="",
                expires_at=MONDAY_10 + timedelta(days=400),
            )
        )
    client = await app_client(services)
    yield World(services, client)
    await client.close()


async def aged_world(world: World, fake: FakeTwilio, clock: FrozenClock) -> None:
    """Three contacts on Monday, two 60 days later; then the clock 91 days on."""
    sid = fake.add_recording()
    await world.voicemail("CA-old", HANSEN, fake.recording_url(sid))
    await world.sms(JOHANSEN, "Vi trenger hjelp med skolen")
    johansen = await contact_of(world.services, "johansen")
    clock.now = MONDAY_10 + timedelta(minutes=3)
    await world.sms(on_duty(), f"#K{johansen} Jeg ringer deg om fem minutter")
    await world.sms(on_duty(), f"#K{johansen} LUKK skole")
    await world.sms(STRANGER, "Hei, jeg lurer på noe")
    clock.now = LATER
    await world.sms(OLSEN, "En ny og ung melding")
    await world.voicemail("CA-young", OTHER_STRANGER, fake.recording_url(fake.add_recording()))
    clock.now = AGED


def on_duty() -> str:
    return "+4791234568"  # Ola Berg, asker-bvt's primary on Monday 10:00 (demo rota)


async def contact_of(services: Services, home: str) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(ContactRow.id).where(ContactRow.foster_home_id == home))
    assert found is not None
    return found


async def everything(services: Services) -> dict[str, list[tuple[object, ...]]]:
    """The content a purge may change, row by row."""
    contacts = select(
        ContactRow.id, ContactRow.caller, ContactRow.recording_url, ContactRow.content_purged_at
    )
    queries: dict[str, Executable] = {
        "contacts": contacts.order_by(ContactRow.id),
        "messages": select(MessageRow.contact_id, MessageRow.body).order_by(MessageRow.id),
        "outbox": select(OutboxRow.contact_id, OutboxRow.to, OutboxRow.body).order_by(OutboxRow.id),
        "events": select(WebhookEventRow.key).order_by(WebhookEventRow.key),
    }
    async with services.sessions() as session:
        return {name: [tuple(r) for r in await session.execute(q)] for name, q in queries.items()}


async def test_aged_content_goes_and_the_statistics_stay(
    world: World, fake: FakeTwilio, store: TwilioRecordings, clock: FrozenClock
) -> None:
    await aged_world(world, fake, clock)
    services = world.services
    [old_sid, young_sid] = [r.rsplit("/", 1)[-1] for r in await recording_urls(services)]
    statistics = await world.statistics()
    before = await everything(services)
    async with services.sessions() as session, session.begin():  # a read long ago
        session.add(
            AccessLogRow(
                at=MONDAY_10,
                actor="api:statistikk",
                source="api",
                action="contact.read",
                target="1",
            )
        )
    async with services.sessions() as session:
        logged = list(await session.scalars(select(AccessLogRow.id)))

    would = await purge(services, dry_run=True, recordings=store)
    assert await everything(services) == before and fake.deleted_recordings == []
    done = await purge(services, dry_run=False, recordings=store)
    assert would == done
    counted = (done.contacts, done.unknown_numbers, done.recordings, done.recordings_kept)
    assert counted == (3, 1, 1, 0)
    assert done.message_bodies == 3  # Johansen's message, the answer to it, the stranger's
    assert done.outbox_bodies > 0 and done.webhook_answers > 0
    assert fake.deleted_recordings == [old_sid] and young_sid in fake.recordings
    [delete] = [r for r in fake.requests if r.method == "DELETE"]
    assert delete.path == f"/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Recordings/{old_sid}.json"
    assert delete.auth_user == FAKE_ACCOUNT_SID and delete.status == 204

    assert await world.statistics() == statistics  # outcome, channel, seconds, category, times
    async with services.sessions() as session:
        rows = {
            c.foster_home_id or c.caller_masked: c
            for c in await session.scalars(select(ContactRow))
        }
        old = [rows["hansen"], rows["johansen"], rows["+47•••••001"]]
        young = [rows["olsen"], rows["+47•••••002"]]
        assert all(c.content_purged_at == AGED for c in old)
        assert rows["+47•••••001"].caller == "" and rows["hansen"].caller == HANSEN
        assert rows["hansen"].recording_url is None and rows["hansen"].recording_seconds == 14
        assert all(c.content_purged_at is None for c in young)
        assert rows["+47•••••002"].caller == OTHER_STRANGER
        assert rows["+47•••••002"].recording_url == fake.recording_url(young_sid)
        bodies = {(m.contact_id, m.body) for m in await session.scalars(select(MessageRow))}
        assert {body for cid, body in bodies if cid in {c.id for c in old}} == {""}
        assert (rows["olsen"].id, "En ny og ung melding") in bodies
        outbox = list(await session.scalars(select(OutboxRow)))
        assert all(o.body == "" for o in outbox if o.created_at < AGED - timedelta(days=90))
        assert all(o.body for o in outbox if o.created_at >= LATER)
        assert STRANGER not in {o.to for o in outbox}
        events = list(await session.scalars(select(WebhookEventRow)))
        assert events and all(e.created_at == LATER for e in events)
        assert set(logged) <= set(await session.scalars(select(AccessLogRow.id)))  # never purged
    assert await purge(services, dry_run=False, recordings=store) == PurgeCounts()  # done


async def test_a_recording_twilio_cannot_delete_is_kept_for_the_next_run(
    world: World, fake: FakeTwilio, store: TwilioRecordings, clock: FrozenClock
) -> None:
    await aged_world(world, fake, clock)
    services = world.services
    fake.fail_next(503)
    first = await purge(services, dry_run=False, recordings=store)
    assert (first.contacts, first.recordings, first.recordings_kept) == (3, 0, 1)
    hansen = await contact_of(services, "hansen")
    async with services.sessions() as session:
        contact = await session.get(ContactRow, hansen)
        assert contact is not None and contact.recording_url is not None
        assert contact.content_purged_at is None  # not done: tried again next run
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with TwilioRecordings(
        account_sid=FAKE_ACCOUNT_SID,
        auth_token=FAKE_AUTH_TOKEN,
        api_base=f"http://127.0.0.1:{port}",
    ) as unreachable:
        assert (await purge(services, dry_run=False, recordings=unreachable)).recordings_kept == 1
    again = await purge(services, dry_run=False, recordings=store)
    assert (again.contacts, again.recordings, again.recordings_kept) == (1, 1, 0)
    async with services.sessions() as session:
        contact = await session.get(ContactRow, hansen)
        assert contact is not None and contact.recording_url is None
        assert contact.content_purged_at == AGED
    assert len(fake.deleted_recordings) == 1


async def test_in_sandbox_mode_the_daily_job_drops_the_url_and_calls_nobody(
    world: World, fake: FakeTwilio, clock: FrozenClock
) -> None:
    await aged_world(world, fake, clock)
    assert world.services.settings.sandbox
    assert await purge_content(cast(Context, {"services": world.services})) == 3
    assert [r for r in fake.requests if r.method == "DELETE"] == []
    async with world.services.sessions() as session:
        contact = await session.get(ContactRow, await contact_of(world.services, "hansen"))
    assert contact is not None and contact.recording_url is None and contact.content_purged_at


async def recording_urls(services: Services) -> list[str]:
    async with services.sessions() as session:
        urls = await session.scalars(select(ContactRow.recording_url).order_by(ContactRow.id))
        return [u for u in urls if u]


async def test_a_new_message_after_the_purge_opens_a_new_conversation(
    world: World, fake: FakeTwilio, clock: FrozenClock
) -> None:
    """An idle conversation that was never closed is history once purged."""
    await world.sms(JOHANSEN, "Hei")
    old = await contact_of(world.services, "johansen")
    clock.now = AGED
    await purge(world.services, dry_run=False, recordings=None)
    await world.sms(JOHANSEN, "Hei igjen")
    async with world.services.sessions() as session:
        johansen = select(ContactRow.id).where(ContactRow.foster_home_id == "johansen")
        ids = list(await session.scalars(johansen.order_by(ContactRow.id)))
        bodies = list(await session.scalars(select(MessageRow.body).order_by(MessageRow.id)))
    assert ids[0] == old and len(ids) == 2
    assert bodies == ["", "Hei igjen"]
