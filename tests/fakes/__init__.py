"""Local fake servers for the outside APIs, speaking their real wire formats."""

from tests.fakes.twilio_api import (
    FAKE_ACCOUNT_SID,
    FAKE_AUTH_TOKEN,
    FakeTwilio,
    RecordedRequest,
    running_fake_twilio,
)

__all__ = [
    "FAKE_ACCOUNT_SID",
    "FAKE_AUTH_TOKEN",
    "FakeTwilio",
    "RecordedRequest",
    "running_fake_twilio",
]
