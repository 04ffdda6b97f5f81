"""Small organisations for the rota engine's tests, mirroring the example in DESIGN.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rota.model import (
    ChainEntry,
    Coverage,
    CoverageRule,
    HelplineConfig,
    Kommune,
    Organisation,
    Override,
    Person,
    Rotation,
    Season,
    Team,
)

OSLO = ZoneInfo("Europe/Oslo")
FALLBACK_PHONE = "+4740000000"
DUTY_PHONE = "+4792000000"
FALLBACK = ChainEntry("fallback", None, None, "Reservenummer", FALLBACK_PHONE)

WEEK = timedelta(weeks=1)
DAY = timedelta(days=1)


def oslo(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, fold: int = 0) -> datetime:
    """An instant named by its Europe/Oslo wall-clock reading."""
    return datetime(y, mo, d, h, mi, s, tzinfo=OSLO, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """An instant named in UTC."""
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def rule(days: str, start: str, end: str, team: str, season: Season | None = None) -> CoverageRule:
    """A coverage rule written like the rota file: `rule("weekday", "08:00", "15:30", ...)`."""
    return CoverageRule(
        days=frozenset(days.split(",")),
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        team=team,
        season=season,
    )


PEOPLE = (
    Person("kari", "Kari Nordmann", "+4791234567", ("asker-bvt",)),
    Person("ola", "Ola Hansen", "+4791234568", ("asker-bvt",)),
    Person("per", "Per Berg", "+4791234569", ("asker-bvt",)),
    Person("berit", "Berit Dahl", "+4791111111", ("baerum-bvt",)),
    Person("jonas", "Jonas Lie", "+4791111112", ("baerum-bvt",)),
    Person("lise", "Lise Moe", "+4791111113", ("baerum-bvt",)),
    Person("nina", "Nina Vik", "+4793333331", ("bvv-vest",)),
    Person("omar", "Omar Ali", "+4793333332", ("bvv-vest",)),
    Person("siri", "Siri Strand", "+4793333333", ("bvv-vest",)),
)
PHONE = {p.id: p.phone for p in PEOPLE}
NAME = {p.id: p.name for p in PEOPLE}

SUMMER = Season((6, 15), (8, 15))
WINTER = Season((8, 16), (6, 14))  # wraps the new year

ASKER_RULES = (
    rule("weekday", "08:00", "15:30", "asker-bvt"),
    rule("weekday", "15:30", "22:00", "asker-bvt"),
    rule("all", "22:00", "08:00", "bvv-vest"),
    rule("weekend,holiday", "08:00", "22:00", "bvv-vest"),
)
BAERUM_RULES = (
    rule("weekday", "08:00", "15:00", "baerum-bvt", SUMMER),
    rule("weekday", "15:00", "22:00", "bvv-vest", SUMMER),
    rule("weekday", "08:00", "15:45", "baerum-bvt", WINTER),
    rule("weekday", "15:45", "22:00", "bvv-vest", WINTER),
    rule("all", "22:00", "08:00", "bvv-vest"),
    rule("weekend,holiday", "08:00", "22:00", "bvv-vest"),
)

#: asker-bvt hands over on Mondays at 08:00, bvv-vest on Sundays at 08:00 (so on both DST
#: Sundays of 2026), baerum-bvt daily at 08:00.
ORG = Organisation(
    helpline=HelplineConfig(
        fallback_phone=FALLBACK_PHONE,
        timezone="Europe/Oslo",
        extra_holidays=((12, 24), (12, 31)),
    ),
    kommuner=(
        Kommune("asker", "Asker", ("+4767000001",)),
        Kommune("baerum", "Bærum", ("+4767000002",)),
    ),
    teams=(
        Team("asker-bvt", "Barnevernstjenesten i Asker", "kommune", ("asker",)),
        Team("baerum-bvt", "Barnevernstjenesten i Bærum", "kommune", ("baerum",)),
        Team(
            "bvv-vest",
            "Barnevernvakta Vest",
            "barnevernvakt",
            ("asker", "baerum"),
            duty_phone=DUTY_PHONE,
        ),
    ),
    people=PEOPLE,
    coverage=(Coverage("asker", ASKER_RULES), Coverage("baerum", BAERUM_RULES)),
    rotations=(
        Rotation("asker-bvt", ("kari", "ola", "per"), oslo(2026, 1, 5, 8), WEEK),
        Rotation("baerum-bvt", ("berit", "jonas", "lise"), oslo(2026, 1, 1, 8), DAY),
        Rotation("bvv-vest", ("nina", "omar", "siri"), oslo(2026, 1, 4, 8), WEEK),
    ),
    overrides=(
        # As in DESIGN.md; these days are holidays or a weekend, when bvv-vest covers Asker.
        Override("asker-bvt", "per", oslo(2026, 12, 24, 8), oslo(2026, 12, 27, 8)),
        # Christmas at the barnevernvakt: Omar takes it whatever the rotation says.
        Override("bvv-vest", "omar", oslo(2026, 12, 24, 8), oslo(2026, 12, 27, 8)),
    ),
)

#: Asker loses its weekday evening rule: 15:30-22:00 on working days is a hole.
HOLE_ORG = replace(
    ORG,
    coverage=(
        Coverage("asker", tuple(r for r in ASKER_RULES if r.start != time(15, 30))),
        Coverage("baerum", BAERUM_RULES),
    ),
)


def dst_org() -> Organisation:
    """Three kommuner whose boundaries sit on or across the DST changes.

    * `dst`: day team 08:00-22:00, night team 22:00-08:00, both handing over at 08:00.
    * `tidlig`: boundaries at 02:30, in the skipped spring hour and the repeated autumn hour.
    * `dogn`: one 24 h rule (00:00-00:00) by a team handing over daily at 02:30.
    """
    people = tuple(
        Person(pid, pid.upper(), f"+47900000{i:02d}")
        for i, pid in enumerate(("d1", "d2", "n1", "n2", "n3", "v1", "v2", "v3"))
    )
    return Organisation(
        helpline=HelplineConfig(fallback_phone=FALLBACK_PHONE),
        kommuner=(Kommune("dst", "Dst"), Kommune("tidlig", "Tidlig"), Kommune("dogn", "Døgn")),
        teams=(
            Team("dag", "Dagteam", "kommune", ("dst", "tidlig")),
            Team("natt", "Nattvakt", "barnevernvakt", ("dst", "tidlig", "dogn"), DUTY_PHONE),
            Team("vakt", "Døgnvakt", "kommune", ("dogn",)),
        ),
        people=people,
        coverage=(
            Coverage(
                "dst", (rule("all", "08:00", "22:00", "dag"), rule("all", "22:00", "08:00", "natt"))
            ),
            Coverage(
                "tidlig",
                (rule("all", "02:30", "14:30", "dag"), rule("all", "14:30", "02:30", "natt")),
            ),
            Coverage("dogn", (rule("all", "00:00", "00:00", "vakt"),)),
        ),
        rotations=(
            Rotation("dag", ("d1", "d2"), oslo(2026, 1, 1, 8), DAY),
            Rotation("natt", ("n1", "n2", "n3"), oslo(2026, 1, 1, 8), DAY),
            Rotation("vakt", ("v1", "v2", "v3"), oslo(2026, 1, 1, 2, 30), DAY),
        ),
    )


#: Rules that overlap (the loader refuses these; the engine takes the first rule in order).
OVERLAP_ORG = replace(
    ORG,
    coverage=(
        Coverage(
            "asker",
            (
                rule("all", "08:00", "20:00", "asker-bvt"),
                rule("all", "06:00", "22:00", "bvv-vest"),
                rule("weekday", "21:00", "07:00", "baerum-bvt"),
            ),
        ),
        Coverage("baerum", BAERUM_RULES),
    ),
)
