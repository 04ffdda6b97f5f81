"""A national-scale organisation, generated deterministically for benchmarks and tests.

Shaped like Norway: 357 kommuner in contiguous blocks served by ~25 barnevernvakter, one
barnevernstjeneste per kommune (a few small kommuner share one), ~3,000 staff on weekly
rotations, ~10,000 foster homes and ~500 overrides over the benchmark year. Coverage follows
DESIGN.md: the kommune's team on weekday days (and most evenings), the barnevernvakt at
night, at weekends and on holidays, so every kommune is covered around the clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rota.model import (
    Coverage,
    CoverageRule,
    FosterHome,
    HelplineConfig,
    Kommune,
    Organisation,
    Override,
    Person,
    Rotation,
    Team,
)

OSLO = ZoneInfo("Europe/Oslo")
FALLBACK_PHONE = "+4740000000"

_FIRST_NAMES = (
    "Kari", "Ola", "Ingrid", "Per", "Anne", "Lars", "Marit", "Knut", "Silje", "Erik",
    "Nora", "Jonas", "Hanne", "Magnus", "Ida", "Sindre", "Astrid", "Håkon", "Tone", "Øyvind",
)  # fmt: skip
_LAST_NAMES = (
    "Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
    "Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Dahl", "Lie", "Solberg",
    "Bakken", "Strand", "Aasen",
)  # fmt: skip
# Norwegian mobile ranges that phonenumbers accepts in full: 9xxxxxxx, 41/46-48xxxxxx.
# Not 40 (kept for the fallback), 42-44 and 49 (not mobile), 45 (4536xxxx is unassigned).
_MOBILE_PREFIXES = ("9", "9", "9", "41", "46", "47", "48")

_WEEKDAY_DAY = frozenset({"weekday"})
_OFF_HOURS = frozenset({"weekend", "holiday"})
_EVERY_DAY = frozenset({"all"})


@dataclass(frozen=True, slots=True)
class Size:
    """How big an organisation to generate; the defaults are national scale."""

    kommuner: int = 357
    barnevernvakter: int = 25
    staff: int = 3000
    foster_homes: int = 10_000
    overrides: int = 500
    year: int = 2027


NATIONAL = Size()
SMALL = Size(kommuner=10, barnevernvakter=2, staff=60, foster_homes=100, overrides=12)


def national(seed: int = 2027, size: Size = NATIONAL) -> Organisation:
    """A valid, fully covered organisation of `size`, the same for the same `seed`."""
    if size.barnevernvakter < 1 or size.kommuner < size.barnevernvakter:
        raise ValueError("need at least one kommune per barnevernvakt")
    r = random.Random(seed)
    phones = _Phones(r)
    kommuner = tuple(
        Kommune(f"k{n:04d}", f"Kommune {n:03d}", (f"+4722{n:06d}",))
        for n in range(1, size.kommuner + 1)
    )
    blocks = _blocks(r, [k.id for k in kommuner], size.barnevernvakter)
    vakter = tuple(
        Team(f"bvv-{i:02d}", f"Barnevernvakta {i}", "barnevernvakt", block, phones.new())
        for i, block in enumerate(blocks, start=1)
    )
    local = _kommune_teams(r, blocks)
    teams = vakter + local
    members = _staff(r, teams, size.staff)
    people = _people(r, phones, members)
    rotations = tuple(_rotation(r, team, members[team.id], size.year) for team in teams)
    return Organisation(
        helpline=HelplineConfig(fallback_phone=FALLBACK_PHONE, extra_holidays=((12, 24), (12, 31))),
        kommuner=kommuner,
        teams=teams,
        people=people,
        coverage=_coverage(r, vakter, local),
        rotations=rotations,
        overrides=_overrides(r, rotations, size.overrides, size.year),
        foster_homes=_foster_homes(r, phones, kommuner, size.foster_homes),
    )


class _Phones:
    """Unique valid Norwegian mobile numbers."""

    def __init__(self, r: random.Random) -> None:
        self._r = r
        self._used = {FALLBACK_PHONE}

    def new(self) -> str:
        while True:
            prefix = self._r.choice(_MOBILE_PREFIXES)
            rest = "".join(str(self._r.randrange(10)) for _ in range(8 - len(prefix)))
            number = f"+47{prefix}{rest}"
            if number not in self._used:
                self._used.add(number)
                return number


def _blocks(r: random.Random, ids: list[str], count: int) -> list[tuple[str, ...]]:
    cuts = sorted(r.sample(range(1, len(ids)), count - 1))
    bounds = [0, *cuts, len(ids)]
    return [tuple(ids[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def _kommune_teams(r: random.Random, blocks: list[tuple[str, ...]]) -> tuple[Team, ...]:
    """One barnevernstjeneste per kommune; about one kommune in eight joins its neighbour's
    (interkommunalt samarbeid), never across barnevernvakt blocks, at most three per team."""
    groups: list[list[str]] = []
    for block in blocks:
        start = len(groups)
        for kommune in block:
            if len(groups) > start and len(groups[-1]) < 3 and r.random() < 0.125:
                groups[-1].append(kommune)
            else:
                groups.append([kommune])
    return tuple(
        Team(f"{g[0]}-bvt", f"Barnevernstjenesten i Kommune {g[0][1:]}", "kommune", tuple(g))
        for g in groups
    )


def _staff(r: random.Random, teams: tuple[Team, ...], total: int) -> dict[str, list[int]]:
    """Person numbers per team: at least three everywhere, the rest spread unevenly; one in
    ten kommune staff also takes barnevernvakt shifts."""
    if total < 3 * len(teams):
        raise ValueError(f"{total} staff cannot fill {len(teams)} teams of three")
    members: dict[str, list[int]] = {t.id: [] for t in teams}
    order = list(range(total))
    r.shuffle(order)
    people = iter(order)
    for team in teams:
        members[team.id].extend(next(people) for _ in range(3))
    rest = list(people)
    # Bigger for more kommuner, but sublinear: a barnevernvakt for 60 kommuner is ~50 people.
    weights = [(0.5 + r.random()) * len(t.kommuner) ** 0.6 for t in teams]
    for person, team in zip(rest, r.choices(teams, weights, k=len(rest)), strict=True):
        members[team.id].append(person)
    kommune_of = {k: t.id for t in teams if t.kind == "barnevernvakt" for k in t.kommuner}
    for team in teams:
        if team.kind == "kommune":
            vakt = members[kommune_of[team.kommuner[0]]]
            vakt.extend(p for p in members[team.id] if r.random() < 0.1 and p not in vakt)
    return members


def _people(r: random.Random, phones: _Phones, members: dict[str, list[int]]) -> tuple[Person, ...]:
    teams_of: dict[int, list[str]] = {}
    for team_id, numbers in members.items():
        for n in numbers:
            teams_of.setdefault(n, []).append(team_id)
    return tuple(
        Person(
            f"p{n:05d}",
            f"{r.choice(_FIRST_NAMES)} {r.choice(_LAST_NAMES)}",
            phones.new(),
            tuple(teams_of[n]),
        )
        for n in sorted(teams_of)
    )


def _rotation(r: random.Random, team: Team, members: list[int], year: int) -> Rotation:
    handoff = time(8) if team.kind == "kommune" else r.choice((time(8), time(15, 30)))
    monday = date(year - 1, 12, 27) - timedelta(days=r.randrange(0, 52) * 7)
    monday -= timedelta(days=monday.weekday())
    order = [f"p{n:05d}" for n in members]
    r.shuffle(order)
    return Rotation(
        team.id, tuple(order), datetime.combine(monday, handoff, OSLO), timedelta(weeks=1)
    )


def _coverage(
    r: random.Random, vakter: tuple[Team, ...], local: tuple[Team, ...]
) -> tuple[Coverage, ...]:
    vakt_of = {k: t.id for t in vakter for k in t.kommuner}
    team_of = {k: t.id for t in local for k in t.kommuner}
    result = []
    for kommune in sorted(team_of):
        own, vakt = team_of[kommune], vakt_of[kommune]
        # Three in ten kommuner hand weekday evenings to the barnevernvakt as well.
        evening = own if r.random() >= 0.3 else vakt
        rules = (
            CoverageRule(_WEEKDAY_DAY, time(8), time(15, 30), own),
            CoverageRule(_WEEKDAY_DAY, time(15, 30), time(22), evening),
            CoverageRule(_EVERY_DAY, time(22), time(8), vakt),
            CoverageRule(_OFF_HOURS, time(8), time(22), vakt),
        )
        result.append(Coverage(kommune, rules))
    return tuple(result)


def _overrides(
    r: random.Random, rotations: tuple[Rotation, ...], count: int, year: int
) -> tuple[Override, ...]:
    """`count` swaps spread over `year`, one to seven days from 08:00, never overlapping
    another override of the same team."""
    taken: dict[str, list[tuple[datetime, datetime]]] = {}
    result: list[Override] = []
    days_in_year = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    while len(result) < count:
        rotation = r.choice(rotations)
        first = date(year, 1, 1) + timedelta(days=r.randrange(days_in_year))
        start = datetime.combine(first, time(8), OSLO)
        end = datetime.combine(first + timedelta(days=r.randint(1, 7)), time(8), OSLO)
        busy = taken.setdefault(rotation.team, [])
        if any(start < b and a < end for a, b in busy):
            continue
        busy.append((start, end))
        result.append(Override(rotation.team, r.choice(rotation.members), start, end))
    result.sort(key=lambda o: (o.start, o.team))
    return tuple(result)


def _foster_homes(
    r: random.Random, phones: _Phones, kommuner: tuple[Kommune, ...], count: int
) -> tuple[FosterHome, ...]:
    weights = [r.paretovariate(1.5) for _ in kommuner]
    homes = []
    for n, kommune in enumerate(r.choices(kommuner, weights, k=count), start=1):
        numbers = tuple(phones.new() for _ in range(r.choice((1, 2, 2))))
        homes.append(
            FosterHome(f"fh{n:05d}", f"Familien {r.choice(_LAST_NAMES)}", kommune.id, numbers)
        )
    return tuple(homes)
