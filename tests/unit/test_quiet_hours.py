"""Quiet hours across the DST changes (last Sunday of March 02:00 -> 03:00, of October
03:00 -> 02:00). Instants are named in UTC where the local reading is ambiguous; Oslo is
UTC+1 in winter and UTC+2 in summer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rota.model import QuietHours
from rota.orgfile.values import parse_quiet_hours
from routing.quiet import end_of_quiet, in_quiet_hours, quiet_span
from tests.unit.rota_fixtures import OSLO, oslo, utc

NIGHT = QuietHours(time(21), time(8))  # the default, 21:00-08:00
H = timedelta(hours=1)
# Any instant from 2025 to 2030, in UTC (hypothesis takes the bounds naive).
INSTANTS = st.datetimes(
    utc(2025, 1, 1).replace(tzinfo=None),
    utc(2031, 1, 1).replace(tzinfo=None),
    timezones=st.just(UTC),
)


@pytest.mark.parametrize(
    ("now", "end"),
    [
        # An ordinary winter night: 21:00 CET is 20:00Z, 08:00 CET is 07:00Z.
        (oslo(2026, 11, 23, 21), utc(2026, 11, 24, 7)),
        (oslo(2026, 11, 24, 3), utc(2026, 11, 24, 7)),
        (oslo(2026, 11, 24, 7, 59), utc(2026, 11, 24, 7)),
        # Spring: the night of 28-29 March 2026 ends at 08:00 CEST (06:00Z).
        (oslo(2026, 3, 28, 22), utc(2026, 3, 29, 6)),
        (utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 6)),  # 01:59 CET, just before the jump
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 6)),  # 03:00 CEST, just after it
        # Autumn: the night of 24-25 October 2026 ends at 08:00 CET (07:00Z).
        (oslo(2026, 10, 24, 21, 30), utc(2026, 10, 25, 7)),
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 7)),  # 02:30 CEST, the first time
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 7)),  # 02:30 CET, the second time
        # The night after each change is an ordinary one again.
        (oslo(2026, 3, 29, 23), utc(2026, 3, 30, 6)),
        (oslo(2026, 10, 25, 23), utc(2026, 10, 26, 7)),
    ],
)
def test_the_end_of_quiet_hours_is_08_00_on_the_wall_clock(now: datetime, end: datetime) -> None:
    assert in_quiet_hours(now, NIGHT)
    assert end_of_quiet(now, NIGHT) == end


@pytest.mark.parametrize(
    ("evening", "length"),
    [
        (oslo(2026, 3, 28, 21), 10 * H),  # spring: an hour short
        (oslo(2026, 10, 24, 21), 12 * H),  # autumn: an hour long
        (oslo(2026, 3, 21, 21), 11 * H),
        (oslo(2026, 10, 31, 21), 11 * H),
    ],
)
def test_a_nights_quiet_hours_last_as_long_as_the_clock_says(
    evening: datetime, length: timedelta
) -> None:
    span = quiet_span(evening, NIGHT)
    assert span is not None
    assert span[0] == evening and span[1] - span[0] == length


@pytest.mark.parametrize(
    "now",
    [
        oslo(2026, 11, 23, 8),  # the end is not quiet
        oslo(2026, 11, 23, 12),
        oslo(2026, 11, 23, 20, 59),
        utc(2026, 3, 29, 6),  # 08:00 CEST on the spring Sunday
        utc(2026, 10, 25, 7),  # 08:00 CET on the autumn Sunday
    ],
)
def test_outside_quiet_hours_there_is_no_end(now: datetime) -> None:
    assert not in_quiet_hours(now, NIGHT)
    assert end_of_quiet(now, NIGHT) is None


def test_a_span_within_one_day_and_one_starting_in_the_skipped_hour() -> None:
    early = parse_quiet_hours("02:30-06:00")
    # 02:30 does not exist on 29 March 2026: the span starts at the jump, 03:00 CEST.
    assert quiet_span(utc(2026, 3, 29, 1, 30), early) == (utc(2026, 3, 29, 1), utc(2026, 3, 29, 4))
    assert not in_quiet_hours(utc(2026, 3, 29, 0, 59), early)  # 01:59 CET
    assert end_of_quiet(oslo(2026, 11, 24, 5, 59), early) == oslo(2026, 11, 24, 6)
    assert not in_quiet_hours(oslo(2026, 11, 24, 6), early)
    assert not in_quiet_hours(oslo(2026, 11, 24, 2, 29), early)


def test_an_end_in_the_skipped_hour_moves_to_the_jump() -> None:
    short = parse_quiet_hours("21:00-02:30")
    assert end_of_quiet(oslo(2026, 3, 28, 23), short) == utc(2026, 3, 29, 1)  # 03:00 CEST


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        in_quiet_hours(datetime(2026, 11, 23, 22), NIGHT)  # noqa: DTZ001  # the point


@given(INSTANTS)
def test_the_end_is_after_now_and_outside_quiet_hours(now: datetime) -> None:
    end = end_of_quiet(now, NIGHT)
    if end is None:
        assert time(8) <= now.astimezone(OSLO).time() < time(21)
        return
    assert now < end <= now + 12 * H
    assert not in_quiet_hours(end, NIGHT)
    assert end.astimezone(OSLO).time() == time(8)
