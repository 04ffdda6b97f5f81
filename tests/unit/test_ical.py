"""The iCalendar feeds: parsed back with icalendar, checked event by event."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone

from rota.engine import Rota
from rota.ical import PRODID, event_uid, person_calendar, stints, team_calendar, vtimezone
from rota.model import (
    ChainEntry,
    Coverage,
    CoverageRule,
    Duty,
    FosterHome,
    HelplineConfig,
    Kommune,
    Organisation,
    Person,
    Rotation,
    Team,
)

OSLO = ZoneInfo("Europe/Oslo")
STAMP = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)

ORG = Organisation(
    helpline=HelplineConfig(fallback_phone="+4740000000"),
    kommuner=(Kommune("asker", "Asker"), Kommune("baerum", "Bærum")),
    teams=(
        Team("asker-bvt", "Barnevernstjenesten i Asker", "kommune", ("asker",)),
        Team(
            "bvv-vest", "Barnevernvakta Vest", "barnevernvakt", ("asker", "baerum"), "+4792000000"
        ),
    ),
    people=(
        Person("kari", "Kari Nordmann", "+4791234567", ("asker-bvt", "bvv-vest")),
        Person("ola", "Ola Nordmann", "+4791234568", ("asker-bvt", "bvv-vest")),
        Person("per", "Per Hansen", "+4791234569", ("bvv-vest",)),
    ),
    foster_homes=(FosterHome("hansen", "Familien Hansen", "asker", ("+4798765432",)),),
)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def entry(team: str, person: str, role: str = "primary") -> ChainEntry:
    p = next(p for p in ORG.people if p.id == person)
    return ChainEntry("backup" if role == "backup" else "primary", team, p.id, p.name, p.phone)


def duty(
    team: str, start: datetime, end: datetime, primary: str | None, backup: str | None
) -> Duty:
    return Duty(
        team,
        start,
        end,
        None if primary is None else entry(team, primary),
        None if backup is None else entry(team, backup, "backup"),
    )


def events(ics: bytes) -> list[Event]:
    calendar = Calendar.from_ical(ics)
    return [e for e in calendar.walk("VEVENT") if isinstance(e, Event)]


def by_summary(ics: bytes) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = {}
    for e in events(ics):
        found.setdefault(str(e["SUMMARY"]), []).append(e)
    return found


def start_end(e: Event) -> tuple[datetime, datetime]:
    start, end = e.decoded("DTSTART"), e.decoded("DTEND")
    assert isinstance(start, datetime) and isinstance(end, datetime)
    return start, end


def test_calendar_header_and_timezone() -> None:
    nights = [duty("bvv-vest", oslo(2026, 10, 24, 22), oslo(2026, 10, 25, 8), "kari", "ola")]
    ics = team_calendar(ORG, "bvv-vest", nights, stamp=STAMP)
    calendar = Calendar.from_ical(ics)
    assert str(calendar["PRODID"]) == PRODID == "-//Fosterhjemstelefonen//vaktplan//NB"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Vaktplan: Barnevernvakta Vest"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Oslo"]
    assert b"DTSTART;TZID=Europe/Oslo:20261024T220000" in ics
    assert b"DTEND;TZID=Europe/Oslo:20261025T080000" in ics


def test_team_calendar_events_name_person_and_role() -> None:
    nights = [duty("bvv-vest", oslo(2026, 10, 24, 22), oslo(2026, 10, 25, 8), "kari", "ola")]
    ics = team_calendar(ORG, "bvv-vest", nights, stamp=STAMP)
    calendar, found = Calendar.from_ical(ics), by_summary(ics)
    assert sorted(found) == ["Bakvakt: Ola Nordmann", "Vakt: Kari Nordmann"]
    primary = found["Vakt: Kari Nordmann"][0]
    assert primary.decoded("DTSTAMP") == STAMP
    assert str(primary["UID"]).endswith("@fosterhjemstelefonen")
    description = str(primary["DESCRIPTION"])
    assert "Rolle: vakt" in description
    assert "Vakttelefon: +4792000000" in description
    assert "Vaktplan for Barnevernvakta Vest" in str(calendar["X-WR-CALDESC"])
    assert "Svarer for Asker, Bærum." in str(calendar["X-WR-CALDESC"])
    assert "Rolle: bakvakt" in str(found["Bakvakt: Ola Nordmann"][0]["DESCRIPTION"])


@pytest.mark.parametrize(
    ("night", "hours"),
    [
        pytest.param((2026, 10, 24), 11, id="last Sunday of October: clocks go back"),
        pytest.param((2026, 3, 28), 9, id="last Sunday of March: clocks go forward"),
        pytest.param((2026, 6, 13), 10, id="summer"),
    ],
)
def test_night_across_dst_change_keeps_wall_clock(night: tuple[int, int, int], hours: int) -> None:
    y, m, d = night
    start = oslo(y, m, d, 22)
    end = (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(OSLO)
    ics = team_calendar(ORG, "bvv-vest", [duty("bvv-vest", start, end, "kari", None)], stamp=STAMP)
    [event] = events(ics)
    dtstart, dtend = start_end(event)
    assert event["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert event["DTEND"].params["TZID"] == "Europe/Oslo"
    assert (dtstart.hour, dtend.hour) == (22, 8)
    assert dtend.date() - dtstart.date() == timedelta(days=1)
    # Same-zone subtraction is wall-clock (always 10 h); elapsed time needs UTC.
    assert dtend.astimezone(UTC) - dtstart.astimezone(UTC) == timedelta(hours=hours)
    assert (dtstart, dtend) == (start, end)


def test_consecutive_duties_merge_per_person_and_role() -> None:
    day = [
        duty("asker-bvt", oslo(2026, 9, 7, 8), oslo(2026, 9, 7, 15, 30), "kari", "ola"),
        duty("asker-bvt", oslo(2026, 9, 7, 15, 30), oslo(2026, 9, 7, 22), "kari", "ola"),
        # Tuesday: not contiguous with Monday evening, so a new event.
        duty("asker-bvt", oslo(2026, 9, 8, 8), oslo(2026, 9, 8, 12), "kari", "ola"),
        # Backup changes at noon, primary stays.
        duty("asker-bvt", oslo(2026, 9, 8, 12), oslo(2026, 9, 8, 22), "kari", "per"),
    ]
    found = by_summary(team_calendar(ORG, "asker-bvt", day, stamp=STAMP))
    assert [start_end(e) for e in found["Vakt: Kari Nordmann"]] == [
        (oslo(2026, 9, 7, 8), oslo(2026, 9, 7, 22)),
        (oslo(2026, 9, 8, 8), oslo(2026, 9, 8, 22)),
    ]
    assert [start_end(e) for e in found["Bakvakt: Ola Nordmann"]] == [
        (oslo(2026, 9, 7, 8), oslo(2026, 9, 7, 22)),
        (oslo(2026, 9, 8, 8), oslo(2026, 9, 8, 12)),
    ]
    assert [start_end(e) for e in found["Bakvakt: Per Hansen"]] == [
        (oslo(2026, 9, 8, 12), oslo(2026, 9, 8, 22)),
    ]


def test_merge_ignores_input_order_and_timezone_of_instants() -> None:
    a = duty("bvv-vest", oslo(2026, 9, 7, 22), oslo(2026, 9, 8, 8), "kari", None)
    b = duty("bvv-vest", oslo(2026, 9, 8, 8).astimezone(UTC), oslo(2026, 9, 8, 22), "kari", None)
    [merged] = stints([b, a])
    assert (merged.start, merged.end, merged.role) == (a.start, b.end, "primary")


def test_uids_are_stable_and_unique() -> None:
    week = [
        duty("bvv-vest", oslo(2026, 9, d, 22), oslo(2026, 9, d + 1, 8), p, b)
        for d, p, b in [(7, "kari", "ola"), (8, "ola", "per"), (9, "per", "kari")]
    ]
    first = [str(e["UID"]) for e in events(team_calendar(ORG, "bvv-vest", week, stamp=STAMP))]
    later = STAMP + timedelta(days=3)
    again = [str(e["UID"]) for e in events(team_calendar(ORG, "bvv-vest", week, stamp=later))]
    longer = week + [duty("bvv-vest", oslo(2026, 9, 10, 22), oslo(2026, 9, 11, 8), "ola", "per")]
    extended = events(team_calendar(ORG, "bvv-vest", longer, stamp=STAMP))
    assert first == again
    assert len(set(first)) == len(first) == 6
    assert set(first) <= {str(e["UID"]) for e in extended}
    [stint] = [s for s in stints(week[:1]) if s.role == "primary"]
    assert event_uid("team:bvv-vest", stint) in first


def test_person_calendar_has_primary_and_backup_in_every_team() -> None:
    duties_by_team = {
        "asker-bvt": [
            duty("asker-bvt", oslo(2026, 9, 7, 8), oslo(2026, 9, 7, 22), "kari", "ola"),
            duty("asker-bvt", oslo(2026, 9, 8, 8), oslo(2026, 9, 8, 22), "ola", "per"),
        ],
        "bvv-vest": [
            duty("bvv-vest", oslo(2026, 9, 7, 22), oslo(2026, 9, 8, 8), "per", "kari"),
        ],
    }
    ics = person_calendar(ORG, "kari", duties_by_team, stamp=STAMP)
    assert str(Calendar.from_ical(ics)["X-WR-CALNAME"]) == "Vaktplan: Kari Nordmann"
    found = [(str(e["SUMMARY"]), *start_end(e)) for e in events(ics)]
    assert found == [
        ("Vakt: Barnevernstjenesten i Asker", oslo(2026, 9, 7, 8), oslo(2026, 9, 7, 22)),
        ("Bakvakt: Barnevernvakta Vest", oslo(2026, 9, 7, 22), oslo(2026, 9, 8, 8)),
    ]
    team_uids = {
        str(e["UID"])
        for team, duties in duties_by_team.items()
        for e in events(team_calendar(ORG, team, duties, stamp=STAMP))
    }
    assert not team_uids & {str(e["UID"]) for e in events(ics)}


def test_person_without_duties_gets_an_empty_calendar() -> None:
    ics = person_calendar(ORG, "per", {}, stamp=STAMP)
    assert events(ics) == []
    assert b"METHOD:PUBLISH" in ics


def test_unstaffed_duty_shows_in_team_calendar_only() -> None:
    hole = [duty("bvv-vest", oslo(2026, 9, 7, 22), oslo(2026, 9, 8, 8), None, None)]
    [event] = events(team_calendar(ORG, "bvv-vest", hole, stamp=STAMP))
    assert str(event["SUMMARY"]) == "Ubemannet: Barnevernvakta Vest"
    assert events(person_calendar(ORG, "kari", {"bvv-vest": hole}, stamp=STAMP)) == []


def test_feeds_never_name_foster_homes_or_private_numbers() -> None:
    week = [duty("asker-bvt", oslo(2026, 9, 7, 8), oslo(2026, 9, 7, 22), "kari", "ola")]
    feeds = [
        team_calendar(ORG, "asker-bvt", week, stamp=STAMP),
        person_calendar(ORG, "kari", {"asker-bvt": week}, stamp=STAMP),
    ]
    for ics in feeds:
        text = ics.decode()
        for secret in ("Familien Hansen", "hansen", "98765432", "91234567", "91234568"):
            assert secret not in text


def test_instant_in_repeated_autumn_hour_is_written_in_utc() -> None:
    # 02:30 CET on 25 October 2026 is the second 02:30 of the night: a TZID time means the
    # first one, so the end is written as a UTC time instead.
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert second.astimezone(OSLO).fold == 1
    shift = [duty("bvv-vest", oslo(2026, 10, 24, 22), second, "kari", None)]
    ics = team_calendar(ORG, "bvv-vest", shift, stamp=STAMP)
    assert b"DTEND:20261025T013000Z" in ics
    [event] = events(ics)
    assert start_end(event) == (oslo(2026, 10, 24, 22), second)


def test_vtimezone_matches_tz_database() -> None:
    component = vtimezone(OSLO, oslo(2026, 5, 1), oslo(2027, 5, 1))
    parsed = Timezone.from_ical(component.to_ical())
    assert isinstance(parsed, Timezone)
    tz = parsed.to_tz(lookup_tzid=False)  # read our VTIMEZONE, not the tz database
    daily = [datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=n) for n in range(730)]
    # Every 15 minutes from 22:00 to 06:00 UTC around three changes.
    changes = [datetime(y, m, d, 22, tzinfo=UTC) for y, m, d in [(2026, 3, 28), (2026, 10, 24)]]
    changes.append(datetime(2027, 3, 27, 22, tzinfo=UTC))
    near = [night + timedelta(minutes=15 * n) for night in changes for n in range(32)]
    for instant in daily + near:
        assert instant.astimezone(tz).utcoffset() == instant.astimezone(OSLO).utcoffset(), instant
    daylight = [str(s.decoded("DTSTART")) for s in parsed.walk("DAYLIGHT")]
    assert "2026-03-29 02:00:00" in daylight  # onset in CET, as TZOFFSETFROM +0100 says


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: team_calendar(ORG, "nobody", [], stamp=STAMP), id="unknown team"),
        pytest.param(lambda: person_calendar(ORG, "nobody", {}, stamp=STAMP), id="unknown person"),
        pytest.param(
            lambda: team_calendar(
                ORG,
                "asker-bvt",
                [duty("bvv-vest", oslo(2026, 9, 7, 22), oslo(2026, 9, 8, 8), "kari", None)],
                stamp=STAMP,
            ),
            id="another team's duty",
        ),
        pytest.param(
            lambda: team_calendar(
                ORG,
                "bvv-vest",
                [duty("bvv-vest", oslo(2026, 9, 7, 22), oslo(2026, 9, 8, 8), "kari", None)],
                stamp=STAMP.replace(tzinfo=None),
            ),
            id="naive stamp",
        ),
    ],
)
def test_bad_input_is_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError):
        call()


def night_org() -> Organisation:
    """A day team 08:00-22:00 and a barnevernvakt 22:00-08:00 that hands over on Mondays."""
    return Organisation(
        helpline=HelplineConfig(fallback_phone="+4740000000"),
        kommuner=(Kommune("asker", "Asker"),),
        teams=(
            Team("dag", "Barnevernstjenesten i Asker", "kommune", ("asker",)),
            Team("natt", "Barnevernvakta Vest", "barnevernvakt", ("asker",), "+4792000000"),
        ),
        people=ORG.people,
        coverage=(
            Coverage(
                "asker",
                (
                    CoverageRule(frozenset({"all"}), time(8), time(22), "dag"),
                    CoverageRule(frozenset({"all"}), time(22), time(8), "natt"),
                ),
            ),
        ),
        rotations=(
            Rotation("dag", ("per",), oslo(2026, 1, 5, 8), timedelta(weeks=1)),
            Rotation("natt", ("kari", "ola"), oslo(2026, 1, 5, 8), timedelta(weeks=1)),
        ),
    )


@pytest.mark.parametrize(
    ("night", "hours"),
    [
        pytest.param((2026, 10, 24), 11, id="last Sunday of October"),
        pytest.param((2027, 3, 27), 9, id="last Sunday of March"),
    ],
)
def test_calendars_from_rota_duties(night: tuple[int, int, int], hours: int) -> None:
    org = night_org()
    rota = Rota(org)
    start = oslo(*night, 12)
    duties = {t: rota.duties(t, start, start + timedelta(days=1)) for t in ("dag", "natt")}
    [event] = [
        e
        for e in events(team_calendar(org, "natt", duties["natt"], stamp=STAMP))
        if str(e["SUMMARY"]).startswith("Vakt: ")
    ]
    dtstart, dtend = start_end(event)
    assert event["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert (dtstart.replace(tzinfo=None), dtend.hour) == (oslo(*night, 22).replace(tzinfo=None), 8)
    assert dtend.astimezone(UTC) - dtstart.astimezone(UTC) == timedelta(hours=hours)
    primary = str(event["SUMMARY"]).removeprefix("Vakt: ")
    backup = next(p.id for p in org.people if p.name != primary and p.id in ("kari", "ola"))
    mine = events(person_calendar(org, backup, duties, stamp=STAMP))
    assert [str(e["SUMMARY"]) for e in mine] == ["Bakvakt: Barnevernvakta Vest"]
    assert start_end(mine[0]) == (dtstart, dtend)
