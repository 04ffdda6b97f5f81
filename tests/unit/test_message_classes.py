"""The class rules: what may hold back a help, group or info message, on each channel, with
and without an opt-out, in and out of quiet hours (21:00-08:00 Europe/Oslo)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rota.model import QuietHours
from routing.classes import (
    MSG_CLASSES,
    Decision,
    HoldUntil,
    MsgClass,
    OptedOut,
    SendNow,
    SendSilently,
    decide,
    decide_at,
    opt_out_scopes,
    outbox_status,
)
from routing.delivery import TWILIO_STATES, after_callback, forward_move, is_carrier_stop
from tests.unit.rota_fixtures import oslo, utc

NIGHT = QuietHours(time(21), time(8))
DAY = oslo(2026, 11, 23, 12)  # a Monday noon
LATE = oslo(2026, 11, 23, 23)  # in quiet hours
MORNING = utc(2026, 11, 24, 7)  # 08:00 in Oslo, when they end
# The spring night: quiet hours end at 08:00 CEST, 06:00Z.
SPRING_NIGHT, SPRING_MORNING = oslo(2026, 3, 28, 23), utc(2026, 3, 29, 6)
# Any instant from 2025 to 2030, in UTC (hypothesis takes the bounds naive).
INSTANTS = st.datetimes(
    utc(2025, 1, 1).replace(tzinfo=None),
    utc(2031, 1, 1).replace(tzinfo=None),
    timezones=st.just(UTC),
)

RULES = [
    # class, channel, opted out, now, decision
    ("help", "sms", False, DAY, SendNow()),
    ("help", "sms", True, DAY, SendNow()),  # STOPP never blocks help
    ("help", "sms", True, LATE, SendNow()),  # nor do quiet hours
    ("help", "telegram", True, LATE, SendNow()),
    ("group", "sms", False, DAY, SendNow()),
    ("group", "telegram", False, DAY, SendNow()),
    ("group", "sms", False, LATE, HoldUntil(MORNING)),
    ("group", "telegram", False, LATE, SendSilently()),
    ("group", "sms", False, SPRING_NIGHT, HoldUntil(SPRING_MORNING)),
    ("group", "sms", True, DAY, OptedOut()),
    ("group", "telegram", True, LATE, OptedOut()),
    ("info", "sms", False, DAY, SendNow()),
    ("info", "telegram", False, DAY, SendNow()),
    ("info", "sms", False, LATE, HoldUntil(MORNING)),
    ("info", "telegram", False, LATE, HoldUntil(MORNING)),  # info waits on Telegram too
    ("info", "sms", True, DAY, OptedOut()),
    ("info", "telegram", True, LATE, OptedOut()),
]


@pytest.mark.parametrize(("msg_class", "channel", "opted_out", "now", "expected"), RULES)
def test_the_class_rules(
    msg_class: MsgClass, channel: str, opted_out: bool, now: datetime, expected: Decision
) -> None:
    assert decide(msg_class, channel, opted_out, NIGHT, now) == expected


@pytest.mark.parametrize(
    ("decision", "status"),
    [(SendNow(), "queued"), (SendSilently(), "queued"), (HoldUntil(MORNING), "held"),
     (OptedOut(), "opted_out")],
)  # fmt: skip
def test_new_rows_start_in_the_state_of_their_decision(decision: Decision, status: str) -> None:
    assert outbox_status(decision) == status


@given(INSTANTS, st.sampled_from(["sms", "telegram"]), st.booleans())
def test_help_is_never_held_and_never_opted_out(
    now: datetime, channel: str, opted_out: bool
) -> None:
    assert decide("help", channel, opted_out, NIGHT, now) == SendNow()
    assert decide_at("help", channel, opted_out, NIGHT, now.replace(year=2032), now) == SendNow()


@given(INSTANTS, st.sampled_from(MSG_CLASSES), st.sampled_from(["sms", "telegram"]))
def test_whatever_is_held_is_held_until_quiet_hours_end(
    now: datetime, msg_class: MsgClass, channel: str
) -> None:
    decision = decide(msg_class, channel, False, NIGHT, now)
    if isinstance(decision, HoldUntil):
        assert decision.until > now
        assert decide(msg_class, channel, False, NIGHT, decision.until) == SendNow()


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        (oslo(2026, 11, 23, 14), HoldUntil(oslo(2026, 11, 23, 14))),  # later today
        (oslo(2026, 11, 23, 22), HoldUntil(MORNING)),  # into quiet hours: until they end
        (oslo(2026, 11, 23, 11), SendNow()),  # in the past: now
        (DAY, SendNow()),
    ],
)
def test_a_scheduled_info_message_waits_for_its_time(send_at: datetime, expected: Decision) -> None:
    assert decide_at("info", "sms", False, NIGHT, send_at, DAY) == expected
    assert decide_at("info", "sms", True, NIGHT, send_at, DAY) == OptedOut()


def test_which_stopp_stops_what() -> None:
    assert opt_out_scopes("help", "g1", via_network=True) == ()
    assert opt_out_scopes("info", None, via_network=True) == ("network",)
    assert opt_out_scopes("info", None, via_network=False) == ("network",)
    assert opt_out_scopes("group", "g1", via_network=False) == ("group:g1",)
    assert opt_out_scopes("group", "g1", via_network=True) == ("group:g1", "network")


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        ("sending", "queued", "sent"),  # the callback came before the sender recorded it
        ("sending", "delivered", "delivered"),
        ("sent", "sent", None),  # a duplicate
        ("sent", "delivered", "delivered"),
        ("sent", "undelivered", "undelivered"),
        ("sent", "failed", "failed"),
        ("delivered", "sent", None),  # late and out of order: nothing changes
        ("delivered", "undelivered", None),
        ("undelivered", "delivered", None),
        ("failed", "delivered", None),
        ("opted_out", "delivered", None),
        ("sandbox", "delivered", None),
        ("sent", "receiving", None),  # not an outbound status
        ("sent", "DELIVERED", None),
        ("held", "sent", "sent"),
    ],
)
def test_status_callbacks_only_move_forward(current: str, reported: str, expected: str) -> None:
    assert after_callback(current, reported) == expected


STATES = ("held", "queued", "pending", "sending", "sent", "delivered", "undelivered", "failed",
          "opted_out", "sandbox", "unknown")  # fmt: skip


@pytest.mark.parametrize("reported", [*TWILIO_STATES, "receiving", "DELIVERED", ""])
def test_the_one_update_of_a_status_makes_exactly_the_moves_after_callback_allows(
    reported: str,
) -> None:
    move = forward_move(reported)
    if move is None:
        assert all(after_callback(current, reported) is None for current in STATES)
        return
    for current in STATES:
        expected = after_callback(current, reported)
        assert (current in move.sources) == (expected is not None)
        assert expected in (None, move.new)
    assert move.new not in move.sources  # a second identical callback moves nothing


def test_error_21610_is_a_carrier_stop() -> None:
    assert is_carrier_stop(21610) and not is_carrier_stop(30003) and not is_carrier_stop(None)
