"""Proof that nothing leaks into the log: every flow, at DEBUG, libraries included.

The service runs with the command line's real logging set-up (`helpline.logs`) at DEBUG,
with library debugging opted in, so the redaction is all that protects; Twilio and
Telegram are live against the fakes (so the twilio and httpx clients log their requests,
Bot API URLs with the real-shaped token included), and the app is served with the
masking access logger. Every formatted line, access log included, is scanned for message
bodies, unmasked numbers of the register and the callers, tokens and foster home names.
A handler before the redacting one keeps the raw messages: they must hold each of those
kinds, or the scan would prove nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import cast

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from helpline.bootstrap import Services, open_services
from helpline.commands.org import demo_text, load_text
from helpline.db.engine import make_engine, sessionmaker
from helpline.db.models import ApiTokenRow, ContactRow, MessageRow, OutboxRow
from helpline.db.register import rotate_feed
from helpline.jobs import Context, notify_voicemail
from helpline.linking import create_link_token
from helpline.web.api import token_hash
from rota.orgfile import parse_org
from tests.conftest import FrozenClock, app_client
from tests.e2e.demo_duty import ASKER_MONDAY_10, BAERUM_MONDAY_10, MONDAY_10, Chain, phones
from tests.e2e.leak_scan import (
    Capture,
    Forbidden,
    bodies_forbidden,
    captured_logging,
    phones_forbidden,
    register_values,
    scan,
    tokens_forbidden,
)
from tests.e2e.twilio_driver import TwilioDriver, dialled_number, incoming
from tests.fakes.telegram_api import FAKE_BOT_TOKEN, FakeTelegram, FakeUser, running_fake_telegram
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, running_fake_twilio

pytestmark = pytest.mark.e2e

ASKER_LINE, BAERUM_LINE = "+4767000001", "+4767000002"
HANSEN, JOHANSEN, STRANGER = "+4798765432", "+4792345678", "+4790000001"
WEBHOOK_SECRET = "Webhook-secret-for-the-leak-test"
API_TOKEN = "Api-token-for-the-leak-test-0123456789"
PARENT = FakeUser(id=5551002, first_name="Forelder")
STAFF = FakeUser(id=5551001, first_name="Vakt")
INBOUND = {
    "sms": "Vi trenger å snakke med noen i kveld, det gjelder skolen.",
    "stranger": "Hei, vi er et nytt fosterhjem og lurer på noe.",
    "reply": "Hei! Jeg ringer deg om fem minutter.",
    "telegram": "Hei fra oss på Telegram, kan noen ringe?",
    "telegram_reply": "Vi ringer dere om ti minutter.",
    "forged": "En forfalsket melding som aldri skal lagres.",
    "dead_sms": "Denne meldingen kommer mens databasen er nede.",
    "dead_telegram": "Og denne på Telegram mens databasen er nede.",
    "network": "Vi kommer gjerne på treffet med hele familien.",
}

Client = TestClient[web.Request, web.Application]


@dataclass
class World:
    services: Services
    client: Client
    twilio: TwilioDriver
    telegram: FakeTelegram
    capture: Capture
    tokens: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)


@pytest.fixture
async def world(services: Services, clock: FrozenClock) -> AsyncIterator[World]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    async with running_fake_twilio() as twilio_api, running_fake_telegram() as telegram_api:
        settings = replace(
            services.settings,
            twilio_account_sid=FAKE_ACCOUNT_SID,
            twilio_auth_token=FAKE_AUTH_TOKEN,
            twilio_api_base=twilio_api.base_url,
            telegram_bot_token=FAKE_BOT_TOKEN,
            telegram_api_base=telegram_api.base_url,
            telegram_webhook_secret=WEBHOOK_SECRET,
            debug_libraries=True,
        )
        with captured_logging(settings) as capture:
            async with open_services(settings, clock=clock) as live:
                client = await app_client(live)
                try:
                    assert live.telegram is not None
                    url = str(client.server.make_url("/telegram/webhook"))
                    await live.telegram.set_webhook(url, WEBHOOK_SECRET)
                    secrets = [FAKE_BOT_TOKEN, FAKE_AUTH_TOKEN, WEBHOOK_SECRET]
                    driver = TwilioDriver(client, settings)
                    yield World(live, client, driver, telegram_api, capture, secrets)
                finally:
                    await client.close()


def primary_person(chain: Chain) -> str:
    """The person id of a chain's primary: Ola Berg in Asker, Jonas Dahl in Bærum."""
    person = chain[0].person
    assert person is not None
    return person


