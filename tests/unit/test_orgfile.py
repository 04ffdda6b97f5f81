"""The organisation and rota file: parse, validate (every error at once), write back."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rota.model import (
    DAY_WORDS,
    Coverage,
    CoverageRule,
    FosterHome,
    Group,
    GroupKind,
    HelplineConfig,
    Kommune,
    Organisation,
    Override,
    Person,
    QuietHours,
    Rotation,
    Season,
    Team,
    TeamKind,
)
from rota.orgfile import OrgError, OrgFileError, dump_org, parse_org
from rota.wallclock import local_instant, zone

OSLO = zone("Europe/Oslo")

# Verbatim from DESIGN.md. It is an excerpt: it names kommune 'baerum' and people 'ola'
# and 'per' without defining them, which DESIGN_MISSING supplies.
DESIGN_EXAMPLE = """\
[helpline]
timezone = "Europe/Oslo"
fallback_phone = "+4740000000"     # always last in every chain: never nobody
message_deadline = "10m"           # unacknowledged message escalates after this
extra_holidays = ["12-24", "12-31"] # treated like public holidays

[[kommune]]
id = "asker"
name = "Asker"
numbers = ["+4767000001"]          # helpline numbers that belong to this kommune

[[team]]
id = "asker-bvt"
name = "Barnevernstjenesten i Asker"
kind = "kommune"                   # or "barnevernvakt"
kommuner = ["asker"]

[[team]]
id = "bvv-vest"
name = "Barnevernvakta Vest"
kind = "barnevernvakt"
kommuner = ["asker", "baerum"]
duty_phone = "+4792000000"         # a team phone carried by whoever is on duty

[[person]]
id = "kari"
name = "Kari Nordmann"
phone = "+4791234567"
teams = ["asker-bvt"]

[[coverage]]                       # which team answers for a kommune, when
kommune = "asker"
rules = [
  { days = "weekday", from = "08:00", to = "15:30", team = "asker-bvt" },
  { days = "weekday", from = "15:30", to = "22:00", team = "asker-bvt" },
  { days = "all", from = "22:00", to = "08:00", team = "bvv-vest" },
  { days = "weekend,holiday", from = "08:00", to = "22:00", team = "bvv-vest" },
]

[[rotation]]                       # who within a team; the next member is backup
team = "asker-bvt"
members = ["kari", "ola", "per"]
start = "2026-01-05T08:00"         # local time of the first handoff
every = "1w"

[[override]]
team = "asker-bvt"
person = "per"
from = "2026-12-24T08:00"
to = "2026-12-27T08:00"

[[foster_home]]
id = "hansen"
name = "Familien Hansen"
kommune = "asker"
phones = ["+4798765432", "+4798765433"]
"""

DESIGN_MISSING = """
[[kommune]]
id = "baerum"
name = "Bærum"

[[person]]
id = "ola"
name = "Ola Berg"
phone = "+4791234568"
teams = ["asker-bvt"]

[[person]]
id = "per"
name = "Per Haugen"
phone = "+4791234569"
teams = ["asker-bvt"]
"""

# A small valid file; the error tests each break one thing in it.
RULES = """\
rules = [
  { days = "weekday", from = "08:00", to = "22:00", team = "asker-bvt" },
  { days = "all", from = "22:00", to = "08:00", team = "bvv-vest" },
  { days = "weekend,holiday", from = "08:00", to = "22:00", team = "bvv-vest" },
]
"""
BASE = f"""\
[helpline]
fallback_phone = "+4740000000"

[[kommune]]
id = "asker"
name = "Asker"
numbers = ["+4767000001"]

[[kommune]]
id = "baerum"
name = "Bærum"
numbers = ["+4767000002"]

[[team]]
id = "asker-bvt"
name = "Barnevernstjenesten i Asker"
kind = "kommune"
kommuner = ["asker"]

[[team]]
id = "bvv-vest"
name = "Barnevernvakta Vest"
kind = "barnevernvakt"
kommuner = ["asker", "baerum"]
duty_phone = "+4792000000"

[[person]]
id = "kari"
name = "Kari Nordmann"
phone = "+4791234567"
teams = ["asker-bvt"]

[[person]]
id = "ola"
name = "Ola Berg"
phone = "+4791234568"
teams = ["asker-bvt", "bvv-vest"]

[[person]]
id = "nina"
name = "Nina Strand"
phone = "+4795512340"
teams = ["bvv-vest"]

[[coverage]]
kommune = "asker"
{RULES}
[[rotation]]
team = "asker-bvt"
members = ["kari", "ola"]
start = "2026-01-05T08:00"
every = "1w"

[[override]]
team = "asker-bvt"
person = "ola"
from = "2026-12-24T08:00"
to = "2026-12-27T08:00"

