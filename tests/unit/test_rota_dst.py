"""The rota across the DST changes: the nights of the last Sunday of March (02:00 -> 03:00)
and of October (03:00 -> 02:00). Instants are named in UTC where the local reading is
ambiguous; Oslo is UTC+1 in winter and UTC+2 in summer."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from rota.engine import Rota
from tests.unit.rota_fixtures import DUTY_PHONE, FALLBACK, ORG, dst_org, oslo, utc

ROTA = Rota(dst_org())
EXAMPLE = Rota(ORG)

H = timedelta(hours=1)

# (Saturday before, the DST Sunday, night length). Normal nights are 10 h.
NIGHTS = [
    pytest.param(date(2025, 3, 29), 9 * H, id="2025-spring"),
    pytest.param(date(2025, 10, 25), 11 * H, id="2025-autumn"),
    pytest.param(date(2026, 3, 28), 9 * H, id="2026-spring"),
    pytest.param(date(2026, 10, 24), 11 * H, id="2026-autumn"),
    pytest.param(date(2027, 3, 27), 9 * H, id="2027-spring"),
    pytest.param(date(2027, 10, 30), 11 * H, id="2027-autumn"),
    pytest.param(date(2030, 3, 30), 9 * H, id="2030-spring"),
    pytest.param(date(2030, 10, 26), 11 * H, id="2030-autumn"),
    pytest.param(date(2026, 3, 21), 10 * H, id="ordinary-march"),
    pytest.param(date(2026, 10, 31), 10 * H, id="ordinary-november"),
]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return oslo(day.year, day.month, day.day, hour, minute)


@pytest.mark.parametrize(("saturday", "length"), NIGHTS)
def test_night_22_to_08_has_its_real_length_without_gap_or_overlap(
    saturday: date, length: timedelta
) -> None:
    sunday = saturday + timedelta(days=1)
    shifts = ROTA.timeline("dst", at(saturday, 12), at(sunday, 12))
    assert [(s.team, s.start, s.end) for s in shifts] == [
        ("dag", at(saturday, 12), at(saturday, 22)),
        ("natt", at(saturday, 22), at(sunday, 8)),
        ("dag", at(sunday, 8), at(sunday, 12)),
    ]
    assert shifts[1].end - shifts[1].start == length
    assert sum((s.end - s.start for s in shifts), timedelta()) == length + 14 * H
    assert all(s.covered for s in shifts)


def test_dst_sunday_daytime_is_14_hours() -> None:
    shifts = ROTA.timeline("dst", oslo(2026, 3, 29, 8), oslo(2026, 3, 29, 22))
    assert [(s.team, s.end - s.start) for s in shifts] == [("dag", 14 * H)]


def test_night_chain_uses_the_duty_phone_all_night() -> None:
    night = ROTA.timeline("dst", oslo(2026, 10, 24, 22), oslo(2026, 10, 25, 8))
    assert [(s.chain[0].person, s.chain[0].phone, s.chain[-1]) for s in night] == [
        ("n3", DUTY_PHONE, FALLBACK)  # day 296 of the daily rotation: 296 % 3 == 2
    ]


# bvv-vest hands over every Sunday at 08:00 local: 07:00 UTC in winter, 06:00 UTC in summer.
WEEKLY = [
    (utc(2026, 3, 22, 6, 59, 59), "omar"),
    (utc(2026, 3, 22, 7), "siri"),  # 08:00 CET
    (utc(2026, 3, 29, 5, 59, 59), "siri"),
    (utc(2026, 3, 29, 6), "nina"),  # 08:00 CEST, the day the clocks go forward
    (utc(2026, 3, 29, 7), "nina"),
    (utc(2026, 4, 5, 5, 59, 59), "nina"),
    (utc(2026, 4, 5, 6), "omar"),
    (utc(2026, 10, 25, 5, 59, 59), "siri"),
    (utc(2026, 10, 25, 6), "siri"),  # 07:00 CET: not yet
    (utc(2026, 10, 25, 6, 59, 59), "siri"),
    (utc(2026, 10, 25, 7), "nina"),  # 08:00 CET, the day the clocks go back
    (utc(2026, 11, 1, 7), "omar"),
]


@pytest.mark.parametrize(("instant", "person"), WEEKLY, ids=lambda v: str(v))
def test_weekly_handoff_stays_at_0800_local(instant: datetime, person: str) -> None:
    primary = EXAMPLE.on_duty("asker", instant)[0]  # Sunday: bvv-vest covers Asker
    assert (primary.team, primary.person, primary.phone) == ("bvv-vest", person, DUTY_PHONE)


def test_weekly_duty_splits_at_0800_local_on_both_dst_sundays() -> None:
    spring = EXAMPLE.duties("bvv-vest", oslo(2026, 3, 28, 12), oslo(2026, 3, 29, 12))
    assert [(d.start, d.end, d.primary and d.primary.person) for d in spring] == [
        (utc(2026, 3, 28, 11), utc(2026, 3, 29, 6), "siri"),
        (utc(2026, 3, 29, 6), utc(2026, 3, 29, 10), "nina"),
    ]
    autumn = EXAMPLE.duties("bvv-vest", oslo(2026, 10, 24, 12), oslo(2026, 10, 25, 12))
    assert [(d.start, d.end, d.primary and d.primary.person) for d in autumn] == [
        (utc(2026, 10, 24, 10), utc(2026, 10, 25, 7), "siri"),
        (utc(2026, 10, 25, 7), utc(2026, 10, 25, 11), "nina"),
    ]


# `vakt` hands over daily at 02:30 local and covers `dogn` around the clock. On 2026-10-25
# 02:30 happens twice (00:30 and 01:30 UTC): the handoff takes the first. Day 297 of the
# rotation is v1 (297 % 3 == 0); the day before is v3.
AUTUMN = [
    pytest.param(utc(2026, 10, 25, 0, 15), "v3", id="02:15 CEST, first pass"),
    pytest.param(utc(2026, 10, 25, 0, 29, 59), "v3", id="02:29:59 CEST"),
    pytest.param(utc(2026, 10, 25, 0, 30), "v1", id="02:30 CEST, the handoff"),
    pytest.param(utc(2026, 10, 25, 0, 45), "v1", id="02:45 CEST"),
    pytest.param(utc(2026, 10, 25, 1, 15), "v1", id="02:15 CET, second pass"),
    pytest.param(utc(2026, 10, 25, 1, 30), "v1", id="02:30 CET, no second handoff"),
    pytest.param(utc(2026, 10, 25, 1, 45), "v1", id="02:45 CET"),
    pytest.param(utc(2026, 10, 25, 2), "v1", id="03:00 CET"),
    pytest.param(oslo(2026, 10, 25, 2, 15, fold=0), "v3", id="local 02:15 fold=0"),
    pytest.param(oslo(2026, 10, 25, 2, 15, fold=1), "v1", id="local 02:15 fold=1"),
    pytest.param(utc(2026, 10, 26, 1, 29, 59), "v1", id="next day 02:29:59 CET"),
    pytest.param(utc(2026, 10, 26, 1, 30), "v2", id="next day 02:30 CET"),
]


@pytest.mark.parametrize(("instant", "person"), AUTUMN)
def test_repeated_autumn_hour_resolves_to_the_right_person(instant: datetime, person: str) -> None:
    chain = ROTA.on_duty("dogn", instant)
    assert (chain[0].team, chain[0].person) == ("vakt", person)
    assert chain[-1] == FALLBACK


# `tidlig` switches from natt to dag at 02:30: first occurrence in autumn, 03:00 in spring.
BOUNDARY = [
    pytest.param(utc(2026, 10, 25, 0, 29, 59), "natt", id="autumn 02:29:59 CEST"),
    pytest.param(utc(2026, 10, 25, 0, 30), "dag", id="autumn 02:30 CEST"),
    pytest.param(utc(2026, 10, 25, 1, 15), "dag", id="autumn 02:15 CET"),
    pytest.param(utc(2026, 3, 29, 0, 59, 59), "natt", id="spring 01:59:59 CET"),
    pytest.param(utc(2026, 3, 29, 1), "dag", id="spring 03:00 CEST"),
    pytest.param(utc(2026, 3, 30, 0, 29, 59), "natt", id="next day 02:29:59 CEST"),
    pytest.param(utc(2026, 3, 30, 0, 30), "dag", id="next day 02:30 CEST"),
]


@pytest.mark.parametrize(("instant", "team"), BOUNDARY)
def test_rule_boundary_in_the_changing_hour(instant: datetime, team: str) -> None:
    assert ROTA.covering_team("tidlig", instant) == team
    assert ROTA.on_duty("tidlig", instant)[0].team == team


def test_boundary_in_the_skipped_spring_hour_moves_to_0300() -> None:
    shifts = ROTA.timeline("tidlig", oslo(2026, 3, 28, 12), oslo(2026, 3, 29, 12))
    assert [(s.team, s.start, s.end) for s in shifts] == [
        ("dag", utc(2026, 3, 28, 11), utc(2026, 3, 28, 13, 30)),  # until 14:30 CET
        ("natt", utc(2026, 3, 28, 13, 30), utc(2026, 3, 29, 1)),  # until 03:00 CEST
        ("dag", utc(2026, 3, 29, 1), utc(2026, 3, 29, 6)),  # dag's handoff at 08:00 CEST
        ("dag", utc(2026, 3, 29, 6), utc(2026, 3, 29, 10)),
    ]
    assert shifts[1].end - shifts[1].start == timedelta(hours=11, minutes=30)


def test_boundary_in_the_repeated_autumn_hour_takes_the_first() -> None:
    shifts = ROTA.timeline("tidlig", oslo(2026, 10, 24, 12), oslo(2026, 10, 25, 12))
    assert [(s.team, s.start, s.end) for s in shifts] == [
        ("dag", utc(2026, 10, 24, 10), utc(2026, 10, 24, 12, 30)),  # until 14:30 CEST
        ("natt", utc(2026, 10, 24, 12, 30), utc(2026, 10, 25, 0, 30)),  # 02:30 CEST
        ("dag", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 7)),  # to dag's 08:00 CET handoff
        ("dag", utc(2026, 10, 25, 7), utc(2026, 10, 25, 11)),
    ]
    assert [s.chain[0].person for s in shifts] == ["d1", "n3", "d1", "d2"]


def test_handoff_in_the_skipped_spring_hour_moves_to_0300() -> None:
    # Day 87 of vakt's rotation is v1 (87 % 3 == 0); 02:30 does not exist that night.
    before, after = utc(2026, 3, 29, 0, 59, 59), utc(2026, 3, 29, 1)
    assert ROTA.on_duty("dogn", before)[0].person == "v3"
    assert ROTA.on_duty("dogn", after)[0].person == "v1"
    shifts = ROTA.timeline("dogn", oslo(2026, 3, 29), oslo(2026, 3, 30))
    assert [(s.start, s.end, s.chain[0].person) for s in shifts] == [
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 1), "v3"),
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 6), "v1"),  # then natt's 08:00 handoff
        (utc(2026, 3, 29, 6), utc(2026, 3, 29, 22), "v1"),
    ]


def test_24_hour_rule_is_23_and_25_hours_on_dst_days() -> None:
    assert ROTA.gaps(oslo(2026, 3, 28), oslo(2026, 11, 1), "dogn") == []
    spring = ROTA.timeline("dogn", oslo(2026, 3, 29), oslo(2026, 3, 30))
    autumn = ROTA.timeline("dogn", oslo(2026, 10, 25), oslo(2026, 10, 26))
    assert spring[-1].end - spring[0].start == 23 * H
    assert autumn[-1].end - autumn[0].start == 25 * H
    assert all(s.team == "vakt" for s in (*spring, *autumn))


def test_dst_weekends_have_no_gaps_in_the_example() -> None:
    for start in (oslo(2026, 3, 27), oslo(2026, 10, 23)):
        end = start + timedelta(days=4)
        assert EXAMPLE.gaps(start, end) == []
        shifts = EXAMPLE.timeline("asker", start, end)
        assert all(a.end == b.start for a, b in zip(shifts, shifts[1:], strict=False))
