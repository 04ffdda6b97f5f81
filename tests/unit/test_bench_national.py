"""The benchmark's generated organisation is a valid, fully covered one (no timing here)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bench.national import SMALL, Size, national
from rota.engine import Rota
from rota.orgfile import dump_org, parse_org
from rota.phones import normalise_phone

OSLO = ZoneInfo("Europe/Oslo")


def test_same_seed_same_organisation() -> None:
    assert national(7, SMALL) == national(7, SMALL)
    assert national(7, SMALL) != national(8, SMALL)


def test_small_instance_has_the_requested_size() -> None:
    org = national(7, SMALL)
    assert len(org.kommuner) == len(org.coverage) == SMALL.kommuner
    assert sum(t.kind == "barnevernvakt" for t in org.teams) == SMALL.barnevernvakter
    assert len(org.people) == SMALL.staff
    assert len(org.foster_homes) == SMALL.foster_homes
    assert len(org.overrides) == SMALL.overrides
    assert all(o.start.year == SMALL.year for o in org.overrides)
    assert {r.team for r in org.rotations} == {t.id for t in org.teams}


def test_every_kommune_has_one_barnevernvakt_and_a_kommune_team() -> None:
    org = national(7, SMALL)
    for kind in ("barnevernvakt", "kommune"):
        served = [k for t in org.teams if t.kind == kind for k in t.kommuner]
        assert sorted(served) == sorted(k.id for k in org.kommuner)
    blocks = [t.kommuner for t in org.teams if t.kind == "barnevernvakt"]
    assert [k for block in blocks for k in block] == [k.id for k in org.kommuner]  # contiguous


def test_phone_numbers_are_valid_and_unique() -> None:
    org = national(7, SMALL)
    numbers = [
        org.helpline.fallback_phone,
        *(n for k in org.kommuner for n in k.numbers),
        *(t.duty_phone for t in org.teams if t.duty_phone),
        *(p.phone for p in org.people),
        *(n for h in org.foster_homes for n in h.phones),
    ]
    assert len(set(numbers)) == len(numbers)
    assert [normalise_phone(n) for n in numbers] == numbers


def test_survives_the_rota_file_round_trip() -> None:
    org = national(7, SMALL)
    assert parse_org(dump_org(org)) == org


@pytest.mark.parametrize(
    "month",
    [pytest.param((2027, 3), id="march, with DST"), pytest.param((2027, 12), id="december")],
)
def test_fully_covered(month: tuple[int, int]) -> None:
    year, m = month
    start = datetime(year, m, 1, tzinfo=OSLO)
    end = datetime(year + m // 12, m % 12 + 1, 1, tzinfo=OSLO)
    rota = Rota(national(7, SMALL))
    assert rota.gaps(start, end) == []


def test_national_size_is_rejected_when_teams_cannot_be_staffed() -> None:
    with pytest.raises(ValueError):
        national(7, Size(kommuner=10, barnevernvakter=2, staff=5))
