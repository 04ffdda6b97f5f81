"""The rota engine on the DESIGN.md example: routing by day, evening, night, weekend and
holiday; overrides, backups, the barnevernvakt step, dedup, duty phones, gaps and duties."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import pytest

from rota.engine import Rota, UnknownKommune, UnknownTeam
from rota.holidays import HolidayCalendar
from rota.model import ChainEntry, Coverage, Kommune, Override, Rotation, Team
from tests.unit.rota_fixtures import (
    DUTY_PHONE,
    FALLBACK,
    FALLBACK_PHONE,
    HOLE_ORG,
    NAME,
    ORG,
    OVERLAP_ORG,
    PHONE,
    WEEK,
    oslo,
    utc,
)

ROTA = Rota(ORG)

Step = tuple[str, str | None, str | None, str]  # (role, team, person, phone)


def steps(chain: tuple[ChainEntry, ...]) -> list[Step]:
    return [(e.role, e.team, e.person, e.phone) for e in chain]


def kommune_team(team: str, primary: str, backup: str, bvv: str | None = None) -> list[Step]:
    """The chain while a kommune team covers: primary, backup, the barnevernvakt, fallback."""
    chain: list[Step] = [
        ("primary", team, primary, PHONE[primary]),
        ("backup", team, backup, PHONE[backup]),
    ]
    if bvv is not None:
        chain.append(("barnevernvakt", "bvv-vest", bvv, DUTY_PHONE))
    return [*chain, ("fallback", None, None, FALLBACK_PHONE)]


def vakt(primary: str, backup: str) -> list[Step]:
    """The chain while bvv-vest covers: its duty phone, the backup's own phone, fallback."""
    return [
        ("primary", "bvv-vest", primary, DUTY_PHONE),
        ("backup", "bvv-vest", backup, PHONE[backup]),
        ("fallback", None, None, FALLBACK_PHONE),
    ]


def asker(primary: str, backup: str, bvv: str) -> list[Step]:
    return kommune_team("asker-bvt", primary, backup, bvv)


def baerum(primary: str, backup: str, bvv: str) -> list[Step]:
    return kommune_team("baerum-bvt", primary, backup, bvv)


ASKER_DAY = asker("kari", "ola", "nina")

ROUTING = [
    # name, kommune, instant, chain
    ("weekday morning", "asker", oslo(2026, 3, 11, 10), ASKER_DAY),
    ("weekday at 15:30, the rule boundary", "asker", oslo(2026, 3, 11, 15, 30), ASKER_DAY),
    ("weekday evening", "asker", oslo(2026, 3, 11, 19), ASKER_DAY),
    ("weekday 21:59:59", "asker", oslo(2026, 3, 11, 21, 59, 59), ASKER_DAY),
    ("weekday night from 22:00", "asker", oslo(2026, 3, 11, 22), vakt("nina", "omar")),
    ("night after midnight", "asker", oslo(2026, 3, 12, 3), vakt("nina", "omar")),
    ("night until 07:59:59", "asker", oslo(2026, 3, 12, 7, 59, 59), vakt("nina", "omar")),
    ("morning from 08:00", "asker", oslo(2026, 3, 12, 8), ASKER_DAY),
    ("saturday daytime", "asker", oslo(2026, 3, 14, 12), vakt("nina", "omar")),
    ("sunday after the weekly handoff", "asker", oslo(2026, 3, 15, 12), vakt("omar", "siri")),
    ("monday handoff in asker-bvt", "asker", oslo(2026, 3, 16, 8), asker("ola", "per", "omar")),
    ("Easter Monday is a holiday", "asker", oslo(2026, 4, 6, 10), vakt("omar", "siri")),
    ("Ascension Day is a holiday", "asker", oslo(2026, 5, 14, 10), vakt("nina", "omar")),
    ("the day after is not", "asker", oslo(2026, 5, 15, 10), ASKER_DAY),
    ("extra holiday 12-31", "asker", oslo(2026, 12, 31, 10), vakt("nina", "omar")),
    ("Christmas Eve: override", "asker", oslo(2026, 12, 24, 10), vakt("omar", "siri")),
    ("Boxing Day night: override", "asker", oslo(2026, 12, 26, 23), vakt("omar", "siri")),
    ("override ends 12-27 08:00", "asker", oslo(2026, 12, 27, 8), vakt("nina", "omar")),
    ("override at 12-27 07:59:59", "asker", oslo(2026, 12, 27, 7, 59, 59), vakt("omar", "siri")),
    ("before the rotation start", "asker", oslo(2025, 12, 30, 10), asker("per", "kari", "siri")),
    ("two weeks before the start", "asker", oslo(2025, 12, 22, 10), asker("ola", "per", "omar")),
    ("Bærum winter 15:30", "baerum", oslo(2026, 3, 11, 15, 30), baerum("berit", "jonas", "nina")),
    ("Bærum winter 15:45", "baerum", oslo(2026, 3, 11, 15, 45), vakt("nina", "omar")),
    ("Bærum summer 14:59", "baerum", oslo(2026, 7, 1, 14, 59), baerum("jonas", "lise", "omar")),
    ("Bærum summer 15:00", "baerum", oslo(2026, 7, 1, 15), vakt("omar", "siri")),
    ("Bærum summer on 08-14", "baerum", oslo(2026, 8, 14, 15, 30), vakt("omar", "siri")),
    (
        "Bærum winter on 08-17",
        "baerum",
        oslo(2026, 8, 17, 15, 30),
        baerum("berit", "jonas", "siri"),
    ),
    ("Bærum daily handoff", "baerum", oslo(2026, 3, 12, 8), baerum("jonas", "lise", "nina")),
]


