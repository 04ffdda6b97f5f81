"""The statistics core: counts by local hour, weekday and month (DST and month ends
included), time to answer, escalations, the slices behind the bars, and the chart
geometry and group rights beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from helpline.web.console.charts import HEAT_LEVELS, PLOT_HEIGHT, Item, bar_chart, heat_level
from rota.model import Group
from rota.wallclock import zone
from routing.access import ADMIN, Scope
from routing.group_access import COORDINATOR, STAFF, group_rights
from routing.statistics import (
    AnswerTimes,
    ContactFact,
    Period,
    PeriodError,
    Slice,
    SliceError,
    aggregate,
    answer_times,
    contacts_in,
    default_period,
    duration_text,
    parse_slice,
)

OSLO = zone("Europe/Oslo")


def fact(
    n: int,
    at: datetime,
    channel: str = "voice",
    outcome: str = "answered",
    answer: int | None = None,
    escalated: bool = False,
) -> ContactFact:
    return ContactFact(n, channel, "asker", at, answer, outcome, escalated)


FACTS = [
    fact(1, datetime(2026, 11, 23, 9, 0, tzinfo=UTC), answer=15),  # Mon 10:00
    fact(2, datetime(2026, 11, 23, 9, 40, tzinfo=UTC), outcome="voicemail", escalated=True),
    fact(3, datetime(2026, 11, 24, 2, 5, tzinfo=UTC), answer=40, escalated=True),  # Tue 03
    fact(4, datetime(2026, 11, 30, 13, 0, tzinfo=UTC), "sms", "closed", 120),  # Mon 14
    fact(5, datetime(2026, 11, 29, 22, 30, tzinfo=UTC), "sms", answer=900, escalated=True),
    fact(6, datetime(2026, 10, 5, 16, 0, tzinfo=UTC), "telegram", "closed", 60),  # Mon 18, CEST
    fact(7, datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "sms", "abandoned", escalated=True),
    fact(8, datetime(2026, 9, 30, 21, 59, tzinfo=UTC), "sms"),  # 23:59 on 30.9: outside
    fact(9, datetime(2026, 11, 30, 23, 0, tzinfo=UTC), "sms"),  # 00:00 on 1.12: outside
]
AUTUMN = Period(date(2026, 10, 1), date(2026, 11, 30))


def test_counts_by_channel_outcome_month_and_the_period_bounds_in_local_time() -> None:
    stats = aggregate(FACTS, AUTUMN, OSLO)
    assert stats.total == 7
    assert stats.channels == (("voice", 3), ("sms", 3), ("telegram", 1))
    assert dict(stats.outcomes) == {
        "in_progress": 0,
        "answered": 3,
        "voicemail": 1,
        "abandoned": 1,
        "closed": 2,
    }
    # 23:30 UTC on 31 October is 00:30 on 1 November in Oslo: November's.
    assert [(m.month, m.contacts, m.escalations, m.voicemails) for m in stats.months] == [
        ("2026-10", 1, 0, 0),
        ("2026-11", 6, 4, 1),
    ]
    assert (stats.escalations, stats.voicemails) == (4, 1)


def test_the_heatmap_is_wall_clock_weekday_and_hour_in_summer_and_winter() -> None:
    heat = aggregate(FACTS, AUTUMN, OSLO).heatmap
    cells = {(d, h): n for d, hours in enumerate(heat) for h, n in enumerate(hours) if n}
    assert cells == {
        (0, 10): 2,  # Monday 10:00 and 10:40 (UTC+1)
        (1, 3): 1,  # Tuesday 03:05
        (0, 14): 1,
        (6, 23): 1,  # Sunday 23:30 (22:30 UTC)
        (0, 18): 1,  # Monday 18:00 in October (16:00 UTC, summer time)
        (6, 0): 1,  # Sunday 1 November 00:30
    }
    assert aggregate(FACTS, AUTUMN, OSLO).busiest == (0, 10, 2)


def test_time_to_answer_median_and_nearest_rank_p90() -> None:
    stats = aggregate(FACTS, AUTUMN, OSLO)
    assert stats.answer_times == AnswerTimes(5, 60.0, 900)  # 15 40 60 120 900
    assert dict(stats.answer_times_by_channel) == {
        "voice": AnswerTimes(2, 27.5, 40),
        "sms": AnswerTimes(2, 510.0, 900),
        "telegram": AnswerTimes(1, 60.0, 60),
    }


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([7], 7.0, 7),
        (list(range(1, 11)), 5.5, 9),  # ceil(9.0) = 9th of 10
        (list(range(1, 12)), 6.0, 10),  # ceil(9.9) = 10th of 11
        ([30, 10, 20], 20.0, 30),
    ],
)
def test_answer_times(values: list[int], median: float | None, p90: int | None) -> None:
    assert answer_times(values) == AnswerTimes(len(values), median, p90)


def test_an_empty_period_counts_nothing_and_keeps_every_month() -> None:
    stats = aggregate([], Period(date(2026, 1, 15), date(2026, 3, 1)), OSLO)
    assert stats.total == 0 and stats.busiest is None
    assert [m.month for m in stats.months] == ["2026-01", "2026-02", "2026-03"]
    assert all(n == 0 for hours in stats.heatmap for n in hours)


def test_period_bounds_are_local_midnights_across_dst() -> None:
    start, end = Period(date(2026, 3, 29), date(2026, 10, 25)).bounds(OSLO)
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # before the spring change
    assert end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # 26 Oct 00:00, winter time


def test_periods_refuse_reversed_or_overlong_ranges_naming_the_field() -> None:
    with pytest.raises(PeriodError) as reversed_range:
        Period(date(2026, 2, 1), date(2026, 1, 31))
    assert reversed_range.value.field == "til"
    with pytest.raises(PeriodError):
        Period(date(2020, 1, 1), date(2026, 1, 1))
    assert default_period(date(2026, 11, 23)) == Period(date(2025, 12, 1), date(2026, 11, 23))
    assert default_period(date(2026, 12, 5)) == Period(date(2026, 1, 1), date(2026, 12, 5))


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        (Slice(weekday=0, hour=10), [1, 2]),
        (Slice(month="2026-10"), [6]),
        (Slice(month="2026-11", escalated=True), [2, 3, 5, 7]),
        (Slice(outcome="voicemail"), [2]),
        (Slice(channel="sms", answered=True), [4, 5]),
        (Slice(weekday=6, hour=0), [7]),
        (Slice(), [1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_a_slice_lists_exactly_the_contacts_its_bar_counts(where: Slice, ids: list[int]) -> None:
    assert [f.id for f in contacts_in(FACTS, AUTUMN, where, OSLO)] == ids
    assert parse_slice(where.query()) == where  # the link's parameters give the slice back


@pytest.mark.parametrize(
    "params",
    [
        {"time": "24"},
        {"ukedag": "0"},
        {"ukedag": "٣"},  # a digit, but not an ASCII one
        {"maned": "2026-13"},
        {"kanal": "fax"},
        {"utfall": "lost"},
        {"eskalert": "kanskje"},
    ],
)
def test_a_slice_that_names_no_contacts_is_refused(params: dict[str, str]) -> None:
    with pytest.raises(SliceError):
        parse_slice(params)


def test_a_slice_says_what_it_holds_in_norwegian() -> None:
    assert Slice(weekday=0, hour=13, channel="sms").describe() == "mandag, kl. 13, SMS"
    assert Slice(month="2026-11", escalated=True).describe() == "november 2026, eskalert"
    assert Slice().describe() == "alle henvendelser"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (45, "45 s"), (60, "1 min"), (125, "2 min 5 s"), (3600, "1 t"),
     (3780, "1 t 3 min")],
)  # fmt: skip
def test_duration_text(seconds: int | None, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("count", "largest", "level"),
    [(0, 10, 0), (1, 10, 1), (3, 10, 2), (5, 10, 2), (6, 10, 3), (10, 10, HEAT_LEVELS), (1, 1, 4)],
)
def test_heat_levels(count: int, largest: int, level: int) -> None:
    assert heat_level(count, largest) == level


def test_bars_are_scaled_to_the_largest_and_carry_their_numbers() -> None:
    chart = bar_chart(
        [Item(("a",), (4,), ("/a",)), Item(("b",), (2,), ("/b",)), Item(("c",), (0,), ("/c",))]
    )
    heights = [bar.height for bar in chart.bars]
    assert heights == [PLOT_HEIGHT, PLOT_HEIGHT / 2, 0.0]
    assert [bar.text for bar in chart.bars] == ["4", "2", "0"]
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    flat = bar_chart([Item(("a",), (0,), ("/a",))])
    assert [bar.height for bar in flat.bars] == [0.0]


GROUP = Group("g", "Ressursfamilien", "ressursfamilie", "asker", "nilsen", ("hansen",), ("ingrid",))


@pytest.mark.parametrize(
    ("scope", "person", "rights"),
    [
        (ADMIN, "siri", COORDINATOR),
        (Scope("koordinator", frozenset({"asker"})), "kari", COORDINATOR),
        (Scope("koordinator", frozenset({"baerum"})), "marte", None),
        (Scope("vakt", frozenset({"asker"})), "ingrid", STAFF),  # staff: moderates
        (Scope("vakt", frozenset({"asker"})), "ola", None),  # a vakt not following it
        (Scope("koordinator", frozenset({"baerum"})), "ingrid", STAFF),
    ],
)
def test_group_rights(scope: Scope, person: str, rights: object) -> None:
    assert group_rights(GROUP, scope, person) == rights