[[foster_home]]
id = "hansen"
name = "Familien Hansen"
kommune = "asker"
phones = ["+4798765432"]
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    """`text` with the one occurrence of `old` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def with_rules(*rules: str) -> str:
    body = "".join(f"  {{ {rule}, team = 'bvv-vest' }},\n" for rule in rules)
    return edit(RULES, f"rules = [\n{body}]\n")


def errors_of(text: str) -> list[OrgError]:
    with pytest.raises(OrgFileError) as caught:
        parse_org(text)
    return caught.value.errors


def where(text: str) -> list[tuple[str, str]]:
    """(entry, field) of every error in `text`, in order."""
    return [(error.entry, error.field) for error in errors_of(text)]


def demo_text() -> str:
    return (files("helpline") / "demo.toml").read_text(encoding="utf-8")


# --- valid files --------------------------------------------------------------------------


def test_the_design_example_lacks_exactly_the_entries_it_leaves_out() -> None:
    assert [str(error) for error in errors_of(DESIGN_EXAMPLE)] == [
        "team 'bvv-vest': field 'kommuner': unknown kommune 'baerum'",
        "rotation 'asker-bvt': field 'members': unknown person 'ola'",
        "rotation 'asker-bvt': field 'members': unknown person 'per'",
        "override 1 (team 'asker-bvt'): field 'person': unknown person 'per'",
    ]


def test_the_design_example_parses() -> None:
    org = parse_org(DESIGN_EXAMPLE + DESIGN_MISSING)
    assert org.helpline == HelplineConfig(
        fallback_phone="+4740000000",
        timezone="Europe/Oslo",
        message_deadline=timedelta(minutes=10),
        extra_holidays=((12, 24), (12, 31)),
    )
    assert org.kommuner == (
        Kommune("asker", "Asker", ("+4767000001",)),
        Kommune("baerum", "Bærum", ()),
    )
    assert org.teams[1] == Team(
        "bvv-vest", "Barnevernvakta Vest", "barnevernvakt", ("asker", "baerum"), "+4792000000"
    )
    assert org.people[0] == Person("kari", "Kari Nordmann", "+4791234567", ("asker-bvt",))
    assert org.coverage == (
        Coverage(
            "asker",
            (
                CoverageRule(frozenset({"weekday"}), time(8), time(15, 30), "asker-bvt"),
                CoverageRule(frozenset({"weekday"}), time(15, 30), time(22), "asker-bvt"),
                CoverageRule(frozenset({"all"}), time(22), time(8), "bvv-vest"),
                CoverageRule(frozenset({"weekend", "holiday"}), time(8), time(22), "bvv-vest"),
            ),
        ),
    )
    assert org.rotations == (
        Rotation(
            "asker-bvt", ("kari", "ola", "per"), datetime(2026, 1, 5, 8, tzinfo=OSLO), timedelta(7)
        ),
    )
    assert org.overrides == (
        Override(
            "asker-bvt",
            "per",
            datetime(2026, 12, 24, 8, tzinfo=OSLO),
            datetime(2026, 12, 27, 8, tzinfo=OSLO),
        ),
    )
    assert org.foster_homes == (
        FosterHome("hansen", "Familien Hansen", "asker", ("+4798765432", "+4798765433")),
    )


def test_the_base_file_of_these_tests_is_valid() -> None:
    org = parse_org(BASE)
    assert [k.id for k in org.kommuner] == ["asker", "baerum"]
    assert org.helpline.message_deadline == timedelta(minutes=10)  # the default
    assert org.helpline.timezone == "Europe/Oslo"  # the default


def test_the_demo_organisation_parses() -> None:
    org = parse_org(demo_text())
    assert [(k.id, k.numbers) for k in org.kommuner] == [
        ("asker", ("+4767000001",)),
        ("baerum", ("+4767000002",)),
    ]
    assert [(t.id, t.kind) for t in org.teams] == [
        ("asker-bvt", "kommune"),
        ("baerum-bvt", "kommune"),
        ("bvv-vest", "barnevernvakt"),
    ]
    assert org.helpline.extra_holidays == ((12, 24), (12, 31))
    assert {r.team for r in org.rotations} == {t.id for t in org.teams}
    assert all(r.start == datetime(2026, 1, 5, 8, tzinfo=OSLO) for r in org.rotations)
    assert all(r.every == timedelta(weeks=1) for r in org.rotations)
    assert [(o.start, o.end) for o in org.overrides] == [
        (datetime(2026, 12, 24, 8, tzinfo=OSLO), datetime(2026, 12, 27, 8, tzinfo=OSLO))
    ]
    assert 4 <= len(org.foster_homes) <= 8
    assert all(h.name.startswith("Familien ") for h in org.foster_homes)
    assert all(3 <= sum(t.id in p.teams for p in org.people) <= 4 for t in org.teams)


def _minutes(rule: CoverageRule) -> range:
    """The rule's shift in minutes from the midnight of its start date."""
    start = rule.start.hour * 60 + rule.start.minute
    return range(start, rule.end.hour * 60 + rule.end.minute + (1440 if rule.overnight else 0))


@pytest.mark.parametrize("weekday", range(7))
@pytest.mark.parametrize("holiday", [False, True])
@pytest.mark.parametrize("holiday_before", [False, True])
def test_the_demo_covers_every_minute(weekday: int, holiday: bool, holiday_before: bool) -> None:
    """Each minute of a date: a shift of that date, or the overnight spill of the day before."""
    yesterday = (weekday - 1) % 7
    for coverage in parse_org(demo_text()).coverage:
        assert all(rule.season is None for rule in coverage.rules)  # no month-day to vary
        covered: set[int] = set()
        for rule in coverage.rules:
            if rule.applies(weekday, holiday, (1, 15)):
                covered |= {m for m in _minutes(rule) if m < 1440}
            if rule.applies(yesterday, holiday_before, (1, 15)):
                covered |= {m - 1440 for m in _minutes(rule) if m >= 1440}
        assert covered == set(range(1440)), coverage.kommune


# --- normalisation ------------------------------------------------------------------------


def test_phone_numbers_are_normalised_everywhere() -> None:
    text = BASE
    for old, new in [
        ('fallback_phone = "+4740000000"', 'fallback_phone = "400 00 000"'),
        ('numbers = ["+4767000001"]', 'numbers = ["0047 67 00 00 01"]'),
        ('duty_phone = "+4792000000"', 'duty_phone = "92000000"'),
        ('phone = "+4791234567"', 'phone = "912 34 567"'),
        ('phones = ["+4798765432"]', 'phones = ["+47 987 65 432", "+46 70 123 45 67"]'),
    ]:
        text = edit(old, new, text)
    org = parse_org(text)
    assert org.helpline.fallback_phone == "+4740000000"
    assert org.kommuner[0].numbers == ("+4767000001",)
    assert org.teams[1].duty_phone == "+4792000000"
    assert org.people[0].phone == "+4791234567"
    assert org.foster_homes[0].phones == ("+4798765432", "+46701234567")


def test_values_are_read_leniently_and_written_canonically() -> None:
    text = edit(
        'fallback_phone = "+4740000000"\n',
        'fallback_phone = "+4740000000"\n'
        'message_deadline = "60m"\nextra_holidays = ["12-31", "12-24"]\n',
    )
    text = edit('days = "weekend,holiday"', 'days = " Holiday, weekend ,sat "', text)
    text = edit('every = "1w"', 'every = "14d"', text)
    text = edit(
        'from = "08:00", to = "22:00", team = "asker-bvt"',
        'from = "8:00", to = "22:00", team = "asker-bvt", season = "01-01..12-31"',
        text,
    )
    out = dump_org(parse_org(text))
    assert 'message_deadline = "1h"' in out
    assert 'extra_holidays = ["12-31", "12-24"]' in out  # file order is kept
    assert 'every = "2w"' in out
    assert (
        '{ days = "weekday", from = "08:00", to = "22:00", team = "asker-bvt",'
        ' season = "01-01..12-31" }' in out
    )
    assert '{ days = "sat,weekend,holiday", from = "08:00"' in out


