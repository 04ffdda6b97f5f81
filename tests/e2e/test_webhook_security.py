"""Webhook hardening end to end: replayed webhooks with repeated form keys, bad input on
the Twilio routes, and `Cache-Control: no-store` on what carries personal data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import ApiTokenRow, AttemptRow, Base, ContactRow, OutboxRow
from helpline.db.register import rotate_feed
from helpline.web.api import token_hash
from helpline.web.feeds import feed_path
from helpline.web.twilio_auth import signing_token
from helpline.web.twilio_params import ROUTES
from tests.conftest import FrozenClock, app_client
from tests.e2e.test_messages import ASKER_LINE, HANSEN, MONDAY_10, Sms, chain, to
from tests.e2e.twilio_driver import TwilioDriver, dialled_number, incoming

pytestmark = pytest.mark.e2e

Pairs = list[tuple[str, str]]


@pytest.fixture
async def twilio(services: Services, clock: FrozenClock) -> AsyncIterator[TwilioDriver]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield TwilioDriver(client, services.settings)
    await client.close()


def sign_pairs(twilio: TwilioDriver, url: str, pairs: Pairs) -> str:
    """The signature of `pairs` as the validator reads a form: the first value of each key.

    That is what an attacker replays: the signature Twilio sent with the original form."""
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    validator = RequestValidator(signing_token(twilio.settings))
    return str(validator.compute_signature(url, first))


async def post_pairs(
    client: TestClient[web.Request, web.Application], url: str, pairs: Pairs, signature: str
) -> tuple[int, str]:
    """POST a raw form body, repeated keys and all, to an absolute public URL."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = await client.post(
        path,
        data=urlencode(pairs),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    return response.status, await response.text()