async def sms(world: World, sender: str, body: str, to: str = ASKER_LINE) -> None:
    form = {
        "MessageSid": f"SM{len(world.twilio.sent):032d}",
        "From": sender,
        "To": to,
        "Body": body,
        "AccountSid": FAKE_ACCOUNT_SID,
        "NumMedia": "0",
    }
    status, answer = await world.twilio.post("/twilio/sms", form)
    assert status == 200, answer


async def last_contact(world: World) -> ContactRow:
    async with world.services.sessions() as session:
        rows = list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))
    return rows[-1]


async def answered_call(world: World) -> None:
    call = incoming("CA-leak-answered", HANSEN, ASKER_LINE)
    start = await world.twilio.twiml("/twilio/voice", call)
    number = dialled_number(start)
    leg = {
        "CallSid": "CA-leak-leg0",
        "ParentCallSid": call["CallSid"],
        "To": number.text or "",
        "From": ASKER_LINE,
    }
    whisper = await world.twilio.twiml(number.get("url", ""), leg)
    gather = whisper.find("Gather")
    assert gather is not None
    await world.twilio.twiml(gather.get("action", ""), {**leg, "Digits": "1"})
    dial = start.find("Dial")
    assert dial is not None
    await world.twilio.twiml(
        dial.get("action", ""), {**call, "DialCallStatus": "completed", "DialCallDuration": "95"}
    )
    await world.twilio.post(
        "/twilio/status", {**call, "CallStatus": "completed", "CallDuration": "120"}
    )
    assert (await last_contact(world)).outcome == "answered"
    world.flows.append("call answered after screening (whisper)")


async def voicemail(world: World) -> None:
    call = incoming("CA-leak-voicemail", JOHANSEN, ASKER_LINE)
    document = await world.twilio.twiml("/twilio/voice", call)
    while (dial := document.find("Dial")) is not None:
        document = await world.twilio.twiml(
            dial.get("action", ""), {**call, "DialCallStatus": "no-answer"}
        )
    record = document.find("Record")
    assert record is not None
    await world.twilio.twiml(
        record.get("action", ""),
        {
            **call,
            "RecordingSid": "RE1",
            "RecordingUrl": "https://api.twilio.com/rec/RE1",
            "RecordingDuration": "14",
        },
    )
    contact = await last_contact(world)
    sent = await notify_voicemail(
        cast(Context, {"services": world.services}), contact_id=contact.id
    )
    assert sent == len(set(phones(ASKER_MONDAY_10)))
    world.flows.append("voicemail and its SMS notices (through the Twilio API)")


async def sms_conversation(world: World) -> None:
    await sms(world, HANSEN, INBOUND["sms"])
    contact = await last_contact(world)
    await sms(world, ASKER_MONDAY_10[0].phone, f"#K{contact.id} {INBOUND['reply']}")
    await sms(world, STRANGER, INBOUND["stranger"], to=BAERUM_LINE)
    forged = {
        "MessageSid": "SM-leak-forged",
        "From": HANSEN,
        "To": ASKER_LINE,
        "Body": INBOUND["forged"],
    }
    assert (await world.twilio.post("/twilio/sms", forged, signature="forged"))[0] == 403
    world.flows.append(
        "SMS: foster parent, staff notice, staff reply relayed, unknown number, a forged signature"
    )


