"""Retention decisions, as tables: what is past its time, and what of a contact goes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from routing.retention import ContactFacts, Purge, cutoff, plan_purge, recording_sid

NOW = datetime(2027, 2, 22, 9, 0, tzinfo=UTC)
DAYS = 90
CUT = NOW - timedelta(days=DAYS)
SID = "RE" + "0a" * 16
URL = f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/{SID}"
OLD = ContactFacts(
    contact_id=7,
    started_at=CUT - timedelta(days=1),
    last_activity=None,
    foster_home=True,
    caller="+4798765432",
    recording_url=None,
    purged_at=None,
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (OLD, Purge(7, blank_caller=False, drop_recording=False, recording_sid=None)),
        (replace(OLD, foster_home=False),  # an unknown caller's number goes
         Purge(7, blank_caller=True, drop_recording=False, recording_sid=None)),
        (replace(OLD, foster_home=False, caller=""),  # blanked before (recording retried)
         Purge(7, blank_caller=False, drop_recording=False, recording_sid=None)),
        (replace(OLD, recording_url=URL), Purge(7, False, drop_recording=True, recording_sid=SID)),
        (replace(OLD, recording_url="https://x/voicemail.mp3"),  # names no Twilio recording
         Purge(7, False, drop_recording=True, recording_sid=None)),
        (replace(OLD, started_at=CUT), None),  # exactly at the cutoff: kept
        (replace(OLD, started_at=CUT + timedelta(seconds=1)), None),  # younger
        (replace(OLD, last_activity=CUT + timedelta(days=10)), None),  # old but still active
        (replace(OLD, last_activity=CUT - timedelta(hours=1)), Purge(7, False, False, None)),
        (replace(OLD, purged_at=CUT), None),  # done already
    ],
)  # fmt: skip
def test_plan_purge(facts: ContactFacts, expected: Purge | None) -> None:
    assert plan_purge(facts, NOW, DAYS) == expected


@pytest.mark.parametrize(
    ("url", "sid"),
    [
        (URL, SID),
        (URL + ".json", SID),
        (URL + ".mp3?Download=true", SID),
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/", None),
        ("https://api.twilio.com/rec/RE1", None),
        ("", None),
    ],
)
def test_recording_sid(url: str, sid: str | None) -> None:
    assert recording_sid(url) == sid


def test_cutoff() -> None:
    assert cutoff(NOW, 90) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least one day"):
        cutoff(NOW, 0)
    with pytest.raises(ValueError, match="naive"):
        cutoff(datetime(2027, 2, 22), 90)  # noqa: DTZ001 - the point of the test
