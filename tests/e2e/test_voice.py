"""The phone line end to end: the running app driven exactly as Twilio drives it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.engine import make_engine, sessionmaker
from helpline.db.models import AttemptRow, ContactRow, OutboxRow
from helpline.jobs import running_worker
from tests.conftest import FrozenClock, app_client
from tests.e2e.demo_duty import (
    ASKER_MONDAY_10,
    ASKER_MONDAY_NIGHT,
    BAERUM_MONDAY_10,
    MONDAY_10,
    TUESDAY_03,
    phones,
)
from tests.e2e.twilio_driver import TwilioDriver, dialled_number, incoming, says
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, running_fake_twilio

pytestmark = pytest.mark.e2e

ASKER_LINE = "+4767000001"
BAERUM_LINE = "+4767000002"
HANSEN = "+4798765432"  # Familien Hansen, Asker
STRANGER = "+4790000001"


@pytest.fixture
async def twilio(services: Services) -> AsyncIterator[TwilioDriver]:
    await load_text(services, demo_text())
    client = await app_client(services)
    yield TwilioDriver(client, services.settings)
    await client.close()


async def contacts(services: Services) -> list[ContactRow]:
    async with services.sessions() as session:
        return list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))


async def attempts(services: Services, contact_id: int) -> list[tuple[str, str]]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(AttemptRow).where(AttemptRow.contact_id == contact_id).order_by(AttemptRow.step)
        )
        return [(row.phone, row.outcome) for row in rows]


async def test_a_day_call_reaches_the_kommunes_primary_who_takes_it(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    clock.now = MONDAY_10
    call = incoming("CA-day", HANSEN, ASKER_LINE)
    start = await twilio.twiml("/twilio/voice", call)

    greeting = says(start)[0]
    assert "Fosterhjemstelefonen" in greeting and "113" in greeting and "112" in greeting
    say = start.find("Say")
    assert say is not None and say.get("language") == "nb-NO"
    dial = start.find("Dial")
    assert dial is not None
    assert dial.get("timeout") == "20" and dial.get("answerOnBridge") == "true"
    assert dial.get("callerId") == ASKER_LINE
    number = dialled_number(start)
    primary = ASKER_MONDAY_10[0].phone  # Ola Berg
    assert number.text == primary

    child = {"CallSid": "CA-leg0", "ParentCallSid": "CA-day", "To": primary, "From": ASKER_LINE}
    whisper = await twilio.twiml(number.get("url", ""), child)
    gather = whisper.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert says(gather) == [
        "Fosterhjemstelefonen. Familien Hansen i Asker ringer. Trykk 1 for å ta samtalen."
    ]
    accepted = await twilio.twiml(gather.get("action", ""), {**child, "Digits": "1"})
    assert accepted.find("Hangup") is None  # an answer without Hangup bridges the call

    done = await twilio.twiml(
        dial.get("action", ""), {**call, "DialCallStatus": "completed", "DialCallDuration": "95"}
    )
    assert [child.tag for child in done] == ["Hangup"]
    await twilio.post("/twilio/status", {**call, "CallStatus": "completed", "CallDuration": "120"})

    [contact] = await contacts(services)
    where = (contact.channel, contact.kommune_id, contact.foster_home_id)
    assert where == ("voice", "asker", "hansen")
    assert contact.outcome == "answered" and contact.answered_at == MONDAY_10
    assert contact.answered_by is not None and contact.duration_seconds == 120
    assert contact.ended_at == MONDAY_10
    assert await attempts(services, contact.id) == [(primary, "accepted")]


async def test_a_night_call_rings_the_barnevernvakt_duty_phone(
    twilio: TwilioDriver, clock: FrozenClock
) -> None:
    clock.now = TUESDAY_03
    start = await twilio.twiml("/twilio/voice", incoming("CA-night", HANSEN, ASKER_LINE))
    assert dialled_number(start).text == ASKER_MONDAY_NIGHT[0].phone  # bvv-vest's vakt phone


async def test_nobody_answers_backup_barnevernvakt_fallback_then_voicemail_and_sms(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    clock.now = MONDAY_10
    call = incoming("CA-none", HANSEN, ASKER_LINE)
    chain = phones(ASKER_MONDAY_10)  # primary, backup, barnevernvakt, fallback
    document = await twilio.twiml("/twilio/voice", call)
    rung = []
    for step, status in enumerate(["no-answer", "busy", "completed", "no-answer"]):
        number = dialled_number(document)
        rung.append(number.text)
        if status == "completed":  # picked up by their own voicemail: never presses 1
            leg = {"CallSid": f"CA-leg{step}", "To": number.text or ""}
            whisper = await twilio.twiml(number.get("url", ""), leg)
            gather = whisper.find("Gather")
            assert gather is not None
            declined = await twilio.twiml(gather.get("action", ""), {**leg, "Digits": ""})
            assert declined.find("Hangup") is not None
        dial = document.find("Dial")
        assert dial is not None
        document = await twilio.twiml(dial.get("action", ""), {**call, "DialCallStatus": status})
    assert rung == chain

    record = document.find("Record")
    assert record is not None and record.get("maxLength") == "120"
    assert "Legg igjen en beskjed" in says(document)[0]
    recorded = {
        **call,
        "RecordingUrl": "https://api.twilio.com/rec/RE1",
        "RecordingDuration": "14",
        "RecordingSid": "RE1",
    }
    async with running_worker(services):
        thanks = await twilio.twiml(record.get("action", ""), recorded)
        assert thanks.find("Hangup") is not None
        sms = await wait_for_outbox(services, len(set(chain)))
    await twilio.post("/twilio/status", {**call, "CallStatus": "completed", "CallDuration": "90"})

    [contact] = await contacts(services)
    assert contact.outcome == "voicemail" and contact.urgent
    assert contact.recording_seconds == 14
    outcomes = [outcome for _, outcome in await attempts(services, contact.id)]
    assert outcomes == ["no-answer", "busy", "declined", "no-answer"]
    assert sorted(row.to for row in sms) == sorted(set(chain))
    for row in sms:
        assert row.sender == ASKER_LINE and row.status == "sandbox"
        assert "Familien Hansen (Asker)" in row.body and HANSEN in row.body
        assert "talebeskjed" in row.body


async def wait_for_outbox(services: Services, count: int) -> list[OutboxRow]:
    """The worker sends asynchronously: wait (bounded) until `count` messages are out."""
    for _ in range(200):
        async with services.sessions() as session:
            rows = list(
                await session.scalars(
                    select(OutboxRow).where(OutboxRow.status.in_(("sent", "sandbox")))
                )
            )
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(rows)} of {count} messages reached the outbox")


async def test_an_unknown_caller_is_helped_by_the_kommune_of_the_dialled_number(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    clock.now = MONDAY_10
    start = await twilio.twiml("/twilio/voice", incoming("CA-unknown", STRANGER, BAERUM_LINE))
    number = dialled_number(start)
    assert number.text == BAERUM_MONDAY_10[0].phone  # Jonas Dahl
    whisper = await twilio.twiml(number.get("url", ""), {"CallSid": "CA-u0"})
    assert "Et ukjent nummer i Bærum ringer" in says(whisper)[0]
    [contact] = await contacts(services)
    assert contact.foster_home_id is None and contact.kommune_id == "baerum"
    assert contact.caller_masked == "+47•••••001"


async def test_a_forged_or_missing_signature_is_403_and_stores_nothing(
    twilio: TwilioDriver, services: Services
) -> None:
    call = incoming("CA-forged", HANSEN, ASKER_LINE)
    forged = twilio.sign("http://evil.example/twilio/voice", call)
    assert (await twilio.post("/twilio/voice", call, signature=forged))[0] == 403
    assert (await twilio.post("/twilio/voice", call, signature=""))[0] == 403
    tampered = twilio.sign(twilio.settings.public_url + "/twilio/voice", call)
    status, _ = await twilio.post("/twilio/voice", {**call, "From": STRANGER}, signature=tampered)
    assert status == 403
    assert await contacts(services) == []


async def test_a_retried_webhook_gets_the_same_twiml_and_one_contact(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    clock.now = MONDAY_10
    call = incoming("CA-retry", HANSEN, ASKER_LINE)
    first = await twilio.post("/twilio/voice", call)
    again = await twilio.post("/twilio/voice", call)
    both = await asyncio.gather(*(twilio.post("/twilio/voice", call) for _ in range(3)))
    assert first == again and all(answer == first for answer in both)
    assert len(await contacts(services)) == 1
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AttemptRow)) == 1


async def test_with_database_and_redis_down_the_call_still_rings_the_fallback(
    twilio: TwilioDriver, services: Services
) -> None:
    await services.organisation()  # the running service has seen the organisation
    dead_db = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/gone")
    dead_redis = aioredis.from_url("redis://127.0.0.1:1/0")
    down = replace(services, engine=dead_db, sessions=sessionmaker(dead_db), redis=dead_redis)
    client = await app_client(down)
    try:
        driver = TwilioDriver(client, services.settings)
        start = await driver.twiml("/twilio/voice", incoming("CA-down", HANSEN, ASKER_LINE))
        assert dialled_number(start).text == "+4740000000"  # the demo's fallback_phone
        assert "Fosterhjemstelefonen" in says(start)[0]
        step = await driver.twiml(
            "/twilio/voice/dialled?contact=1&step=0",
            {"CallSid": "CA-down", "DialCallStatus": "no-answer"},
        )
        assert dialled_number(step).text == "+4740000000"
    finally:
        await client.close()
        await dead_db.dispose()
        await dead_redis.aclose()


async def test_without_any_organisation_the_fallback_from_settings_is_rung(
    services: Services,
) -> None:
    settings = replace(services.settings, fallback_phone="+4722000000")
    client = await app_client(replace(services, settings=settings))
    try:
        driver = TwilioDriver(client, settings)
        start = await driver.twiml("/twilio/voice", incoming("CA-empty", HANSEN, ASKER_LINE))
        assert dialled_number(start).text == "+4722000000"
    finally:
        await client.close()


async def test_with_twilio_credentials_voicemail_notices_go_through_the_twilio_api(
    services: Services, clock: FrozenClock
) -> None:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    async with running_fake_twilio() as fake:
        settings = replace(
            services.settings,
            twilio_account_sid=FAKE_ACCOUNT_SID,
            twilio_auth_token=FAKE_AUTH_TOKEN,
            twilio_api_base=fake.base_url,
        )
        async with open_services(settings, clock=clock) as live:
            client = await app_client(live)
            try:
                driver = TwilioDriver(client, settings)
                call = incoming("CA-live", HANSEN, ASKER_LINE)
                document = await driver.twiml("/twilio/voice", call)
                while (dial := document.find("Dial")) is not None:
                    document = await driver.twiml(
                        dial.get("action", ""), {**call, "DialCallStatus": "no-answer"}
                    )
                record = document.find("Record")
                assert record is not None
                async with running_worker(live):
                    await driver.twiml(
                        record.get("action", ""), {**call, "RecordingUrl": "https://x/RE2"}
                    )
                    rows = await wait_for_outbox(live, len(set(phones(ASKER_MONDAY_10))))
            finally:
                await client.close()
    assert {row.status for row in rows} == {"sent"}
    assert sorted(m.form["To"] for m in fake.messages) == sorted(row.to for row in rows)
    assert all(
        m.form["From"] == ASKER_LINE and m.auth_user == FAKE_ACCOUNT_SID for m in fake.messages
    )
    assert {row.provider_id for row in rows} == {m.sid for m in fake.messages}


async def test_many_simultaneous_calls_all_get_the_real_chain(
    twilio: TwilioDriver, services: Services, clock: FrozenClock
) -> None:
    """More calls at once than the pool has connections: none may starve into the fallback
    (a step that held one connection while waiting for a second once deadlocked the pool)."""
    clock.now = MONDAY_10
    primary = ASKER_MONDAY_10[0].phone  # Ola Berg
    calls = [incoming(f"CA-many-{i}", HANSEN, ASKER_LINE) for i in range(40)]
    answers = await asyncio.gather(*(twilio.twiml("/twilio/voice", c) for c in calls))
    assert [dialled_number(a).text for a in answers] == [primary] * 40
    assert len(await contacts(services)) == 40
