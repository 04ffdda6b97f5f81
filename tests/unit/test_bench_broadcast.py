"""The broadcast benchmark's pure parts: its windows, its rate, its exactly-once verdict and
the organisation it loads."""

from __future__ import annotations

import math

import pytest

from bench import harness
from bench.broadcast.cli import outcome
from bench.broadcast.drive import BODY, GROUP, Home, Observed, Options, bench_org
from bench.broadcast.verdicts import (
    Once,
    busiest_second,
    busiest_window,
    exactly_once,
    steady_rate,
)
from rota.orgfile import parse_org
from routing.broadcasts import sms_body


@pytest.mark.parametrize(
    ("arrivals", "most"),
    [
        ([], 0),
        ([(0.0, 1)], 1),
        ([(0.0, 1), (0.999, 1), (1.0, 1)], 2),  # a window is [t, t + 1 s)
        ([(0.0, 2), (0.5, 2), (1.2, 2), (1.4, 2)], 6),  # units count, not arrivals
        ([(5.0, 1), (0.1, 1), (0.2, 1)], 2),  # in any order
    ],
)
def test_busiest_second(arrivals: list[tuple[float, int]], most: int) -> None:
    assert busiest_second(arrivals) == most


def test_the_busiest_window_says_where_it_starts() -> None:
    assert busiest_window([(3.0, 1), (5.0, 1), (5.5, 2), (7.0, 1)]) == (3, 5.0)
    most, start = busiest_window([])
    assert most == 0 and math.isnan(start)


def test_a_bucket_giving_its_burst_then_its_rate_measures_at_its_rate() -> None:
    burst = [(100.0, 1)] * 50  # a full bucket of 50, at once
    paced = [(100.0 + (i + 1) / 50, 1) for i in range(500)]  # then 50 a second for 10 s
    assert steady_rate(burst + paced, 50) == pytest.approx(50.0)
    assert math.isnan(steady_rate([(1.0, 1)], 50))
    empty = [(100.0 + i / 50, 1) for i in range(500)]  # a new bucket: the first at once
    assert steady_rate(empty, 1) == pytest.approx(50.0)


def test_exactly_once() -> None:
    assert exactly_once(["a", "b", "c"], ["a", "b", "c"]) == Once(3, 0, 0)
    found = exactly_once(["a", "b", "c"], ["a", "a", "c", "x"])
    assert found == Once(1, 1, 2, ("b",), ("a", "x"))


def test_the_organisation_puts_the_audience_in_one_group_and_the_helpers_outside() -> None:
    text, audience, helpers = bench_org(30, 4)
    org = parse_org(text)
    [group] = [g for g in org.groups if g.id == GROUP]
    assert len(group.members) == 30 and len(audience) == 30 and len(helpers) == 4
    phones = {p for h in org.foster_homes for p in h.phones}
    assert set(audience) | set(helpers) <= phones
    members = {h.id for h in org.foster_homes if h.id in group.members}
    assert not any(p in helpers for h in org.foster_homes if h.id in members for p in h.phones)


def test_each_sending_number_is_judged_against_its_own_bucket() -> None:
    homes = [Home(f"h{i}", f"+47900000{i:02d}", None) for i in range(40)]
    first = [(100.0 + i / 10, h.phone, "+4767000090") for i, h in enumerate(homes[:20])]
    second = [(100.0, h.phone, "+4767000001") for h in homes[20:]]  # 20 at once: > 10 + 5
    seen = Observed(homes, [], Home("warm", "+4791111111", None))
    seen.twilio = [(at, to, sender, sms_body(BODY)) for at, to, sender in first + second]
    options = Options(40, 5, 0.0, 0, False, harness.Stores())
    figures = {f.key: f for f in outcome(options, seen).figures}
    assert figures["sms_numbers"].value == 2
    assert figures["sms_number"].label == "  +4767000001: segments"
    assert (figures["sms_number"].value, figures["sms_number_2"].value) == (20, 20)
    assert figures["sms_busiest_1s"].ok is False  # 20 in one second, bound 5 + 5
    assert figures["sms_busiest_1s_2"].value == 10 and figures["sms_busiest_1s_2"].ok
    assert figures["sms_rate_2"].value == pytest.approx((20 - 1) / 1.9)
    assert figures["sms_busiest_at_s_2"].value == pytest.approx(0.0)
    assert figures["sms_once"].value == 40