@pytest.mark.parametrize(
    ("wall", "instant", "written"),
    [
        # Spring forward: 02:30 never happens; it moves to 03:00 (01:00 UTC).
        ("2026-03-29T02:30", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "2026-03-29T03:00"),
        # Fall back: 02:30 happens twice; the first (summer time, +02:00) counts.
        ("2026-10-25T02:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25T02:30"),
        ("2026-07-01T12:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC), "2026-07-01T12:00"),
        ("2026-01-05 08:00", datetime(2026, 1, 5, 7, 0, tzinfo=UTC), "2026-01-05T08:00"),
    ],
)
def test_local_times_become_aware_instants_dst_safely(
    wall: str, instant: datetime, written: str
) -> None:
    org = parse_org(edit('start = "2026-01-05T08:00"', f'start = "{wall}"'))
    start = org.rotations[0].start
    assert start.tzinfo is not None
    # Compared in UTC: across zones, == is always False for a time in the repeated hour.
    assert start.astimezone(UTC) == instant
    assert start.utcoffset() == instant.astimezone(OSLO).utcoffset()
    assert f'start = "{written}"' in dump_org(org)


def test_local_times_follow_the_helpline_timezone() -> None:
    text = edit("[helpline]\n", '[helpline]\ntimezone = "America/New_York"\n')
    org = parse_org(text)
    assert org.rotations[0].start == datetime(2026, 1, 5, 13, 0, tzinfo=UTC)
    assert 'start = "2026-01-05T08:00"' in dump_org(org)


# --- writing back -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [pytest.param(DESIGN_EXAMPLE + DESIGN_MISSING, id="design"), pytest.param(BASE, id="base")],
)
def test_round_trip_is_stable(text: str) -> None:
    org = parse_org(text)
    once = dump_org(org)
    assert parse_org(once) == org
    assert dump_org(parse_org(once)) == once


def test_round_trip_of_the_demo() -> None:
    org = parse_org(demo_text())
    once = dump_org(org)
    assert parse_org(once) == org
    assert dump_org(parse_org(once)) == once


def test_dump_writes_the_documented_layout() -> None:
    out = dump_org(parse_org(DESIGN_EXAMPLE + DESIGN_MISSING))
    for line in [
        "[helpline]",
        'timezone = "Europe/Oslo"',
        'message_deadline = "10m"',
        'extra_holidays = ["12-24", "12-31"]',
        '[[team]]\nid = "bvv-vest"',
        'kommuner = ["asker", "baerum"]',
        'duty_phone = "+4792000000"',
        '  { days = "all", from = "22:00", to = "08:00", team = "bvv-vest" },',
        '  { days = "weekend,holiday", from = "08:00", to = "22:00", team = "bvv-vest" },',
        'start = "2026-01-05T08:00"\nevery = "1w"',
        'from = "2026-12-24T08:00"\nto = "2026-12-27T08:00"',
    ]:
        assert line in out
    assert "[[coverage.rules]]" not in out
    assert out.index("[[kommune]]") < out.index("[[team]]") < out.index("[[person]]")
    assert out.index("[[coverage]]") < out.index("[[rotation]]") < out.index("[[override]]")
    assert out.index("[[override]]") < out.index("[[foster_home]]")


def test_dump_omits_what_is_absent_and_escapes_what_needs_it() -> None:
    org = parse_org(BASE)
    org = replace(
        org,
        teams=(replace(org.teams[0], name='Barnevernstjenesten "Asker"\\Vest'), *org.teams[1:]),
        people=(replace(org.people[0], name="Kari\nNordmann"), *org.people[1:]),
        overrides=(),
    )
    out = dump_org(org)
    assert out.count("duty_phone") == 1
    assert "[[override]]" not in out
    assert parse_org(out) == org


# --- one test per error kind --------------------------------------------------------------