@pytest.mark.parametrize(
    ("kommune", "at", "expected"),
    [pytest.param(k, at, chain, id=name) for name, k, at, chain in ROUTING],
)
def test_on_duty_routes_by_rule_rotation_and_override(
    kommune: str, at: datetime, expected: list[Step]
) -> None:
    chain = ROTA.on_duty(kommune, at)
    assert steps(chain) == expected
    assert chain[-1] == FALLBACK


def test_on_duty_accepts_any_zone_for_the_same_instant() -> None:
    assert ROTA.on_duty("asker", utc(2026, 3, 11, 21)) == ROTA.on_duty(
        "asker", oslo(2026, 3, 11, 22)
    )
    assert steps(ROTA.on_duty("asker", utc(2026, 3, 11, 20, 59, 59))) == ASKER_DAY


def test_primary_with_duty_phone_names_the_person() -> None:
    primary = ROTA.on_duty("asker", oslo(2026, 3, 11, 23))[0]
    assert primary == ChainEntry("primary", "bvv-vest", "nina", NAME["nina"], DUTY_PHONE)


def test_barnevernvakt_step_carries_duty_phone_and_person() -> None:
    step = ROTA.on_duty("asker", oslo(2026, 3, 11, 10))[2]
    assert step == ChainEntry("barnevernvakt", "bvv-vest", "nina", NAME["nina"], DUTY_PHONE)


def test_duty_phone_without_rotation_names_the_team() -> None:
    org = replace(ORG, rotations=tuple(r for r in ORG.rotations if r.team != "bvv-vest"))
    chain = Rota(org).on_duty("asker", oslo(2026, 3, 11, 23))
    assert chain == (
        ChainEntry("primary", "bvv-vest", None, "Barnevernvakta Vest", DUTY_PHONE),
        FALLBACK,
    )
    assert Rota(org).gaps(oslo(2026, 1, 1), oslo(2027, 1, 1)) == []


def with_overrides(*overrides: Override) -> Rota:
    return Rota(replace(ORG, overrides=overrides))


def test_override_makes_the_rotation_member_backup() -> None:
    rota = with_overrides(Override("asker-bvt", "per", oslo(2026, 3, 11, 8), oslo(2026, 3, 12, 8)))
    assert steps(rota.on_duty("asker", oslo(2026, 3, 11, 10))) == kommune_team(
        "asker-bvt", "per", "kari", bvv="nina"
    )
    assert steps(rota.on_duty("asker", oslo(2026, 3, 12, 8))) == ASKER_DAY