async def row_counts(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def outbox(services: Services) -> list[OutboxRow]:
    async with services.sessions() as session:
        return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def contacts(services: Services) -> list[ContactRow]:
    async with services.sessions() as session:
        return list(await session.scalars(select(ContactRow).order_by(ContactRow.id)))


# -- repeated form keys ----------------------------------------------------------------------


async def test_a_signed_staff_reply_replayed_with_appended_keys_forges_nothing(
    twilio: TwilioDriver, services: Services
) -> None:
    sms = Sms(twilio)
    await sms.send(HANSEN, "Kan noen ringe oss?")
    [contact] = await contacts(services)
    primary = chain()[0]
    url = twilio.settings.public_url + "/twilio/sms"
    captured: Pairs = [
        ("MessageSid", "SM" + "1" * 32),
        ("From", primary),
        ("To", ASKER_LINE),
        ("Body", f"#K{contact.id} Jeg ringer deg snart."),
        ("AccountSid", "AC" + "0" * 32),
    ]
    signature = sign_pairs(twilio, url, captured)
    assert (await post_pairs(twilio.client, url, captured, signature))[0] == 200
    before = await row_counts(services)

    forged = f"#K{contact.id} Ring meg på 99999999 i stedet."
    replay = captured + [("MessageSid", "SM" + "2" * 32), ("From", primary), ("Body", forged)]
    status, body = await post_pairs(twilio.client, url, replay, signature)

    relayed = to(await outbox(services), HANSEN)
    assert not [text for text in relayed if "99999999" in text], "the forged reply reached Hansen"
    assert status == 400 and "repeated" in body
    assert await row_counts(services) == before


async def test_a_repeated_digits_key_cannot_take_a_call_on_the_screening_step(
    twilio: TwilioDriver, services: Services
) -> None:
    start = await twilio.twiml("/twilio/voice", incoming("CA-day", HANSEN, ASKER_LINE))
    [contact] = await contacts(services)
    gather_url = f"{twilio.settings.public_url}/twilio/voice/screened?contact={contact.id}&step=0"
    leg = {"CallSid": "CA-leg0", "To": dialled_number(start).text or ""}
    await twilio.twiml(dialled_number(start).get("url", ""), leg)
    captured: Pairs = [*leg.items(), ("Digits", "")]
    signature = sign_pairs(twilio, gather_url, captured)
    replay = captured + [("CallSid", "CA-leg0-forged"), ("Digits", "1")]

    status, body = await post_pairs(twilio.client, gather_url, replay, signature)

    assert status == 400 and "repeated" in body
    [contact] = await contacts(services)
    assert contact.answered_at is None and contact.outcome == "in_progress"
    async with services.sessions() as session:
        outcomes = list(await session.scalars(select(AttemptRow.outcome)))
    assert outcomes == ["ringing"]


@pytest.mark.parametrize(
    ("path", "pairs"),
    [
        ("/twilio/voice", [*incoming("CA-x", HANSEN, ASKER_LINE).items(), ("From", HANSEN)]),
        ("/twilio/voice/screen?contact=1&step=0", [("CallSid", "CA-a"), ("CallSid", "CA-b")]),
        ("/twilio/voice/dialled?contact=1&step=0",
         [("CallSid", "CA-a"), ("DialCallStatus", "busy"), ("DialCallStatus", "completed")]),
        ("/twilio/voice/recorded?contact=1", [("CallSid", "CA-a"), ("RecordingUrl", "x"),
                                              ("RecordingUrl", "y")]),
        ("/twilio/status", [("CallSid", "CA-a"), ("CallStatus", "completed"),
                            ("CallSid", "CA-b")]),
        ("/twilio/voice/screen?contact=1&contact=2&step=0", [("CallSid", "CA-a")]),
    ],
)  # fmt: skip
async def test_every_twilio_route_refuses_repeated_keys_and_stores_nothing(
    twilio: TwilioDriver, services: Services, path: str, pairs: Pairs
) -> None:
    url = twilio.settings.public_url + path
    before = await row_counts(services)
    status, body = await post_pairs(twilio.client, url, pairs, sign_pairs(twilio, url, pairs))
    assert status == 400 and "repeated" in body
    assert await row_counts(services) == before


# -- bad input on the Twilio routes ----------------------------------------------------------

CALL = incoming("CA-bad", HANSEN, ASKER_LINE)
SMS = {"MessageSid": "SM" + "3" * 32, "From": HANSEN, "To": ASKER_LINE, "Body": "Hei"}


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/twilio/voice/screen?contact=abc&step=0", {"CallSid": "CA-leg0"}),
        ("/twilio/voice/screened?contact={contact}&step=x", {"CallSid": "CA-leg0"}),
        ("/twilio/voice/dialled?contact={contact}", {**CALL, "DialCallStatus": "busy"}),
        ("/twilio/voice/screen?contact=99999999999&step=0", {"CallSid": "CA-leg0"}),
        ("/twilio/voice/screen?contact=0&step=0", {"CallSid": "CA-leg0"}),
        ("/twilio/voice/dialled?contact={contact}&step=0",
         {**CALL, "DialCallStatus": "no-answer-or-anything-else-at-all"}),
        ("/twilio/voice/screened?contact={contact}&step=0", {"CallSid": "CA-leg0", "Digits": "½"}),
        ("/twilio/voice/recorded?contact={contact}",
         {**CALL, "RecordingUrl": "javascript:alert(1)", "RecordingDuration": "3"}),
        ("/twilio/voice/recorded?contact={contact}",
         {**CALL, "RecordingUrl": "https://api.twilio.com/r/RE1", "RecordingDuration": "²"}),
        ("/twilio/status", {**CALL, "CallStatus": "completed", "CallDuration": "²"}),
        ("/twilio/voice", {**CALL, "CallSid": ""}),
        ("/twilio/voice", {key: v for key, v in CALL.items() if key != "CallSid"}),
        ("/twilio/voice", {**CALL, "CallSid": "CA-nul", "From": "+47\x0098765432"}),
        ("/twilio/sms", {key: v for key, v in SMS.items() if key != "MessageSid"}),
        ("/twilio/sms", {**SMS, "From": "+47" + "9" * 40}),
        ("/twilio/sms", {**SMS, "Body": "x" * 1601}),
        ("/twilio/sms", {**SMS, "Body": "Hei\x00"}),
    ],
)  # fmt: skip
async def test_a_signed_webhook_with_bad_input_is_400_and_stores_nothing(
    twilio: TwilioDriver, services: Services, path: str, form: dict[str, str]
) -> None:
    await twilio.twiml("/twilio/voice", CALL)
    [contact] = await contacts(services)
    before = await row_counts(services)
    status, body = await twilio.post(path.format(contact=contact.id), form)
    assert status == 400, body
    assert body.startswith("bad request: ")
    assert await row_counts(services) == before