CASES: list[tuple[str, str, list[tuple[str, str]], str]] = [
    # (test id, broken text, [(entry, field)], part of the first message)
    (
        "missing required field",
        edit('name = "Asker"\n', ""),
        [("kommune 'asker'", "name")],
        "missing required field",
    ),
    (
        "missing fallback phone",
        edit('fallback_phone = "+4740000000"\n', ""),
        [("helpline", "fallback_phone")],
        "missing required field",
    ),
    (
        "missing helpline section",
        edit('[helpline]\nfallback_phone = "+4740000000"\n', ""),
        [("helpline", "fallback_phone")],
        "missing required field",
    ),
    (
        "string where an array belongs",
        edit('numbers = ["+4767000001"]', 'numbers = "+4767000001"'),
        [("kommune 'asker'", "numbers")],
        "expected an array of strings, got a string",
    ),
    (
        "integer where a string belongs",
        edit('every = "1w"', "every = 7"),
        [("rotation 'asker-bvt'", "every")],
        "expected a string, got an integer",
    ),
    (
        "unquoted TOML datetime",
        edit('start = "2026-01-05T08:00"', "start = 2026-01-05T08:00:00"),
        [("rotation 'asker-bvt'", "start")],
        "expected a string, got a TOML datetime (put it in quotes)",
    ),
    (
        "empty string",
        edit('name = "Ola Berg"', 'name = "  "'),
        [("person 'ola'", "name")],
        "must not be empty",
    ),
    (
        "number in a list of strings",
        edit('kommuner = ["asker"]', 'kommuner = ["asker", 2]'),
        [("team 'asker-bvt'", "kommuner")],
        "expected a string, got an integer",
    ),
    (
        "unknown field",
        edit('kommuner = ["asker"]', 'kommune = ["asker"]'),
        [("team 'asker-bvt'", "kommune"), ("team 'asker-bvt'", "kommuner")],
        "unknown field (did you mean 'kommuner'?)",
    ),
    (
        "unknown field in a rule",
        edit('to = "22:00", team = "asker-bvt"', 'to = "22:00", team = "asker-bvt", sesaon = "x"'),
        [("coverage 'asker' rule 1", "sesaon")],
        "unknown field (did you mean 'season'?)",
    ),
    (
        "unknown field without a close match",
        edit('name = "Asker"', 'name = "Asker"\npopulation = 98000'),
        [("kommune 'asker'", "population")],
        "unknown field (expected one of: id, name, numbers)",
    ),
    (
        "unknown section",
        BASE + '\n[[foster_homes]]\nid = "x"\n',
        [("file", "foster_homes")],
        "unknown section (did you mean 'foster_home'?)",
    ),
    (
        "section that is not an array of tables",
        'team = "asker-bvt"\n[helpline]\nfallback_phone = "+4740000000"\n',
        [("file", "team")],
        "expected an array of tables ([[team]]), got a string",
    ),
    (
        "entry that is not a table",
        'kommune = ["asker"]\n[helpline]\nfallback_phone = "+4740000000"\n',
        [("kommune #1", "")],
        "expected a table, got a string",
    ),
    (
        "rule that is not a table",
        edit(RULES, 'rules = ["weekday 08-22"]\n'),
        [("coverage 'asker' rule 1", "")],
        "expected a table, got a string",
    ),
    (
        "entry without id is named by position",
        edit('id = "baerum"\n', ""),
        [("kommune #2", "id"), ("team 'bvv-vest'", "kommuner")],
        "missing required field",
    ),
    (
        "duplicate kommune id",
        edit('id = "baerum"', 'id = "asker"'),
        [("kommune 'asker'", "id"), ("team 'bvv-vest'", "kommuner")],
        "duplicate id 'asker': another kommune already uses it",
    ),
    (
        "duplicate team id",
        edit('id = "bvv-vest"', 'id = "asker-bvt"'),
        [("team 'asker-bvt'", "id")]
        + [("person 'ola'", "teams"), ("person 'nina'", "teams")]
        + [("coverage 'asker' rule 2", "team"), ("coverage 'asker' rule 3", "team")],
        "duplicate id 'asker-bvt': another team already uses it",
    ),
    (
        "duplicate person id",
        edit('id = "nina"', 'id = "kari"'),
        [("person 'kari'", "id")],
        "duplicate id 'kari': another person already uses it",
    ),
    (
        "duplicate foster home id",
        BASE + '\n[[foster_home]]\nid = "hansen"\nname = "Familien Hansen"\nkommune = "baerum"\n'
        'phones = ["+4798765400"]\n',
        [("foster_home 'hansen'", "id")],
        "duplicate id 'hansen': another foster_home already uses it",
    ),
    (
        "unknown kommune in a team",
        edit('kommuner = ["asker"]', 'kommuner = ["askr"]'),
        [("team 'asker-bvt'", "kommuner")] + [("coverage 'asker' rule 1", "team")],
        "unknown kommune 'askr' (did you mean 'asker'?)",
    ),
    (
        "unknown kommune in coverage",
        edit('kommune = "asker"\nrules', 'kommune = "oslo"\nrules'),
        [("coverage 'oslo'", "kommune")],
        "unknown kommune 'oslo'",
    ),
    (
        "unknown kommune of a foster home",
        edit('kommune = "asker"\nphones', 'kommune = "bærum"\nphones'),
        [("foster_home 'hansen'", "kommune")],
        "unknown kommune 'bærum' (did you mean 'baerum'?)",
    ),
    (
        "unknown team of a person",
        edit('teams = ["bvv-vest"]', 'teams = ["bvv-øst"]'),
        [("person 'nina'", "teams")],
        "unknown team 'bvv-øst' (did you mean 'bvv-vest'?)",
    ),
    (
        "unknown team in a rule",
        edit('to = "08:00", team = "bvv-vest"', 'to = "08:00", team = "bvv"'),
        [("coverage 'asker' rule 2", "team")],
        "unknown team 'bvv'",
    ),
    (
        "rule team that does not serve the kommune",
        BASE + '\n[[coverage]]\nkommune = "baerum"\nrules = [\n'
        '  { days = "all", from = "08:00", to = "08:00", team = "asker-bvt" },\n]\n',
        [("coverage 'baerum' rule 1", "team")],
        "team 'asker-bvt' does not serve kommune 'baerum' (add 'baerum' to the team's kommuner)",
    ),
    (
        "unknown team of a rotation",
        edit('team = "asker-bvt"\nmembers', 'team = "asker"\nmembers'),
        [("rotation 'asker'", "team")],
        "unknown team 'asker' (did you mean 'asker-bvt'?)",
    ),
    (
        "unknown person in a rotation",
        edit('members = ["kari", "ola"]', 'members = ["kari", "ole"]'),
        [("rotation 'asker-bvt'", "members")],
        "unknown person 'ole' (did you mean 'ola'?)",
    ),
    (
        "rotation member not in the team",
        edit('members = ["kari", "ola"]', 'members = ["kari", "nina"]'),
        [("rotation 'asker-bvt'", "members")],
        "person 'nina' is not in team 'asker-bvt' (add 'asker-bvt' to the person's teams)",
    ),
    (
        "empty rotation",
        edit('members = ["kari", "ola"]', "members = []"),
        [("rotation 'asker-bvt'", "members")],
        "must list at least one person",
    ),
    (
        "second rotation for a team",
        BASE + '\n[[rotation]]\nteam = "asker-bvt"\nmembers = ["ola"]\n'
        'start = "2026-01-05T08:00"\nevery = "1d"\n',
        [("rotation 'asker-bvt'", "team")],
        "team 'asker-bvt' already has a rotation",
    ),
    (
        "unknown team of an override",
        edit('team = "asker-bvt"\nperson', 'team = "asker-bvtt"\nperson'),
        [("override 1 (team 'asker-bvtt')", "team")],
        "unknown team 'asker-bvtt' (did you mean 'asker-bvt'?)",
    ),
    (
        "unknown person in an override",
        edit('person = "ola"', 'person = "per"'),
        [("override 1 (team 'asker-bvt')", "person")],
        "unknown person 'per'",
    ),
    (
        "override person not in the team",
        edit('person = "ola"', 'person = "nina"'),
        [("override 1 (team 'asker-bvt')", "person")],
        "person 'nina' is not in team 'asker-bvt'",
    ),
    (
        "override that ends before it starts",
        edit('to = "2026-12-27T08:00"', 'to = "2026-12-24T08:00"'),
        [("override 1 (team 'asker-bvt')", "to")],
        "must be after 'from'",
    ),
    (
        "override without team is named by position",
        edit('team = "asker-bvt"\nperson = "ola"\n', 'person = "ola"\n'),
        [("override 1", "team")],
        "missing required field",
    ),
    (
        "unknown team kind",
        edit('kind = "kommune"', 'kind = "kommunal"'),
        [("team 'asker-bvt'", "kind")],
        "unknown team kind 'kommunal': expected 'kommune' or 'barnevernvakt'",
    ),
    (
        "invalid person phone",
        edit('phone = "+4791234567"', 'phone = "+47 1234 5678"'),
        [("person 'kari'", "phone")],
        "not a valid phone number: '+47•••••678'",
    ),
    (
        "invalid duty phone",
        edit('duty_phone = "+4792000000"', 'duty_phone = "112"'),
        [("team 'bvv-vest'", "duty_phone")],
        "not a valid phone number",
    ),
    (
        "invalid foster home phone",
        edit('phones = ["+4798765432"]', 'phones = ["+4798765432", "98765"]'),
        [("foster_home 'hansen'", "phones")],
        "not a valid phone number",
    ),
    (
        "foster home without phones",
        edit('phones = ["+4798765432"]', "phones = []"),
        [("foster_home 'hansen'", "phones")],
        "must list at least one phone number",
    ),
    (
        "foster home phone shared with another foster home",
        BASE + '\n[[foster_home]]\nid = "berg"\nname = "Familien Berg"\nkommune = "baerum"\n'
        'phones = ["987 65 432"]\n',
        [("foster_home 'berg'", "phones")],
        "+47•••••432 already belongs to foster_home 'hansen'",
    ),
    (
        "helpline number claimed by two kommuner",
        edit('numbers = ["+4767000002"]', 'numbers = ["67 00 00 01"]'),
        [("kommune 'baerum'", "numbers")],
        "+47•••••001 is already claimed by kommune 'asker'",
    ),
    (
        "helpline number listed twice",
        edit('numbers = ["+4767000002"]', 'numbers = ["+4767000002", "+47 67 00 00 02"]'),
        [("kommune 'baerum'", "numbers")],
        "+47•••••002 is listed twice",
    ),
    (
        "unknown day word",
        edit('days = "weekday"', 'days = "weekdays"'),
        [("coverage 'asker' rule 1", "days")],
        "unknown day word 'weekdays': expected mon..sun, weekday, weekend, holiday or all",
    ),
    (
        "bad time",
        edit('days = "weekday", from = "08:00"', 'days = "weekday", from = "25:00"'),
        [("coverage 'asker' rule 1", "from")],
        "invalid time '25:00': expected HH:MM, 00:00 to 23:59",
    ),
    (
        "bad time format",
        edit(
            'days = "weekday", from = "08:00", to = "22:00"',
            'days = "weekday", from = "08:00", to = "10pm"',
        ),
        [("coverage 'asker' rule 1", "to")],
        "invalid time '10pm'",
    ),
    (
        "bad duration",
        edit(
            'fallback_phone = "+4740000000"',
            'fallback_phone = "+4740000000"\nmessage_deadline = "10 minutes"',
        ),
        [("helpline", "message_deadline")],
        "invalid duration '10 minutes': expected e.g. 90s, 10m, 1h, 1d, 2w",
    ),
    (
        "zero duration",
        edit('every = "1w"', 'every = "0d"'),
        [("rotation 'asker-bvt'", "every")],
        "must be longer than zero",
    ),
    (
        "duration too long to represent",
        edit('every = "1w"', 'every = "99999999999w"'),
        [("rotation 'asker-bvt'", "every")],
        "invalid duration '99999999999w': too long",
    ),
    (
        "date and time out of range",
        edit(
            "[helpline]\n",
            '[helpline]\ntimezone = "America/New_York"\n',
            edit('start = "2026-01-05T08:00"', 'start = "9999-12-31T23:00"'),
        ),
        [("rotation 'asker-bvt'", "start")],
        "invalid date and time '9999-12-31T23:00': out of range",
    ),
    (
        "period that is not whole days",
        edit('every = "1w"', 'every = "36h"'),
        [("rotation 'asker-bvt'", "every")],
        "invalid period '36h': must be whole days",
    ),
    (
        "bad season",
        edit(
            'to = "22:00", team = "asker-bvt"',
            'to = "22:00", team = "asker-bvt", season = "06-01-08-31"',
        ),
        [("coverage 'asker' rule 1", "season")],
        "invalid season '06-01-08-31': expected MM-DD..MM-DD",
    ),
    (
        "season with an impossible date",
        edit(
            'to = "22:00", team = "asker-bvt"',
            'to = "22:00", team = "asker-bvt", season = "06-01..06-31"',
        ),
        [("coverage 'asker' rule 1", "season")],
        "invalid season '06-01..06-31'",
    ),
    (
        "bad date in a rotation start",
        edit('start = "2026-01-05T08:00"', 'start = "2026-02-30T08:00"'),
        [("rotation 'asker-bvt'", "start")],
        "invalid date in '2026-02-30T08:00'",
    ),
    (
        "date and time with an offset",
        edit('from = "2026-12-24T08:00"', 'from = "2026-12-24T08:00+01:00"'),
        [("override 1 (team 'asker-bvt')", "from")],
        "invalid time '08:00+01:00'",
    ),
    (
        "date without time",
        edit('from = "2026-12-24T08:00"', 'from = "2026-12-24"'),
        [("override 1 (team 'asker-bvt')", "from")],
        "expected local wall-clock YYYY-MM-DDTHH:MM",
    ),
    (
        "bad extra holiday",
        edit(
            'fallback_phone = "+4740000000"',
            'fallback_phone = "+4740000000"\nextra_holidays = ["12-24", "24.12"]',
        ),
        [("helpline", "extra_holidays")],
        "invalid date '24.12': expected MM-DD",
    ),
    (
        "unknown timezone",
        edit("[helpline]\n", '[helpline]\ntimezone = "Europe/Asker"\n'),
        [("helpline", "timezone")],
        "unknown timezone 'Europe/Asker'",
    ),
    (
        "second coverage entry for a kommune",
        BASE + '\n[[coverage]]\nkommune = "asker"\nrules = []\n',
        [("coverage 'asker'", "kommune")],
        "kommune 'asker' already has a coverage entry; put all its rules in one",
    ),
    (
        "overlapping rules",
        edit(
            'from = "08:00", to = "22:00", team = "asker-bvt"',
            'from = "08:00", to = "22:30", team = "asker-bvt"',
        ),
        [("coverage 'asker'", "rules")],
        "rules 1 and 2 overlap, e.g. on mon from 22:00 to 22:30",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "message"),
    [pytest.param(text, expected, message, id=name) for name, text, expected, message in CASES],
)
def test_each_error_names_its_entry_and_field(
    text: str, expected: list[tuple[str, str]], message: str
) -> None:
    errors = errors_of(text)
    assert [(e.entry, e.field) for e in errors] == expected
    assert message in errors[0].message