def test_override_by_the_current_member_keeps_the_next_as_backup() -> None:
    rota = with_overrides(Override("asker-bvt", "kari", oslo(2026, 3, 11, 8), oslo(2026, 3, 12, 8)))
    assert steps(rota.on_duty("asker", oslo(2026, 3, 11, 10))) == ASKER_DAY


def test_latest_starting_override_wins_while_it_lasts() -> None:
    rota = with_overrides(
        Override("asker-bvt", "per", oslo(2026, 3, 10, 8), oslo(2026, 3, 13, 8)),
        Override("asker-bvt", "ola", oslo(2026, 3, 11, 12), oslo(2026, 3, 11, 18)),
    )
    primaries = [
        rota.on_duty("asker", oslo(2026, 3, 11, h))[0].person for h in (10, 12, 17, 18, 19)
    ]
    assert primaries == ["per", "ola", "ola", "per", "per"]


def test_override_outside_coverage_changes_nothing() -> None:
    # DESIGN.md's example override: asker-bvt does not cover these holidays and Sunday.
    assert ORG.overrides[0].team == "asker-bvt"
    assert steps(ROTA.on_duty("asker", oslo(2026, 12, 24, 10))) == vakt("omar", "siri")
    assert ROTA.staff("asker-bvt", oslo(2026, 12, 24, 10))[0] == ChainEntry(
        "primary", "asker-bvt", "per", NAME["per"], PHONE["per"]
    )


def test_chain_drops_repeated_phones_keeping_the_first() -> None:
    bvv = replace(ORG.teams[2], duty_phone=None)
    org = replace(
        ORG,
        teams=(*ORG.teams[:2], bvv),
        rotations=(*ORG.rotations[:2], Rotation("bvv-vest", ("ola",), oslo(2026, 1, 4, 8), WEEK)),
    )
    rota = Rota(org)
    # Ola is asker-bvt's backup and the barnevernvakt's only member: called once, as backup.
    assert steps(rota.on_duty("asker", oslo(2026, 3, 11, 10))) == kommune_team(
        "asker-bvt", "kari", "ola"
    )
    # A one-member rotation has no backup.
    assert steps(rota.on_duty("asker", oslo(2026, 3, 11, 23))) == [
        ("primary", "bvv-vest", "ola", PHONE["ola"]),
        ("fallback", None, None, FALLBACK_PHONE),
    ]


def test_fallback_phone_shared_with_a_person_is_called_once() -> None:
    org = replace(ORG, helpline=replace(ORG.helpline, fallback_phone=PHONE["ola"]))
    chain = Rota(org).on_duty("asker", oslo(2026, 3, 11, 10))
    assert [e.person for e in chain] == ["kari", "ola", "nina"]


NOBODY_ORG = replace(ORG, rotations=tuple(r for r in ORG.rotations if r.team != "asker-bvt"))


def test_team_with_nobody_to_call_leaves_barnevernvakt_and_fallback() -> None:
    rota = Rota(NOBODY_ORG)
    chain = rota.on_duty("asker", oslo(2026, 3, 11, 10))
    assert steps(chain) == [
        ("barnevernvakt", "bvv-vest", "nina", DUTY_PHONE),
        ("fallback", None, None, FALLBACK_PHONE),
    ]
    [shift] = rota.timeline("asker", oslo(2026, 3, 11, 9), oslo(2026, 3, 11, 10))
    assert (shift.team, shift.covered, shift.chain) == ("asker-bvt", False, chain)


def test_team_with_nobody_to_call_is_a_gap() -> None:
    gaps = Rota(NOBODY_ORG).gaps(oslo(2026, 3, 14), oslo(2026, 3, 18), "asker")
    assert [(g.start, g.end) for g in gaps] == [
        (oslo(2026, 3, 16, 8), oslo(2026, 3, 16, 22)),
        (oslo(2026, 3, 17, 8), oslo(2026, 3, 17, 22)),
    ]


