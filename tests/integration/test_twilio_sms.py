"""The Twilio SMS adapter, over HTTP, against the fake Twilio REST API."""

import re
import socket
import traceback
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bots.twilio_sms import DEFAULT_TIMEOUT, TwilioSms
from rota.phones import mask_phone
from routing.ports import ChannelError, Sent
from tests.fakes.twilio_api import (
    API_VERSION,
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
    sms_segments,
)

pytestmark = pytest.mark.integration

TO = "+4798765432"
FROM = "+4767000001"
BODY = "Familien Hansen ber om å bli ringt opp. Svar #K7 JA 😊"
STATUS_CALLBACK = "http://helpline.test/twilio/status"
MESSAGES_PATH = f"/{API_VERSION}/Accounts/{FAKE_ACCOUNT_SID}/Messages.json"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio() as running:
        yield running


def sender(
    fake: FakeTwilio,
    *,
    auth_token: str = FAKE_AUTH_TOKEN,
    api_base: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> TwilioSms:
    return TwilioSms(
        account_sid=FAKE_ACCOUNT_SID,
        auth_token=auth_token,
        api_base=api_base or fake.base_url,
        status_callback=STATUS_CALLBACK,
        timeout=timeout,
    )


@pytest.fixture
async def sms(fake: FakeTwilio) -> AsyncIterator[TwilioSms]:
    async with sender(fake) as opened:
        yield opened


async def refused(sms: TwilioSms, to: str = TO) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        await sms.send_sms(to=to, from_=FROM, body=BODY)
    return caught.value


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_message_arrives_with_fields_auth_and_sid(fake: FakeTwilio, sms: TwilioSms) -> None:
    sent = await sms.send_sms(to=TO, from_=FROM, body=BODY)

    [arrived] = fake.messages
    assert arrived.method == "POST"
    assert arrived.path == MESSAGES_PATH
    assert arrived.auth_user == FAKE_ACCOUNT_SID
    assert arrived.form == {
        "To": TO,
        "From": FROM,
        "Body": BODY,
        "StatusCallback": STATUS_CALLBACK,
    }
    assert arrived.status == 201
    assert arrived.sid is not None and re.fullmatch(r"SM[0-9a-f]{32}", arrived.sid)
    assert sent == Sent(channel="sms", provider_id=arrived.sid)


async def test_no_status_callback_is_sent_unless_configured(fake: FakeTwilio) -> None:
    async with TwilioSms(
        account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN, api_base=fake.base_url
    ) as sms:
        await sms.send_sms(to=TO, from_=FROM, body=BODY)

    [arrived] = fake.messages
    assert "StatusCallback" not in arrived.form
    assert arrived.accepted


async def test_each_send_gets_its_own_sid(fake: FakeTwilio, sms: TwilioSms) -> None:
    first = await sms.send_sms(to=TO, from_=FROM, body="én")
    second = await sms.send_sms(to=TO, from_=FROM, body="to")

    assert [first.provider_id, second.provider_id] == [m.sid for m in fake.messages]
    assert first.provider_id != second.provider_id


async def test_wrong_credentials_are_not_retryable(fake: FakeTwilio) -> None:
    async with sender(fake, auth_token="not-the-token") as sms:
        error = await refused(sms)

    assert error.retryable is False
    assert "401" in str(error)
    assert [(m.status, m.auth_user) for m in fake.messages] == [(401, FAKE_ACCOUNT_SID)]


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_retryable(
    fake: FakeTwilio, sms: TwilioSms, status: int
) -> None:
    fake.fail_next(status)

    error = await refused(sms)
    retried = await sms.send_sms(to=TO, from_=FROM, body=BODY)

    assert error.retryable is True
    assert str(status) in str(error)
    assert [m.status for m in fake.messages] == [status, 201]
    assert retried.provider_id == fake.messages[1].sid


async def test_invalid_number_is_not_retryable(fake: FakeTwilio, sms: TwilioSms) -> None:
    error = await refused(sms, to="98765432")  # national form, not E.164

    assert error.retryable is False
    assert "21211" in str(error)
    assert [m.status for m in fake.messages] == [400]


async def test_unreachable_twilio_is_retryable() -> None:
    async with TwilioSms(
        account_sid=FAKE_ACCOUNT_SID,
        auth_token=FAKE_AUTH_TOKEN,
        api_base=f"http://127.0.0.1:{closed_port()}",
    ) as sms:
        error = await refused(sms)

    assert error.retryable is True


async def test_a_hanging_twilio_times_out_as_retryable(fake: FakeTwilio) -> None:
    fake.delay_next(30)
    async with sender(fake, timeout=0.2) as sms:
        error = await refused(sms)

    assert error.retryable is True


@pytest.mark.parametrize("failure", ["invalid number", "server error", "credentials", "network"])
async def test_errors_mask_the_number_and_never_show_the_body(
    fake: FakeTwilio, failure: str
) -> None:
    to, auth_token, api_base = TO, FAKE_AUTH_TOKEN, fake.base_url
    if failure == "invalid number":
        to = "98765432"  # Twilio's 21211 message quotes this number in full
    elif failure == "server error":
        fake.fail_next(500)
    elif failure == "credentials":
        auth_token = "not-the-token"
    else:
        api_base = f"http://127.0.0.1:{closed_port()}"

    async with sender(fake, auth_token=auth_token, api_base=api_base) as sms:
        error = await refused(sms, to=to)

    # The whole traceback, as a log would show it, chained exceptions included.
    logged = "".join(traceback.format_exception(error))
    assert mask_phone(to) in str(error)
    assert to not in logged
    assert "98765432" not in logged
    assert BODY not in logged and "Hansen" not in logged


async def test_a_closed_sender_refuses_to_send(fake: FakeTwilio) -> None:
    sms = sender(fake)
    await sms.send_sms(to=TO, from_=FROM, body=BODY)
    await sms.close()

    with pytest.raises(RuntimeError, match="closed"):
        await sms.send_sms(to=TO, from_=FROM, body=BODY)
    assert len(fake.messages) == 1


# The fake itself, at the wire level, as end-to-end tests will use it.


def basic_auth(user: str = FAKE_ACCOUNT_SID, password: str = FAKE_AUTH_TOKEN) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(user, password)}