async def test_a_body_that_is_not_a_url_encoded_form_is_400(
    twilio: TwilioDriver, services: Services
) -> None:
    url = twilio.settings.public_url + "/twilio/sms"
    signature = twilio.sign(url, {})
    before = await row_counts(services)
    for content_type, data in (
        ("application/x-www-form-urlencoded", b"MessageSid=SM1&From=%2B47&Body=\xff\xfe"),
        ("application/x-www-form-urlencoded; charset=no-such-charset", b"MessageSid=SM1"),
        ("multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; '
         b'name="MessageSid"\r\n\r\nSM1\r\n--b--\r\n'),
    ):  # fmt: skip
        response = await twilio.client.post(
            "/twilio/sms",
            data=data,
            headers={"Content-Type": content_type, "X-Twilio-Signature": signature},
        )
        assert response.status == 400, await response.text()
    assert await row_counts(services) == before


async def test_a_twilio_path_without_a_webhook_is_404_and_a_get_is_405(
    twilio: TwilioDriver,
) -> None:
    assert (await twilio.post("/twilio/voice/nothing-here", {"CallSid": "CA-1"}))[0] == 404
    response = await twilio.client.get("/twilio/voice")
    assert response.status == 405


# -- caching ---------------------------------------------------------------------------------


async def test_answers_with_personal_data_are_never_cached(
    twilio: TwilioDriver, services: Services
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            ApiTokenRow(
                name="cache-test",
                token_hash=token_hash("cache-token"),
                created_at=MONDAY_10,
                role="admin",
                kommuner="",
                expires_at=MONDAY_10 + timedelta(days=1),
            )
        )
        feed = await rotate_feed(session, "person", "kari", MONDAY_10)
    assert feed is not None
    client, public = twilio.client, twilio.settings.public_url
    call = incoming("CA-cache", HANSEN, ASKER_LINE)
    answers = [
        await client.post(
            "/twilio/voice",
            data=call,
            headers={"X-Twilio-Signature": twilio.sign(public + "/twilio/voice", call)},
        ),
        await client.post("/twilio/voice", data=call, headers={"X-Twilio-Signature": "forged"}),
        await client.get("/api/contacts", headers={"Authorization": "Bearer cache-token"}),
        await client.get("/api/contacts"),
        await client.get(feed_path(feed)),
        await client.get(feed_path("not-a-token")),
        await client.post("/telegram/webhook", json={}),
        await client.get("/no/such/page"),
    ]
    assert [r.status for r in answers] == [200, 403, 200, 401, 200, 404, 404, 404]
    assert [r.headers.get("Cache-Control") for r in answers] == ["no-store"] * len(answers)
    for path in ("/healthz", "/readyz", "/api/openapi.json"):
        response = await client.get(path)
        assert response.status == 200 and response.headers.get("Cache-Control") != "no-store"


def test_every_twilio_route_has_its_parameters_checked(twilio: TwilioDriver) -> None:
    paths = {
        route.resource.canonical
        for route in twilio.client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/twilio/")
    }
    assert paths and paths == set(ROUTES)