def test_kommune_without_rules_gets_only_the_fallback() -> None:
    org = replace(ORG, kommuner=(*ORG.kommuner, Kommune("hole", "Hull")))
    rota = Rota(org)
    start, end = oslo(2026, 3, 1), oslo(2026, 4, 1)
    assert rota.on_duty("hole", oslo(2026, 3, 11, 10)) == (FALLBACK,)
    [shift] = rota.timeline("hole", start, end)
    assert (shift.start, shift.end, shift.team, shift.chain, shift.covered) == (
        start,
        end,
        None,
        (FALLBACK,),
        False,
    )
    assert [(g.kommune, g.start, g.end) for g in rota.gaps(start, end)] == [("hole", start, end)]


def test_barnevernvakt_step_comes_from_the_first_serving_team() -> None:
    second = Team("bvv-annen", "Annen vakt", "barnevernvakt", ("asker",), duty_phone="+4792999999")
    org = replace(ORG, teams=(*ORG.teams, second))
    assert steps(Rota(org).on_duty("asker", oslo(2026, 3, 11, 10))) == ASKER_DAY


def test_unknown_kommune_and_team() -> None:
    with pytest.raises(UnknownKommune):
        ROTA.on_duty("oslo", oslo(2026, 3, 11, 10))
    with pytest.raises(KeyError):
        ROTA.timeline("oslo", oslo(2026, 3, 11), oslo(2026, 3, 12))
    with pytest.raises(UnknownTeam):
        ROTA.duties("nobody", oslo(2026, 3, 11), oslo(2026, 3, 12))


def test_naive_instants_are_refused() -> None:
    naive = oslo(2026, 3, 11, 10).replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        ROTA.on_duty("asker", naive)
    with pytest.raises(ValueError, match="naive"):
        ROTA.timeline("asker", naive, oslo(2026, 3, 12))


def test_broken_references_are_refused_at_build() -> None:
    bad_rule = replace(ORG.coverage[0].rules[0], team="ghost")
    with pytest.raises(ValueError, match="ghost"):
        Rota(replace(ORG, coverage=(Coverage("asker", (bad_rule,)),)))
    with pytest.raises(ValueError, match="whole days"):
        Rota(replace(ORG, rotations=(replace(ORG.rotations[0], every=timedelta(hours=12)),)))


OVERLAPS = [
    (oslo(2026, 3, 9, 5, 59), None),  # 21:00-07:00 is a weekday rule: not on Sunday night
    (oslo(2026, 3, 11, 5, 59), "baerum-bvt"),  # Tuesday night's
    (oslo(2026, 3, 11, 6, 30), "bvv-vest"),  # only the second rule
    (oslo(2026, 3, 11, 8), "asker-bvt"),  # first and second: the first wins
    (oslo(2026, 3, 11, 20), "bvv-vest"),
    (oslo(2026, 3, 11, 21, 30), "bvv-vest"),  # second and third: the second wins
    (oslo(2026, 3, 11, 22), "baerum-bvt"),
    (oslo(2026, 3, 12, 6, 30), "bvv-vest"),  # Wednesday's night vs Thursday's day
    (oslo(2026, 3, 12, 7), "bvv-vest"),
]


def test_overlapping_rules_take_the_first_in_order() -> None:
    rota = Rota(OVERLAP_ORG)
    assert [rota.covering_team("asker", t) for t, _ in OVERLAPS] == [team for _, team in OVERLAPS]
    shifts = rota.timeline("asker", oslo(2026, 3, 11, 12), oslo(2026, 3, 12, 12))
    assert [(s.start, s.end, s.team) for s in shifts] == [
        (oslo(2026, 3, 11, 12), oslo(2026, 3, 11, 20), "asker-bvt"),
        (oslo(2026, 3, 11, 20), oslo(2026, 3, 11, 22), "bvv-vest"),
        (oslo(2026, 3, 11, 22), oslo(2026, 3, 12, 6), "baerum-bvt"),
        (oslo(2026, 3, 12, 6), oslo(2026, 3, 12, 8), "bvv-vest"),
        (oslo(2026, 3, 12, 8), oslo(2026, 3, 12, 12), "asker-bvt"),
    ]


# -- timeline, gaps, duties -----------------------------------------------------------------