async def link(world: World, user: FakeUser, kind: str, target: str) -> None:
    async with world.services.sessions() as session, session.begin():
        token, _ = await create_link_token(session, kind, target, world.services.clock())
    world.tokens.append(token)
    assert await world.telegram.deliver(world.telegram.start_update(user, token)) == 200
    assert await world.telegram.deliver(world.telegram.start_update(user, token)) == 200  # used


async def telegram(world: World) -> None:
    await link(world, STAFF, "person", primary_person(BAERUM_MONDAY_10))
    await link(world, PARENT, "foster_home", "olsen")
    world.flows.append("linking: link tokens created and redeemed by /start (and reused)")
    fake = world.telegram
    assert await fake.deliver(fake.message_update(PARENT, INBOUND["telegram"])) == 200
    contact = await last_contact(world)
    assert contact.channel == "telegram"
    notice = fake.sent_messages(STAFF.id)[-1]
    tap = fake.callback_update(STAFF, notice["message_id"], f"take:{contact.id}")
    assert await fake.deliver(tap) == 200
    reply = fake.message_update(STAFF, INBOUND["telegram_reply"], reply_to=notice["message_id"])
    assert await fake.deliver(reply) == 200
    assert str(fake.sent_messages(PARENT.id)[-1]["text"]).endswith(INBOUND["telegram_reply"])
    forged = await world.client.post(
        "/telegram/webhook",
        json=fake.message_update(PARENT, "x"),
        headers={"X-Telegram-Bot-Api-Secret-Token": "forged"},
    )
    assert forged.status == 403
    world.flows.append(
        "Telegram: a linked foster home writes, staff take and reply there, a forged secret"
    )


async def keywords(world: World) -> None:
    await sms(world, HANSEN, "STOPP", to="+4767000091")  # Ressursfamilien Nilsen's number
    await sms(world, HANSEN, "START", to="+4767000091")
    await sms(world, JOHANSEN, INBOUND["network"], to="+4767000090")  # the network number
    fake = world.telegram
    assert await fake.deliver(fake.message_update(PARENT, "/stopp")) == 200
    offer = fake.sent_messages(PARENT.id)[-1]
    assert await fake.deliver(fake.callback_update(PARENT, offer["message_id"], "stop:network"))
    assert await fake.deliver(fake.message_update(PARENT, "/start")) == 200
    world.flows.append("keywords: STOPP and START to a group's number, a message to the network")