def test_a_toml_syntax_error_gives_line_and_column() -> None:
    text = edit('name = "Asker"', 'name = "Asker')
    line = text.splitlines().index('name = "Asker') + 1
    [error] = errors_of(text)
    assert (error.entry, error.field) == ("file", "")
    assert error.message.startswith("TOML syntax error: ")
    assert f"(at line {line}, column " in error.message
    assert str(error) == f"file: {error.message}"


def test_every_error_is_reported_at_once_in_file_order_of_sections() -> None:
    text = BASE
    for old, new in [
        ('fallback_phone = "+4740000000"', 'fallback_phone = "000"'),
        ('kommuner = ["asker"]', 'kommuner = ["askr"]'),
        ('phone = "+4791234568"', 'phone = "+47 1"'),
        ('days = "weekday"', 'days = "hverdag"'),
        ('members = ["kari", "ola"]', 'members = ["kari", "nina"]'),
        ('to = "2026-12-27T08:00"', 'to = "2026-12-01T08:00"'),
        ('kommune = "asker"\nphones', 'kommune = "askr"\nphones'),
    ]:
        text = edit(old, new, text)
    assert where(text) == [
        ("helpline", "fallback_phone"),
        ("team 'asker-bvt'", "kommuner"),
        ("person 'ola'", "phone"),
        ("coverage 'asker' rule 1", "days"),
        ("coverage 'asker' rule 1", "team"),  # asker-bvt no longer serves asker
        ("rotation 'asker-bvt'", "members"),
        ("override 1 (team 'asker-bvt')", "to"),
        ("foster_home 'hansen'", "kommune"),
    ]