class Timed(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


def spans(items: Sequence[Timed]) -> list[tuple[datetime, datetime]]:
    return [(i.start, i.end) for i in items]


def test_timeline_of_a_weekday_merges_day_and_evening() -> None:
    shifts = ROTA.timeline("asker", oslo(2026, 3, 11), oslo(2026, 3, 12))
    assert [(s.start, s.end, s.team) for s in shifts] == [
        (oslo(2026, 3, 11), oslo(2026, 3, 11, 8), "bvv-vest"),
        (oslo(2026, 3, 11, 8), oslo(2026, 3, 11, 22), "asker-bvt"),
        (oslo(2026, 3, 11, 22), oslo(2026, 3, 12), "bvv-vest"),
    ]
    assert [steps(s.chain) for s in shifts] == [
        vakt("nina", "omar"),
        ASKER_DAY,
        vakt("nina", "omar"),
    ]
    assert all(s.covered and s.kommune == "asker" for s in shifts)


def test_timeline_splits_weekend_at_the_handoff_only() -> None:
    shifts = ROTA.timeline("asker", oslo(2026, 3, 13, 12), oslo(2026, 3, 16, 12))
    assert [(s.start, s.end, s.team, s.chain[0].person) for s in shifts] == [
        (oslo(2026, 3, 13, 12), oslo(2026, 3, 13, 22), "asker-bvt", "kari"),
        (oslo(2026, 3, 13, 22), oslo(2026, 3, 15, 8), "bvv-vest", "nina"),
        (oslo(2026, 3, 15, 8), oslo(2026, 3, 16, 8), "bvv-vest", "omar"),
        (oslo(2026, 3, 16, 8), oslo(2026, 3, 16, 12), "asker-bvt", "ola"),
    ]


def test_timeline_of_an_empty_range_is_empty() -> None:
    assert ROTA.timeline("asker", oslo(2026, 3, 11), oslo(2026, 3, 11)) == []
    with pytest.raises(ValueError):
        ROTA.timeline("asker", oslo(2026, 3, 12), oslo(2026, 3, 11))


def test_full_coverage_has_no_gaps_all_year() -> None:
    assert ROTA.gaps(oslo(2026, 1, 1), oslo(2027, 1, 1)) == []


def test_hole_gaps_on_working_days_only() -> None:
    # Week 20 of 2026: Thursday 05-14 is Ascension Day, covered by the holiday rule.
    gaps = Rota(HOLE_ORG).gaps(oslo(2026, 5, 11), oslo(2026, 5, 18))
    assert {g.kommune for g in gaps} == {"asker"}
    assert spans(gaps) == [
        (oslo(2026, 5, d, 15, 30), oslo(2026, 5, d, 22)) for d in (11, 12, 13, 15)
    ]


def test_gaps_are_clipped_to_the_range() -> None:
    gaps = Rota(HOLE_ORG).gaps(oslo(2026, 5, 11, 16), oslo(2026, 5, 11, 17), "asker")
    assert spans(gaps) == [(oslo(2026, 5, 11, 16), oslo(2026, 5, 11, 17))]
    assert Rota(HOLE_ORG).gaps(oslo(2026, 5, 11), oslo(2026, 5, 18), "baerum") == []


def test_duties_split_at_override_and_handoff_over_christmas() -> None:
    duties = ROTA.duties("bvv-vest", oslo(2026, 12, 23), oslo(2026, 12, 28))
    who = [(d.primary and d.primary.person, d.backup and d.backup.person) for d in duties]
    assert [(*span, *people) for span, people in zip(spans(duties), who, strict=True)] == [
        (oslo(2026, 12, 23), oslo(2026, 12, 23, 8), "siri", "nina"),
        (oslo(2026, 12, 23, 15, 45), oslo(2026, 12, 24, 8), "siri", "nina"),  # Bærum evening
        (oslo(2026, 12, 24, 8), oslo(2026, 12, 27, 8), "omar", "siri"),
        (oslo(2026, 12, 27, 8), oslo(2026, 12, 28), "nina", "omar"),
    ]
    assert all(d.team == "bvv-vest" for d in duties)
    assert duties[2].primary == ChainEntry("primary", "bvv-vest", "omar", NAME["omar"], DUTY_PHONE)


def test_duties_of_a_kommune_team_over_a_week() -> None:
    duties = ROTA.duties("asker-bvt", oslo(2026, 3, 9), oslo(2026, 3, 16, 12))
    assert spans(duties) == [
        *((oslo(2026, 3, d, 8), oslo(2026, 3, d, 22)) for d in range(9, 14)),
        (oslo(2026, 3, 16, 8), oslo(2026, 3, 16, 12)),
    ]
    assert [d.primary and d.primary.person for d in duties] == ["kari"] * 5 + ["ola"]


def test_duties_of_a_team_without_coverage_are_empty() -> None:
    org = replace(ORG, teams=(*ORG.teams, Team("spare", "Reserve", "kommune", ("asker",))))
    assert Rota(org).duties("spare", oslo(2026, 1, 1), oslo(2027, 1, 1)) == []


# -- holidays -------------------------------------------------------------------------------

CALENDAR = HolidayCalendar(((12, 24), (12, 31), (2, 29)))


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 1, 1), True),  # 1. nyttårsdag
        (date(2026, 4, 2), True),  # skjærtorsdag
        (date(2026, 4, 3), True),  # langfredag
        (date(2026, 4, 5), True),  # 1. påskedag, a Sunday and a real holiday
        (date(2026, 4, 6), True),  # 2. påskedag
        (date(2026, 4, 12), False),  # an ordinary Sunday
        (date(2026, 3, 29), False),  # the DST Sunday
        (date(2026, 5, 1), True),
        (date(2026, 5, 14), True),  # Kristi himmelfartsdag
        (date(2026, 5, 17), True),
        (date(2026, 5, 24), True),  # 1. pinsedag, a Sunday
        (date(2026, 5, 25), True),  # 2. pinsedag
        (date(2026, 12, 23), False),
        (date(2026, 12, 24), True),  # extra
        (date(2026, 12, 25), True),
        (date(2026, 12, 26), True),
        (date(2026, 12, 31), True),  # extra
        (date(2028, 2, 29), True),  # extra, in a leap year
        (date(2027, 3, 1), False),  # no 02-29 in 2027
        (date(2027, 3, 28), True),  # 1. påskedag 2027
    ],
)
def test_holidays(day: date, holiday: bool) -> None:
    assert CALENDAR.is_holiday(day) is holiday


