"""The escalation benchmark's pure parts: the organisation it loads, judging conversations,
quantiles, the form it signs. No servers are started and nothing is timed here.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from bench.escalation import (
    BENCH_HOME_PREFIX,
    SANDBOX_TOKEN,
    Verdict,
    bench_org,
    bench_phones,
    check_chains,
    judge_conversation,
    summarise,
    with_deadline,
)
from bench.escalation.stages import stages
from bench.harness import BenchError
from helpline.commands.org import demo_text
from helpline.timers import Firing
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN
from rota.orgfile import parse_org
from rota.phones import normalise_phone

PRIMARY, BACKUP, FALLBACK = "+4791234567", "+4791234568", "+4740000000"


def test_the_generated_organisation_parses_with_unique_valid_numbers() -> None:
    text, homes = bench_org(1000, 5)
    org = parse_org(text)
    assert org.helpline.message_deadline == timedelta(seconds=5)
    bench = [h for h in org.foster_homes if h.id.startswith(BENCH_HOME_PREFIX)]
    assert len(bench) == len(homes) == 1000
    assert len(org.foster_homes) == 1000 + len(parse_org(demo_text()).foster_homes)
    phones = [phone for home in org.foster_homes for phone in home.phones]
    assert len(set(phones)) == len(phones)
    staff = {p.phone for p in org.people} | {t.duty_phone for t in org.teams if t.duty_phone}
    assert not staff & set(phones)
    assert all(normalise_phone(h.phone) == h.phone and h.phone.startswith("+479") for h in homes)
    assert [h.phone for h in homes] == [h.phones[0] for h in bench]
    assert len({h.id for h in homes}) == 1000


def test_generated_homes_text_their_own_kommunes_line() -> None:
    text, homes = bench_org(4, 10)
    org = parse_org(text)
    lines = {k.id: k.numbers[0] for k in org.kommuner}
    assert {h.kommune for h in homes} == set(lines)  # spread over every kommune
    assert all(h.line == lines[h.kommune] for h in homes)


def test_bench_phones_skip_reserved_numbers() -> None:
    phones = bench_phones(3, {"+4796000001"})
    assert phones == ["+4796000000", "+4796000002", "+4796000003"]
    assert bench_phones(0, ()) == []


def test_the_deadline_line_is_replaced_exactly_once() -> None:
    assert 'message_deadline = "7s"' in with_deadline(demo_text(), 7)
    with pytest.raises(ValueError):
        with_deadline("[helpline]\n", 5)
    with pytest.raises(ValueError):
        with_deadline(demo_text(), 0)


def test_the_demo_chains_never_repeat_a_phone() -> None:
    text, _ = bench_org(2, 5)
    check_chains(text, datetime(2026, 11, 23, 9, tzinfo=UTC), timedelta(minutes=5))
    check_chains(text, datetime(2026, 11, 28, 23, tzinfo=UTC), timedelta(minutes=5))


LONELY = """
[helpline]
fallback_phone = "+4791234567"

[[kommune]]
id = "asker"
name = "Asker"
numbers = ["+4767000001"]

[[team]]
id = "asker-bvt"
name = "Barnevernstjenesten i Asker"
kind = "kommune"
kommuner = ["asker"]

[[person]]
id = "kari"
name = "Kari Nordmann"
phone = "+4791234567"
teams = ["asker-bvt"]

[[coverage]]
kommune = "asker"
rules = [{ days = "all", from = "00:00", to = "00:00", team = "asker-bvt" }]

[[rotation]]
team = "asker-bvt"
members = ["kari"]
start = "2026-01-05T08:00"
every = "1w"
"""


def test_a_chain_without_a_second_step_is_refused() -> None:
    with pytest.raises(BenchError):  # kari is primary and fallback: one step only
        check_chains(LONELY, datetime(2026, 11, 23, 9, tzinfo=UTC), timedelta(0))


def test_an_escalation_is_a_notification_to_the_second_person() -> None:
    notes = [(100.0, PRIMARY), (106.4, BACKUP), (111.9, FALLBACK)]
    verdict = judge_conversation(7, 100.0, 5.0, BACKUP, notes)
    assert verdict == Verdict(7, 105.0, 1, 106.4)
    assert verdict.lateness == pytest.approx(1.4)


def test_a_doubled_and_a_missing_escalation_are_counted() -> None:
    doubled = judge_conversation(
        1, 0.0, 5.0, BACKUP, [(0.0, PRIMARY), (6.0, BACKUP), (5.5, BACKUP)]
    )
    assert (doubled.escalations, doubled.escalated_at) == (2, 5.5)
    missing = judge_conversation(2, 0.0, 5.0, BACKUP, [(0.0, PRIMARY), (20.0, FALLBACK)])
    assert (missing.escalations, missing.lateness) == (0, None)


def test_the_stages_split_each_first_deadlines_lateness() -> None:
    verdicts = [Verdict(1, 100.0, 1, 100.4), Verdict(2, 100.0, 1, 103.0), Verdict(3, 0, 0, None)]
    firings = [
        Firing("deadline:1:0:100", 100.05, 100.15, 100.25, 100.5, 1, "w1"),
        Firing("deadline:1:1:106", 105.4, 105.5, 105.5, 105.6, 1, "w1"),  # step 1: not counted
        Firing("deadline:2:0:100", 102.0, 102.1, 102.1, 103.2, 2, "w2"),  # its worker died
    ]
    s = stages(verdicts, firings, {1: 99.0})
    assert (s.runs, s.rescued) == (2, 1)
    assert s.scheduling_p99 == 0.0
    assert s.poll_p50 == pytest.approx(0.1) and s.queue_p99 == pytest.approx(0.1)
    late = stages(verdicts, firings, {1: 100.1})  # the webhook was slower than the deadline
    assert late.scheduling_p50 == pytest.approx(0.05) and late.poll_p50 == pytest.approx(0.05)
    assert s.job_p50 == pytest.approx(0.15)
    assert s.rescued_max == pytest.approx(3.0)
    assert math.isnan(stages([], [], {}).poll_p99)


def test_summary_counts_and_quantiles() -> None:
    once = [Verdict(i, 10.0 + i, 1, 10.0 + i + i / 100) for i in range(100)]
    late = [Verdict(100 + i, 0.5, 1, 0.5 - 0.1) for i in range(1)]  # early: a bug
    bad = [Verdict(200, 0.0, 0, None), Verdict(201, 0.0, 2, 3.0)]
    s = summarise(once + late + bad)
    assert (s.conversations, s.once, s.missing, s.doubled, s.early) == (103, 101, 1, 1, 1)
    assert s.max == pytest.approx(3.0)
    assert s.p50 == pytest.approx(0.49)
    empty = summarise([Verdict(1, 0.0, 0, None)])
    assert empty.missing == 1 and math.isnan(empty.p99)


def test_the_bench_signs_with_the_services_sandbox_token() -> None:
    assert SANDBOX_TOKEN == SANDBOX_AUTH_TOKEN