def test_the_error_renders_one_line_per_problem() -> None:
    text = edit('kommuner = ["asker"]', 'kommuner = ["askr"]')
    text = edit('kind = "kommune"', 'kind = "vakt"', text)
    with pytest.raises(OrgFileError) as caught:
        parse_org(text)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).splitlines() == [
        "team 'asker-bvt': field 'kind': unknown team kind 'vakt': expected 'kommune' or"
        " 'barnevernvakt'",
        "team 'asker-bvt': field 'kommuner': unknown kommune 'askr' (did you mean 'asker'?)",
        "coverage 'asker' rule 1: field 'team': team 'asker-bvt' does not serve kommune 'asker'"
        " (add 'asker' to the team's kommuner)",
    ]


def test_a_broken_entry_does_not_cascade_into_unknown_references() -> None:
    # kari's phone is wrong, but kari exists: the rotation and override still find her.
    text = edit('phone = "+4791234567"', 'phone = "nope"')
    text = edit('person = "ola"', 'person = "kari"', text)
    assert where(text) == [("person 'kari'", "phone")]


# --- overlapping coverage rules -----------------------------------------------------------


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param(["days = 'all', from = '08:00', to = '08:00'"], id="one 24h rule"),
        pytest.param(
            [
                "days = 'mon', from = '08:00', to = '12:00'",
                "days = 'mon', from = '12:00', to = '16:00'",
            ],
            id="touching",
        ),
        pytest.param(
            [
                "days = 'weekday', from = '08:00', to = '22:00'",
                "days = 'holiday', from = '10:00', to = '12:00'",
            ],
            id="holiday replaces weekday",
        ),
        pytest.param(
            [
                "days = 'weekday', from = '10:00', to = '12:00'",
                "days = 'sat,sun', from = '10:00', to = '12:00'",
            ],
            id="disjoint days",
        ),
        pytest.param(
            [
                "days = 'fri', from = '22:00', to = '08:00'",
                "days = 'weekend', from = '08:00', to = '22:00'",
            ],
            id="overnight ends as the next shift starts",
        ),
        pytest.param(
            [
                "days = 'sun', from = '22:00', to = '09:00'",
                "days = 'tue', from = '08:00', to = '22:00'",
            ],
            id="overnight into a day without rules",
        ),
        pytest.param(
            [
                "days = 'weekday', from = '08:00', to = '15:00', season = '05-15..09-14'",
                "days = 'weekday', from = '08:00', to = '15:45', season = '09-15..05-14'",
                "days = 'weekday', from = '15:00', to = '22:00', season = '05-15..09-14'",
                "days = 'weekday', from = '15:45', to = '22:00', season = '09-15..05-14'",
            ],
            id="summer and winter hours",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '08:00', season = '06-01..08-31'",
                "days = 'all', from = '07:00', to = '22:00', season = '09-02..05-31'",
            ],
            id="season gap of a day absorbs the spill",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '09:00', season = '12-30..12-30'",
                "days = 'all', from = '08:00', to = '22:00', season = '01-01..01-01'",
            ],
            id="dec 30 spills into dec 31, not jan 1",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '09:00', season = '02-27..02-27'",
                "days = 'all', from = '08:00', to = '22:00', season = '03-01..03-01'",
            ],
            id="feb 27 never precedes mar 1",
        ),
    ],
)
def test_rules_that_never_meet_are_accepted(rules: list[str]) -> None:
    assert len(parse_org(with_rules(*rules)).coverage[0].rules) == len(rules)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        pytest.param(
            [
                "days = 'mon', from = '08:00', to = '12:00'",
                "days = 'weekday', from = '11:00', to = '13:00'",
            ],
            "rules 1 and 2 overlap, e.g. on mon from 11:00 to 12:00",
            id="weekday includes mon",
        ),
        pytest.param(
            [
                "days = 'all', from = '08:00', to = '08:00'",
                "days = 'holiday', from = '23:00', to = '01:00'",
            ],
            "rules 1 and 2 overlap, e.g. on mon (holiday) from 23:00 to 01:00",
            id="two overnight rules",
        ),
        pytest.param(
            [
                "days = 'fri', from = '22:00', to = '09:00'",
                "days = 'weekend', from = '08:00', to = '22:00'",
            ],
            "rules 1 and 2 overlap, e.g. on sat from 08:00 to 09:00",
            id="overnight spills into the next day",
        ),
        pytest.param(
            [
                "days = 'mon', from = '08:00', to = '22:00'",
                "days = 'sun', from = '22:00', to = '08:30'",
            ],
            "rules 1 and 2 overlap, e.g. on mon from 08:00 to 08:30",
            id="sunday spills into monday",
        ),
        pytest.param(
            [
                "days = 'weekday', from = '22:00', to = '09:00'",
                "days = 'holiday', from = '08:00', to = '22:00'",
            ],
            "rules 1 and 2 overlap, e.g. on tue (holiday) from 08:00 to 09:00",
            id="spill into a holiday",
        ),
        pytest.param(
            [
                "days = 'weekday', from = '08:00', to = '15:30', season = '05-15..09-14'",
                "days = 'weekday', from = '08:00', to = '15:45', season = '09-14..05-14'",
            ],
            "rules 1 and 2 overlap, e.g. on mon 09-14 from 08:00 to 15:30",
            id="seasons share a day",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '08:00', season = '06-01..08-31'",
                "days = 'all', from = '07:00', to = '22:00', season = '09-01..05-31'",
            ],
            "rules 1 and 2 overlap, e.g. on tue 09-01 from 07:00 to 08:00",
            id="aug 31 spills into sep 1",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '08:00', season = '06-01..12-31'",
                "days = 'all', from = '07:00', to = '22:00', season = '09-01..09-01'",
            ],
            "rules 1 and 2 overlap, e.g. on tue 09-01 from 07:00 to 08:00",
            id="spill into a one-day season",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '09:00', season = '12-31..12-31'",
                "days = 'all', from = '08:00', to = '22:00', season = '01-01..01-01'",
            ],
            "rules 1 and 2 overlap, e.g. on tue 01-01 from 08:00 to 09:00",
            id="dec 31 spills into jan 1",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '09:00', season = '02-28..02-28'",
                "days = 'all', from = '08:00', to = '22:00', season = '03-01..03-01'",
            ],
            "rules 1 and 2 overlap, e.g. on tue 03-01 from 08:00 to 09:00",
            id="feb 28 precedes mar 1 in a common year",
        ),
        pytest.param(
            [
                "days = 'all', from = '22:00', to = '09:00', season = '02-29..02-29'",
                "days = 'all', from = '08:00', to = '22:00', season = '03-01..03-01'",
            ],
            "rules 1 and 2 overlap, e.g. on tue 03-01 from 08:00 to 09:00",
            id="feb 29 precedes mar 1",
        ),
        pytest.param(
            [
                "days = 'all', from = '08:00', to = '12:00', season = '11-01..02-28'",
                "days = 'all', from = '10:00', to = '11:00', season = '01-01..01-31'",
            ],
            "rules 1 and 2 overlap, e.g. on mon 01-01 from 10:00 to 11:00",
            id="season wrapping the new year",
        ),
    ],
)
def test_rules_that_meet_are_rejected(rules: list[str], message: str) -> None:
    [error] = errors_of(with_rules(*rules))
    assert (error.entry, error.field, error.message) == ("coverage 'asker'", "rules", message)