async def api_reads(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        session.add(
            ApiTokenRow(
                name="leak-test",
                token_hash=token_hash(API_TOKEN),
                created_at=MONDAY_10,
                role="admin",
                kommuner="",
                expires_at=MONDAY_10 + timedelta(days=30),
            )
        )
    world.tokens.append(API_TOKEN)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    listing = await world.client.get("/api/contacts", headers=headers)
    assert listing.status == 200
    contact_id = (await listing.json())["contacts"][0]["id"]
    detail = await world.client.get(f"/api/contacts/{contact_id}", headers=headers)
    assert detail.status == 200
    refused = await world.client.get("/api/contacts", headers={"Authorization": "Bearer wrong1"})
    assert refused.status == 401
    world.flows.append("API: contact list, a contact's detail, a refused token")


async def calendar_feed(world: World) -> None:
    async with world.services.sessions() as session, session.begin():
        token = await rotate_feed(session, "person", primary_person(ASKER_MONDAY_10), MONDAY_10)
    assert token is not None
    world.tokens.append(token)
    response = await world.client.get(f"/ical/{token}.ics")
    assert response.status == 200 and "BEGIN:VCALENDAR" in await response.text()
    world.flows.append("calendar feed read")


async def dead_database(world: World) -> None:
    """The database (and Redis) gone: a call gets the fallback; an SMS and a Telegram
    update fail; all of it is logged."""
    dead_db = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/gone")
    dead_redis = aioredis.from_url("redis://127.0.0.1:1/0")
    down = replace(world.services, engine=dead_db, sessions=sessionmaker(dead_db), redis=dead_redis)
    down.forget_organisation()
    client = await app_client(down)
    try:
        driver = TwilioDriver(client, world.services.settings)
        start = await driver.twiml("/twilio/voice", incoming("CA-leak-dead", HANSEN, ASKER_LINE))
        assert dialled_number(start).text == "+4740000000"  # the demo's fallback_phone
        step = await driver.twiml(
            "/twilio/voice/dialled?contact=1&step=0",
            {"CallSid": "CA-leak-dead", "DialCallStatus": "no-answer"},
        )
        assert dialled_number(step).text == "+4740000000"  # a failed step, with its traceback
        form = {
            "MessageSid": "SM-leak-dead",
            "From": HANSEN,
            "To": ASKER_LINE,
            "Body": INBOUND["dead_sms"],
        }
        status, _ = await driver.post("/twilio/sms", form)
        assert status >= 500
        update = world.telegram.message_update(PARENT, INBOUND["dead_telegram"])
        response = await client.post(
            "/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
        assert response.status >= 500
    finally:
        await client.close()
        await dead_db.dispose()
        await dead_redis.aclose()
    world.flows.append("dead database: a call and a step (fallback), an SMS, a Telegram update")


async def forbidden_values(world: World) -> list[Forbidden]:
    async with world.services.sessions() as session:
        sent = list(await session.scalars(select(OutboxRow.body)))
        stored = list(await session.scalars(select(MessageRow.body)))
    telegram_texts = [
        str(m.get("text", ""))
        for chat in (PARENT.id, STAFF.id)
        for m in world.telegram.sent_messages(chat)
    ]
    assert sent and stored and telegram_texts
    return [
        *register_values(parse_org(demo_text())),
        *phones_forbidden([HANSEN, JOHANSEN, STRANGER]),
        *bodies_forbidden([*INBOUND.values(), *sent, *stored, *telegram_texts]),
        *tokens_forbidden(world.tokens),
    ]


async def test_no_log_line_carries_a_body_a_number_a_token_or_a_foster_home(
    world: World,
) -> None:
    for flow in (
        answered_call,
        voicemail,
        sms_conversation,
        telegram,
        keywords,
        api_reads,
        calendar_feed,
        dead_database,
    ):
        await flow(world)
    forbidden = await forbidden_values(world)
    text = world.capture.text
    lines = text.splitlines()

    findings = scan(text, forbidden)
    assert findings == [], "\n".join(
        f"line {f.line_number} ({f.kind}): {f.line}" for f in findings[:20]
    )

    # The scan saw what it had to see: the libraries spoke, the access log is in it, and
    # masked forms stand where the raw records carried secrets.
    for marker in (
        "+47•••••432",  # a caller, masked
        "/bot***/sendMessage",  # httpx's Bot API URL
        "-- BEGIN Twilio API Request --",  # the twilio client
        "Row [payload hidden]",  # SQLAlchemy's result rows
        "with parameters `[payload hidden]`",  # python-telegram-bot's calls
        '"POST /twilio/voice/screened',  # the access log
        'aiohttp.access: 127.0.0.1 "GET /ical/***.ics HTTP/1.1" 200',  # the masking logger
        'aiohttp.access: 127.0.0.1 "GET /api/contacts HTTP/1.1" 200',
        "answering the fallback",  # the dead database
        "Traceback (most recent call last)",
        "wrong Twilio signature (from +47•••••432)",
    ):
        assert marker in text, marker
    raw_kinds = {finding.kind for finding in scan("\n".join(world.capture.raw), forbidden)}
    assert raw_kinds == {"message body", "phone number", "token", "foster home name"}
    access = [line for line in lines if " aiohttp.access: " in line]
    print(
        f"\nleak scan: {len(lines)} lines ({len(access)} access-log lines), "
        f"{len(set(forbidden))} forbidden values, flows: {'; '.join(world.flows)}"
    )
    assert len(world.flows) == 9
