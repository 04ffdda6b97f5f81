"""The overlap rule of coverage on its own values (the file's wording: test_orgfile.py)."""

from __future__ import annotations

from datetime import time

import pytest

from rota.coverage import Overlap, RuleDay, overlaps
from rota.model import CoverageRule, Season


def rule(days: str, start: str, end: str, season: Season | None = None) -> CoverageRule:
    return CoverageRule(
        frozenset(days.split(",")), time.fromisoformat(start), time.fromisoformat(end), "t", season
    )


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        pytest.param(
            [rule("mon", "08:00", "12:00"), rule("mon", "12:00", "16:00")], [], id="touching"
        ),
        pytest.param(
            [rule("fri", "22:00", "08:00"), rule("weekend", "08:00", "22:00")],
            [],
            id="overnight ends as the next shift starts",
        ),
        pytest.param(
            [rule("mon", "08:00", "12:00"), rule("weekday", "11:00", "13:00")],
            [Overlap(0, 1, RuleDay(0, False, (1, 15)), time(11), time(12))],
            id="weekday includes mon",
        ),
        pytest.param(
            [rule("all", "08:00", "08:00"), rule("holiday", "23:00", "01:00")],
            [Overlap(0, 1, RuleDay(0, True, (1, 15)), time(23), time(1))],
            id="an overlap past midnight",
        ),
        pytest.param(
            [rule("fri", "22:00", "09:00"), rule("weekend", "08:00", "22:00")],
            [Overlap(0, 1, RuleDay(5, False, (1, 16)), time(8), time(9))],
            id="overnight spills into the next date",
        ),
        pytest.param(
            [
                rule("all", "22:00", "09:00", Season((2, 29), (2, 29))),
                rule("all", "08:00", "22:00", Season((3, 1), (3, 1))),
            ],
            [Overlap(0, 1, RuleDay(1, False, (3, 1)), time(8), time(9))],
            id="feb 29 precedes mar 1",
        ),
        pytest.param(
            [rule("all", f"{h:02d}:00", f"{h + 3:02d}:00") for h in (8, 9, 10)],
            [
                Overlap(0, 1, RuleDay(0, False, (1, 15)), time(9), time(11)),
                Overlap(0, 2, RuleDay(0, False, (1, 15)), time(10), time(11)),
                Overlap(1, 2, RuleDay(0, False, (1, 15)), time(10), time(12)),
            ],
            id="every pair",
        ),
    ],
)
def test_overlaps(rules: list[CoverageRule], expected: list[Overlap]) -> None:
    assert list(overlaps(rules)) == expected
