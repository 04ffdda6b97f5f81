"""The Twilio recordings adapter, over HTTP, against the fake Twilio REST API."""

import socket
from collections.abc import AsyncIterator

import pytest

from bots.twilio_recordings import TwilioRecordings
from routing.ports import ChannelError
from tests.fakes.twilio_api import (
    API_VERSION,
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    running_fake_twilio,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with running_fake_twilio() as running:
        yield running


def store(
    fake: FakeTwilio, *, auth_token: str = FAKE_AUTH_TOKEN, api_base: str | None = None
) -> TwilioRecordings:
    return TwilioRecordings(
        account_sid=FAKE_ACCOUNT_SID, auth_token=auth_token, api_base=api_base or fake.base_url
    )


async def test_a_recording_is_deleted_with_a_signed_delete(fake: FakeTwilio) -> None:
    sid = fake.add_recording()
    async with store(fake) as recordings:
        await recordings.delete_recording(sid)
    [request] = fake.requests
    assert (request.method, request.status, request.sid) == ("DELETE", 204, sid)
    assert request.path == f"/{API_VERSION}/Accounts/{FAKE_ACCOUNT_SID}/Recordings/{sid}.json"
    assert request.auth_user == FAKE_ACCOUNT_SID
    assert fake.recordings == set() and fake.deleted_recordings == [sid]


async def test_a_recording_twilio_no_longer_has_counts_as_deleted(fake: FakeTwilio) -> None:
    async with store(fake) as recordings:
        await recordings.delete_recording("RE" + "0" * 32)
    assert [r.status for r in fake.requests] == [404]


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (429, True), (400, False)])
async def test_twilio_errors_become_channel_errors(
    fake: FakeTwilio, status: int, retryable: bool
) -> None:
    sid = fake.add_recording()
    fake.fail_next(status)
    async with store(fake) as recordings:
        with pytest.raises(ChannelError) as raised:
            await recordings.delete_recording(sid)
    assert raised.value.retryable is retryable and sid in fake.recordings


async def test_wrong_credentials_are_refused_and_not_retried(fake: FakeTwilio) -> None:
    sid = fake.add_recording()
    async with store(fake, auth_token="wrong") as recordings:
        with pytest.raises(ChannelError, match="HTTP 401") as raised:
            await recordings.delete_recording(sid)
    assert not raised.value.retryable and "wrong" not in str(raised.value)


async def test_an_unreachable_twilio_is_retryable(fake: FakeTwilio) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with store(fake, api_base=f"http://127.0.0.1:{port}") as recordings:
        with pytest.raises(ChannelError, match="could not be reached") as raised:
            await recordings.delete_recording(fake.add_recording())
    assert raised.value.retryable