async def test_fake_creates_calls(fake: FakeTwilio) -> None:
    url = f"{fake.base_url}/{API_VERSION}/Accounts/{FAKE_ACCOUNT_SID}/Calls.json"
    form = {"To": TO, "From": FROM, "Url": "http://helpline.test/twilio/voice/whisper"}
    async with aiohttp.ClientSession(headers=basic_auth()) as http:
        async with http.post(url, data=form) as created:
            call = await created.json()
        async with http.post(url, data={"To": TO, "From": FROM}) as missing_url:
            problem = await missing_url.json()

    assert created.status == 201
    assert re.fullmatch(r"CA[0-9a-f]{32}", call["sid"])
    assert (call["status"], call["to"], call["from"]) == ("queued", TO, FROM)
    assert (missing_url.status, problem["code"]) == (400, 21205)
    assert [(c.form, c.sid) for c in fake.calls] == [
        (form, call["sid"]),
        ({"To": TO, "From": FROM}, None),
    ]


async def test_fake_answers_with_twilio_error_bodies(fake: FakeTwilio) -> None:
    url = f"{fake.base_url}{MESSAGES_PATH}"
    form = {"To": TO, "From": FROM, "Body": BODY}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=form, headers=basic_auth(password="wrong")) as denied:
            denial = await denied.json()
        async with http.post(url, data={**form, "To": "12345"}, headers=basic_auth()) as bad:
            invalid = await bad.json()
        async with http.get(f"{fake.base_url}/2010-04-01/Nothing.json") as unknown:
            missing = await unknown.json()

    assert (denied.status, denial) == (
        401,
        {
            "code": 20003,
            "message": "Authenticate",
            "more_info": "https://www.twilio.com/docs/errors/20003",
            "status": 401,
        },
    )
    assert (bad.status, invalid["code"], invalid["status"]) == (400, 21211, 400)
    assert (unknown.status, missing["code"]) == (404, 20404)
    assert [r.status for r in fake.requests] == [401, 400, 404]


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("æøå ÆØÅ" * 20, 1),  # 140 characters, all in the GSM-7 basic set
        ("€" * 80, 1),  # extension characters take two septets each
        ("€" * 81, 2),
        ("😊" * 35, 1),  # UCS-2: 70 code units
        ("😊" * 36, 2),
    ],
)
def test_fake_counts_segments_like_twilio(body: str, segments: int) -> None:
    assert sms_segments(body) == segments