def test_holidays_exclude_ordinary_sundays() -> None:
    days = HolidayCalendar().holidays_in(2026)
    assert len(days) == 12
    assert {d for d in days if d.weekday() == 6} == {
        date(2026, 4, 5),
        date(2026, 5, 17),
        date(2026, 5, 24),
    }


def test_rota_uses_extra_holidays_from_the_config() -> None:
    assert ROTA.calendar.is_holiday(date(2026, 12, 24))
    plain = Rota(replace(ORG, helpline=replace(ORG.helpline, extra_holidays=())))
    assert not plain.calendar.is_holiday(date(2026, 12, 24))
    # Without the extra holiday Thursday 12-24 (after the override window opens) is a weekday.
    assert plain.on_duty("asker", oslo(2026, 12, 24, 10))[0].team == "asker-bvt"


def test_in_a_gap_the_barnevernvakt_is_rung_before_the_fallback() -> None:
    rota = Rota(HOLE_ORG)
    evening = oslo(2026, 3, 11, 18)  # a Wednesday: Asker's evening rule is missing
    chain = rota.on_duty("asker", evening)
    assert [(e.role, e.team, e.phone) for e in chain] == [
        ("barnevernvakt", "bvv-vest", DUTY_PHONE),
        ("fallback", None, FALLBACK_PHONE),
    ]
    [shift] = [
        s
        for s in rota.timeline("asker", oslo(2026, 3, 11), oslo(2026, 3, 12))
        if s.start <= evening.astimezone(UTC) < s.end
    ]
    assert (shift.team, shift.covered, shift.chain) == (None, False, chain)
    assert [(g.start, g.end) for g in rota.gaps(oslo(2026, 3, 11), oslo(2026, 3, 12), "asker")] == [
        (oslo(2026, 3, 11, 15, 30), oslo(2026, 3, 11, 22))
    ]