def test_every_overlapping_pair_is_reported() -> None:
    rules = [f"days = 'all', from = '{h:02d}:00', to = '{h + 3:02d}:00'" for h in (8, 9, 10)]
    messages = [e.message for e in errors_of(with_rules(*rules))]
    assert [m.split(",")[0] for m in messages] == [
        "rules 1 and 2 overlap",
        "rules 1 and 3 overlap",
        "rules 2 and 3 overlap",
    ]


# --- the overlap check against an exhaustive oracle ---------------------------------------

_SEASON_DAYS = [(1, 1), (2, 28), (2, 29), (3, 1), (6, 1), (8, 31), (9, 1), (12, 30), (12, 31)]
_TIMES = [time(h, m) for h in (0, 7, 8, 9, 22, 23) for m in (0, 30)]


def _span(rule: CoverageRule) -> tuple[int, int]:
    start = rule.start.hour * 60 + rule.start.minute
    end = rule.end.hour * 60 + rule.end.minute
    return start, end + (1440 if rule.overnight else 0)


def _meet(a: tuple[int, int], b: tuple[int, int], shift: int) -> bool:
    return max(a[0], b[0] + shift) < min(a[1], b[1] + shift)


def _overlap_on_real_dates(a: CoverageRule, b: CoverageRule) -> bool:
    """Walk every date of a leap and a common year (weekday and holiday status free)."""
    flags = [(w, h) for w in range(7) for h in (False, True)]
    day = date(2023, 1, 1)  # 2023 is a common year, 2024 a leap year
    while day <= date(2024, 12, 31):
        nxt = day + timedelta(days=1)
        md, md2 = (day.month, day.day), (nxt.month, nxt.day)
        for (w, h), h2 in ((f, h2) for f in flags for h2 in (False, True)):
            if a.applies(w, h, md) and b.applies(w, h, md) and _meet(_span(a), _span(b), 0):
                return True
            for x, y in ((a, b), (b, a)):
                if x.applies(w, h, md) and y.applies((w + 1) % 7, h2, md2):
                    if _meet(_span(x), _span(y), 1440):
                        return True
        day = nxt
    return False


rule_strategy = st.builds(
    CoverageRule,
    days=st.sets(st.sampled_from(sorted(DAY_WORDS)), min_size=1, max_size=2).map(frozenset),
    start=st.sampled_from(_TIMES),
    end=st.sampled_from(_TIMES),
    team=st.just("bvv-vest"),
    season=st.none()
    | st.builds(Season, st.sampled_from(_SEASON_DAYS), st.sampled_from(_SEASON_DAYS)),
)


@settings(max_examples=60, deadline=None)
@given(a=rule_strategy, b=rule_strategy)
def test_overlap_check_agrees_with_walking_the_calendar(a: CoverageRule, b: CoverageRule) -> None:
    org = replace(parse_org(BASE), coverage=(Coverage("asker", (a, b)),))
    text = dump_org(org)
    if _overlap_on_real_dates(a, b):
        [error] = errors_of(text)
        assert error.message.startswith("rules 1 and 2 overlap")
    else:
        assert parse_org(text).coverage == org.coverage


# --- robustness ---------------------------------------------------------------------------

