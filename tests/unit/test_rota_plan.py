"""The Vaktplan's pure parts: month grids, shifts cut at local midnight (DST days too),
duty balance, version diffs and when a load is stale, the override form's errors in
Norwegian, and whose rota a console user reads and edits."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from rota.engine import Rota
from rota.model import ChainEntry, Duty, Gap, Override
from rota.orgfile import OrgError, OrgFileError, dump_org, parse_org, read_org
from rota.plan import balance, by_day, duty_span, gap_hours, month_weeks, next_month, week_of
from rota.versions import Change, changes, stale_base
from routing.access import ADMIN, Scope
from routing.override_form import entry_name, field_errors, override_table
from routing.rota_access import editable_teams, visible_teams
from tests.unit.rota_fixtures import ORG, OSLO, oslo

# -- calendars ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "rows", "first", "last"),
    [
        (2026, 12, 5, date(2026, 11, 30), date(2027, 1, 3)),  # starts on a Tuesday
        (2026, 2, 5, date(2026, 1, 26), date(2026, 3, 1)),  # 1 February is a Sunday
        (2026, 3, 6, date(2026, 2, 23), date(2026, 4, 5)),  # 1 March is a Sunday
        (2027, 2, 4, date(2027, 2, 1), date(2027, 2, 28)),  # Monday to Sunday exactly
    ],
)
def test_month_weeks_are_monday_first_rows_of_seven(
    year: int, month: int, rows: int, first: date, last: date
) -> None:
    weeks = month_weeks(year, month)
    assert len(weeks) == rows
    assert all(len(week) == 7 and week[0].weekday() == 0 for week in weeks)
    assert weeks[0][0] == first and weeks[-1][-1] == last
    days = [d for week in weeks for d in week]
    assert days == [first + timedelta(days=i) for i in range(len(days))]
    length = calendar.monthrange(year, month)[1]
    assert [d for d in days if d.month == month] == [
        date(year, month, 1) + timedelta(days=i) for i in range(length)
    ]


@pytest.mark.parametrize(
    ("year", "month", "step", "expected"),
    [
        (2026, 12, 1, (2027, 1)),
        (2027, 1, -1, (2026, 12)),
        (2026, 5, 0, (2026, 5)),
        (2026, 1, -13, (2024, 12)),
    ],
)  # fmt: skip
def test_next_month(year: int, month: int, step: int, expected: tuple[int, int]) -> None:
    assert next_month(year, month, step) == expected


def test_week_of_any_day_is_its_iso_week() -> None:
    assert week_of(date(2026, 12, 24)) == [date(2026, 12, 21) + timedelta(days=i) for i in range(7)]
    assert week_of(date(2026, 12, 21))[0] == date(2026, 12, 21)
    assert week_of(date(2026, 12, 27))[-1] == date(2026, 12, 27)


def _duty(start: datetime, end: datetime, who: str | None = "kari") -> Duty:
    entry = None if who is None else ChainEntry("primary", "t", who, who.title(), "+4790000000")
    return Duty("t", start, end, entry, None)


def test_a_night_shows_on_both_dates_it_touches() -> None:
    night = _duty(oslo(2026, 12, 1, 22), oslo(2026, 12, 2, 8))
    days = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)]
    found = by_day([night], duty_span, days, OSLO)
    assert [(p.start, p.end) for p in found[days[0]]] == [
        (oslo(2026, 12, 1, 22), oslo(2026, 12, 2))
    ]
    assert [(p.start, p.end) for p in found[days[1]]] == [(oslo(2026, 12, 2), oslo(2026, 12, 2, 8))]
    assert found[days[2]] == []


@pytest.mark.parametrize(
    ("day", "length"),
    [
        (date(2026, 3, 29), timedelta(hours=23)),
        (date(2026, 10, 25), timedelta(hours=25)),
        (date(2026, 6, 1), timedelta(hours=24)),
    ],
)  # fmt: skip
def test_a_dst_day_is_as_long_as_the_clock_says(day: date, length: timedelta) -> None:
    whole = _duty(oslo(day.year, day.month, day.day) - timedelta(days=1), oslo(2027, 1, 1))
    (piece,) = by_day([whole], duty_span, [day], OSLO)[day]
    assert piece.end - piece.start == length


def test_balance_counts_primary_and_backup_hours_and_lists_idle_members() -> None:
    kari = ChainEntry("primary", "t", "kari", "Kari", "+4790000001")
    ola = ChainEntry("backup", "t", "ola", "Ola", "+4790000002")
    stretches = [
        (oslo(2026, 12, 1, 8), oslo(2026, 12, 1, 16), kari, ola),
        (oslo(2026, 12, 2, 8), oslo(2026, 12, 2, 10), ola, None),
        (oslo(2026, 12, 3, 8), oslo(2026, 12, 3, 10), None, None),  # a gap: nobody's hours
    ]
    rows = balance(stretches, [("per", "Per"), ("kari", "Kari")])
    assert [(r.person, r.primary, r.backup) for r in rows] == [
        ("per", timedelta(0), timedelta(0)),
        ("kari", timedelta(hours=8), timedelta(0)),
        ("ola", timedelta(hours=2), timedelta(hours=8)),
    ]
    assert rows[2].total == timedelta(hours=10)


def test_gap_hours_add_up() -> None:
    gaps = [
        Gap("a", oslo(2026, 3, 29, 1), oslo(2026, 3, 29, 4)),
        Gap("a", oslo(2026, 12, 1), oslo(2026, 12, 1, 1)),
    ]
    assert gap_hours(gaps) == timedelta(hours=3)  # 01:00-04:00 on the spring night is 2 h, +1
    assert gap_hours([]) == timedelta(0)


def test_the_engine_duties_of_a_week_balance_to_the_week() -> None:
    rota = Rota(ORG)
    team = ORG.teams[0].id
    duties = rota.duties(team, oslo(2026, 11, 23), oslo(2026, 11, 30))
    rows = balance([(d.start, d.end, d.primary, d.backup) for d in duties])
    covered = sum((d.end - d.start for d in duties if d.primary is not None), timedelta(0))
    assert sum((r.primary for r in rows), timedelta(0)) == covered


# -- versions -------------------------------------------------------------------------


def test_changes_name_each_entry_that_differs() -> None:
    kari = ORG.people[0]
    extra = Override(ORG.teams[0].id, kari.id, oslo(2026, 12, 24, 8), oslo(2026, 12, 27, 8))
    new = replace(
        ORG,
        people=(replace(kari, name="Kari N."), *ORG.people[1:]),
        overrides=(*ORG.overrides, extra),
        kommuner=ORG.kommuner[:1] + ORG.kommuner[2:],
    )
    found = changes(ORG, new)
    assert Change("person", repr(kari.id), "changed") in found
    key = f"{extra.team}/{kari.id} 2026-12-24T08:00..2026-12-27T08:00"
    assert Change("override", key, "added") in found
    assert Change("kommune", repr(ORG.kommuner[1].id), "removed") in found
    assert str(Change("override", key, "added")) == f"override {key}: added"
    assert changes(ORG, ORG) == []
    moved = replace(ORG, people=tuple(reversed(ORG.people)))
    assert changes(ORG, moved) == []  # order within a section is no change


def test_changes_see_the_helpline_section() -> None:
    new = replace(ORG, helpline=replace(ORG.helpline, fallback_phone="+4740000001"))
    assert changes(ORG, new) == [Change("helpline", "[helpline]", "changed")]


@pytest.mark.parametrize(
    ("stated", "current", "origins", "expected"),
    [
        (None, None, {}, None),  # nothing loaded: nothing to overwrite
        (3, 3, {3: "console"}, None),  # dumped from the current version
        (2, 3, {2: "file", 3: "console"}, 2),  # the register moved on
        (9, 3, {3: "file"}, 9),  # a file from elsewhere
        (None, 4, {1: "file", 2: "file", 3: "file", 4: "file"}, None),  # files alone
        (None, 4, {1: "file", 2: "console", 3: "console", 4: "console"}, 1),
        (None, 5, {1: "file", 2: "console", 3: "file", 4: "file"}, None),  # a later load
        (None, 7, {6: "console", 7: "console"}, 5),  # loaded before versions were kept
        (None, 3, {}, None),  # no history at all
    ],
)  # fmt: skip
def test_stale_base(
    stated: int | None, current: int | None, origins: dict[int, str], expected: int | None
) -> None:
    assert stale_base(stated, current, origins) == expected


def test_dump_writes_the_version_and_read_org_gives_it_back() -> None:
    text = dump_org(ORG, 7)
    assert "\nversion = 7\n" in text
    assert read_org(text) == (ORG, 7)
    assert read_org(dump_org(ORG)) == (ORG, None)
    assert parse_org(text) == ORG


@pytest.mark.parametrize("value", ['"7"', "0", "-1", "true", "1.5"])
def test_a_malformed_version_is_an_error_of_the_file(value: str) -> None:
    text = dump_org(ORG, 1).replace("version = 1", f"version = {value}")
    with pytest.raises(OrgFileError) as caught:
        parse_org(text)
    assert [(e.entry, e.field) for e in caught.value.errors] == [("file", "version")]


# -- the override form ----------------------------------------------------------------


def _form_errors(form: dict[str, str]) -> dict[str, str]:
    text = dump_org(ORG, 1) + "\n" + override_table(form)
    try:
        parse_org(text)
    except OrgFileError as error:
        fields, other = field_errors(
            error.errors, entry_name(len(ORG.overrides) + 1, form.get("team", ""))
        )
        assert not other
        return fields
    return {}


XMAS = {"from": "2026-12-24T08:00", "to": "2026-12-27T08:00"}
TEAM = ORG.teams[0]
MEMBER = next(p.id for p in ORG.people if TEAM.id in p.teams)
STRANGER = next(p.id for p in ORG.people if TEAM.id not in p.teams)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"team": TEAM.id, "person": MEMBER, **XMAS}, {}),
        ({"team": TEAM.id, "person": MEMBER, "from": "2026-12-24 08:00", "to": XMAS["to"]}, {}),
        ({"team": "", "person": "", "from": "", "to": ""}, {
            "team": "Velg et team.", "person": "Velg hvem som tar vakten.",
            "from": "Skriv når vakten begynner.", "to": "Skriv når vakten slutter.",
        }),
        ({"team": TEAM.id, "person": STRANGER, **XMAS},
         {"person": "Personen er ikke med i dette teamet."}),
        ({"team": TEAM.id, "person": "nobody", **XMAS},
         {"person": "Ukjent person."}),
        ({"team": "nope", "person": MEMBER, **XMAS},
         {"team": "Ukjent team."}),
        ({"team": TEAM.id, "person": MEMBER, "from": "2026-12-27T08:00", "to": "2026-12-24T08:00"},
         {"to": "Vakten må slutte etter at den begynner."}),
        ({"team": TEAM.id, "person": MEMBER, "from": "2026-02-30T08:00", "to": "2026-12-24T08:00"},
         {"from": "Ugyldig dato."}),
        ({"team": TEAM.id, "person": MEMBER, "from": "24.12.2026 08:00", "to": "2026-12-24T08:00"},
         {"from": "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-24T08:00."}),
        ({"team": TEAM.id, "person": MEMBER, "from": 'x"\n[[kommune]]', "to": "2026-12-24T08:00"},
         {"from": "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-24T08:00."}),
    ],
)  # fmt: skip
def test_the_override_form_is_validated_by_the_loader_in_norwegian(
    form: dict[str, str], expected: dict[str, str]
) -> None:
    assert _form_errors(form) == expected


def test_errors_on_other_entries_refuse_the_form_as_a_whole() -> None:
    errors = [
        OrgError("override 1 (team 'x')", "to", "must be after 'from'"),
        OrgError("file", "", "TOML"),
    ]
    assert field_errors(errors, "override 2") == ({}, True)


# -- scope ----------------------------------------------------------------------------


def test_whose_rota_a_user_reads_and_edits() -> None:
    shared = next(t for t in ORG.teams if len(t.kommuner) > 1)
    own = next(t for t in ORG.teams if len(t.kommuner) == 1)
    kommune = own.kommuner[0]
    koordinator = Scope("koordinator", frozenset({kommune}))
    assert own.id in visible_teams(ORG, koordinator) and shared.id in visible_teams(
        ORG, koordinator
    )
    assert editable_teams(ORG, koordinator) == tuple(
        t.id for t in ORG.teams if set(t.kommuner) <= {kommune}
    )
    assert shared.id not in editable_teams(ORG, koordinator)
    assert editable_teams(ORG, ADMIN) == tuple(t.id for t in ORG.teams)
    assert editable_teams(ORG, Scope("vakt", frozenset(shared.kommuner))) == ()
    assert visible_teams(ORG, Scope("koordinator")) == ()