toml_values = st.recursive(
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.dates()
    | st.times()
    | st.datetimes(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_value_in_any_field_is_an_orgfileerror_or_fine(data: st.DataObject) -> None:
    doc = tomllib.loads(BASE)
    section = data.draw(st.sampled_from(sorted(doc)))
    entries = doc[section] if isinstance(doc[section], list) else [doc[section]]
    target = data.draw(st.sampled_from(entries))
    if "rules" in target and data.draw(st.booleans()):
        target = data.draw(st.sampled_from(target["rules"]))
    key = data.draw(st.sampled_from(sorted(target)) | st.text(min_size=1, max_size=5))
    target[key] = data.draw(toml_values)
    try:
        org = parse_org(tomli_w.dumps(doc))
    except OrgFileError as error:
        assert error.errors
        assert all(isinstance(e, OrgError) and e.message for e in error.errors)
    else:
        assert parse_org(dump_org(org)) == org


# --- round trip of generated organisations ------------------------------------------------

ids = st.text("abcdefghijkløæ-_0", min_size=1, max_size=6)
names = st.text(min_size=1, max_size=12).filter(str.strip)
month_days = st.dates(date(2000, 1, 1), date(2000, 12, 31)).map(lambda d: (d.month, d.day))
seasons = st.builds(Season, month_days, month_days)
clock = st.builds(time, st.integers(0, 23), st.integers(0, 59), st.sampled_from([0, 0, 0, 30]))
days_words = st.sets(st.sampled_from(sorted(DAY_WORDS)), min_size=1, max_size=3).map(frozenset)


KINDS: list[TeamKind] = ["kommune", "barnevernvakt"]
GROUP_KINDS: list[GroupKind] = ["ressursfamilie", "nettverk"]
minutes = st.builds(time, st.integers(0, 23), st.integers(0, 59))
quiet_spans = st.builds(QuietHours, minutes, minutes).filter(lambda span: span.start != span.end)


class _Phones:
    """Distinct valid numbers: every 9xxxxxxx is a Norwegian mobile."""

    def __init__(self, draw: st.DrawFn) -> None:
        unique = st.lists(st.integers(0, 9_999_999), min_size=32, max_size=32, unique=True)
        self._pool = iter(draw(unique))

    def new(self) -> str:
        return f"+479{next(self._pool):07d}"


@st.composite
def registers(
    draw: st.DrawFn, phones: _Phones
) -> tuple[tuple[Kommune, ...], tuple[Team, ...], tuple[Person, ...], tuple[FosterHome, ...]]:
    kommune_ids = draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    kommuner = tuple(
        Kommune(k, draw(names), tuple(phones.new() for _ in range(draw(st.integers(0, 2)))))
        for k in kommune_ids
    )
    teams = tuple(
        Team(
            t,
            draw(names),
            draw(st.sampled_from(KINDS)),
            tuple(draw(st.lists(st.sampled_from(kommune_ids), unique=True))),
            phones.new() if draw(st.booleans()) else None,
        )
        for t in draw(st.lists(ids, min_size=1, max_size=3, unique=True))
    )
    team_ids = st.sampled_from([t.id for t in teams])
    people = tuple(
        Person(p, draw(names), phones.new(), tuple(draw(st.lists(team_ids, unique=True))))
        for p in draw(st.lists(ids, max_size=5, unique=True))
    )
    homes = tuple(
        FosterHome(
            h,
            draw(names),
            draw(st.sampled_from(kommune_ids)),
            tuple(phones.new() for _ in range(draw(st.integers(1, 2)))),
        )
        for h in draw(st.lists(ids, max_size=3, unique=True))
    )
    return kommuner, teams, people, homes


@st.composite
def coverages(draw: st.DrawFn, kommune: str, serving: list[str]) -> Coverage:
    # Shifts between consecutive cut points around the clock never overlap, whatever their
    # days and seasons: the last one runs past midnight up to the first cut.
    cuts = sorted(draw(st.lists(clock, min_size=1, max_size=4, unique=True)))
    rules = tuple(
        CoverageRule(
            draw(days_words),
            cut,
            cuts[(i + 1) % len(cuts)],
            draw(st.sampled_from(serving)),
            draw(st.none() | seasons),
        )
        for i, cut in enumerate(cuts)
    )
    return Coverage(kommune, rules)


@st.composite
def rotas(
    draw: st.DrawFn, members: dict[str, list[str]], tz_name: str
) -> tuple[tuple[Rotation, ...], tuple[Override, ...]]:
    staffed = sorted(t for t, people in members.items() if people)
    if not staffed:
        return (), ()
    dates = st.dates(date(2024, 1, 1), date(2030, 12, 31))

    def local(day: date) -> datetime:
        return local_instant(day, draw(clock), zone(tz_name))

    rotations = tuple(
        Rotation(
            t,
            tuple(draw(st.lists(st.sampled_from(members[t]), min_size=1, max_size=4))),
            local(draw(dates)),
            timedelta(days=draw(st.integers(1, 28))),
        )
        for t in draw(st.lists(st.sampled_from(staffed), unique=True))
    )
    overrides = []
    for team in draw(st.lists(st.sampled_from(staffed), max_size=2)):
        first = draw(dates)
        later = first + timedelta(days=draw(st.integers(1, 7)))
        person = draw(st.sampled_from(members[team]))
        overrides.append(Override(team, person, local(first), local(later)))
    return rotations, tuple(overrides)


@st.composite
def groups(
    draw: st.DrawFn, kommune_ids: list[str], homes: list[str], people: list[str], phones: _Phones
) -> tuple[Group, ...]:
    if not homes or not people:
        return ()
    made = []
    for group in draw(st.lists(ids, max_size=2, unique=True)):
        kind = draw(st.sampled_from(GROUP_KINDS))
        hub = draw(st.sampled_from(homes)) if kind == "ressursfamilie" else None
        others = [home for home in homes if home != hub]
        members = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
        if kind == "nettverk" and not members:
            members = [others[0]]
        made.append(
            Group(
                group,
                draw(names),
                kind,
                draw(st.sampled_from(kommune_ids)),
                hub,
                tuple(members),
                tuple(draw(st.lists(st.sampled_from(people), min_size=1, unique=True))),
                phones.new() if draw(st.booleans()) else None,
            )
        )
    return tuple(made)


@st.composite
def organisations(draw: st.DrawFn) -> Organisation:
    tz_name = draw(st.sampled_from(["Europe/Oslo", "UTC", "America/New_York"]))
    phones = _Phones(draw)
    kommuner, teams, people, homes = draw(registers(phones))
    coverage = tuple(
        draw(coverages(k.id, [t.id for t in teams if k.id in t.kommuner]))
        for k in kommuner
        if any(k.id in t.kommuner for t in teams) and draw(st.booleans())
    )
    members = {t.id: [p.id for p in people if t.id in p.teams] for t in teams}
    rotations, overrides = draw(rotas(members, tz_name))
    helpline = HelplineConfig(
        fallback_phone=phones.new(),
        timezone=tz_name,
        message_deadline=timedelta(seconds=draw(st.integers(1, 3 * 86_400))),
        extra_holidays=tuple(draw(st.lists(month_days, max_size=3))),
        network_number=phones.new() if draw(st.booleans()) else None,
        quiet_hours=draw(quiet_spans),
        ressursfamilie_size=draw(st.integers(1, 12)),
    )
    network = draw(
        groups([k.id for k in kommuner], [h.id for h in homes], [p.id for p in people], phones)
    )
    return Organisation(
        helpline, kommuner, teams, people, coverage, rotations, overrides, homes, network
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(organisations())
def test_generated_organisations_survive_the_round_trip(org: Organisation) -> None:
    text = dump_org(org)
    assert tomllib.loads(text)  # plain TOML, whatever the names contain
    assert parse_org(text) == org
    assert dump_org(parse_org(text)) == text
