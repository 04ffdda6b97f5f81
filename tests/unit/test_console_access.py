"""`[[access]]` in the rota file, who may see what in the console, and the login rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib.resources import files

import pytest

from rota.model import Access
from rota.orgfile import OrgFileError, dump_org, parse_org
from routing import login
from routing.access import ADMIN, Scope, console_scope, visible_kommuner

DEMO = (files("helpline") / "demo.toml").read_text(encoding="utf-8")


def errors(text: str) -> list[str]:
    with pytest.raises(OrgFileError) as caught:
        parse_org(text)
    return [str(e) for e in caught.value.errors]


def test_the_demo_has_an_admin_and_a_koordinator_per_kommune() -> None:
    org = parse_org(DEMO)
    assert org.access == (
        Access("siri", "admin"),
        Access("kari", "koordinator", ("asker",)),
        Access("marte", "koordinator", ("baerum",)),
    )
    assert {k for a in org.access for k in a.kommuner} == {k.id for k in org.kommuner}


def test_access_survives_the_round_trip() -> None:
    org = parse_org(DEMO)
    text = dump_org(org)
    assert '[[access]]\nperson = "kari"\nrole = "koordinator"\nkommuner = ["asker"]\n' in text
    assert '[[access]]\nperson = "siri"\nrole = "admin"\n\n' in text
    assert parse_org(text) == org


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('person = "kjell"\nrole = "admin"',
         "access 'kjell': field 'person': unknown person 'kjell'"),
        ('person = "ingrid"\nrole = "koordinator"\nkommuner = ["askr"]',
         "access 'ingrid': field 'kommuner': unknown kommune 'askr' (did you mean 'asker'?)"),
        ('person = "ingrid"\nrole = "sjef"',
         "access 'ingrid': field 'role': unknown role 'sjef': "
         "expected one of 'admin', 'koordinator', 'vakt'"),
        ('person = "ingrid"\nrole = "koordinator"',
         "access 'ingrid': field 'kommuner': a koordinator needs one or more kommuner"),
        ('person = "ingrid"\nrole = "koordinator"\nkommuner = []',
         "access 'ingrid': field 'kommuner': a koordinator needs one or more kommuner"),
        ('person = "ingrid"\nrole = "admin"\nkommuner = ["asker"]',
         "access 'ingrid': field 'kommuner': an admin sees every kommune: leave kommuner out"),
        ('person = "ola"\nrole = "vakt"\nkommuner = ["asker"]',
         "access 'ola': field 'kommuner': a vakt sees their teams' kommuner: leave kommuner out"),
        ('person = "ola"\nrole = "koordinator"\nkommuner = ["asker", "asker"]',
         "access 'ola': field 'kommuner': kommune 'asker' is listed twice"),
        ('person = "ola"\nrole = "koordinator"\nkommuner = ["asker"]\nkommune = "x"',
         "access 'ola': field 'kommune': unknown field (did you mean 'kommuner'?)"),
        ('role = "admin"', "access #4: field 'person': missing required field"),
        ('person = "kari"\nrole = "admin"',
         "access 'kari': field 'person': person 'kari' already has an access entry"),
    ],
)  # fmt: skip
def test_a_bad_access_entry_names_its_entry_and_field(entry: str, message: str) -> None:
    assert errors(f"{DEMO}\n[[access]]\n{entry}\n") == [message]


ORG = parse_org(DEMO)


@pytest.mark.parametrize(
    ("person", "scope"),
    [
        ("siri", ADMIN),
        ("kari", Scope("koordinator", frozenset({"asker"}))),  # her entry, not her team
        ("marte", Scope("koordinator", frozenset({"baerum"}))),
        ("ola", Scope("vakt", frozenset({"asker"}))),
        ("nina", Scope("vakt", frozenset({"asker", "baerum"}))),  # the shared barnevernvakt
        ("nobody", None),
    ],
)  # fmt: skip
def test_console_scope(person: str, scope: Scope | None) -> None:
    assert console_scope(ORG, person) == scope


def test_a_person_in_no_team_and_without_an_entry_may_not_log_in() -> None:
    org = parse_org(
        DEMO.replace('role = "admin"                       # every kommune', 'role = "vakt"')
    )
    assert console_scope(org, "siri") == Scope("vakt", frozenset())  # in, seeing nothing
    without = parse_org(DEMO.replace('[[access]]\nperson = "siri"\nrole = "admin"', ""))
    assert console_scope(without, "siri") is None


def test_visible_kommuner_keep_the_register_order() -> None:
    assert visible_kommuner(ORG, ADMIN) == ("asker", "baerum")
    assert visible_kommuner(ORG, Scope("koordinator", frozenset({"baerum"}))) == ("baerum",)


ISSUED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CHALLENGE = login.Challenge("digest", "kari", ISSUED)


@pytest.mark.parametrize(
    ("challenge", "tries", "at", "refusal"),
    [
        (None, 1, ISSUED, "missing"),
        (CHALLENGE, 1, ISSUED, None),
        (CHALLENGE, 5, ISSUED + timedelta(minutes=9, seconds=59), None),
        (CHALLENGE, 1, ISSUED + timedelta(minutes=10), "expired"),
        (CHALLENGE, 1, ISSUED - timedelta(seconds=1), "expired"),  # a clock gone back
        (CHALLENGE, 6, ISSUED, "locked"),
    ],
)  # fmt: skip
def test_before_try(
    challenge: login.Challenge | None, tries: int, at: datetime, refusal: str | None
) -> None:
    assert login.before_try(challenge, tries, at) == refusal


def test_the_fifth_wrong_guess_locks() -> None:
    assert [login.after_wrong(n) for n in range(1, 6)] == ["wrong"] * 4 + ["locked"]
    assert [login.tries_left(n) for n in range(1, 6)] == [4, 3, 2, 1, 0]


@pytest.mark.parametrize(
    ("typed", "code"),
    [("123456", "123456"), (" 123 456 ", "123456"), ("12345", None), ("1234567", None),
     ("12345a", None), ("١٢٣٤٥٦", None)],  # Arabic-Indic digits are digits, not ours
)  # fmt: skip
def test_well_formed_code(typed: str, code: str | None) -> None:
    assert login.well_formed_code(typed) == code


def test_a_number_shared_by_two_people_logs_in_no_one() -> None:
    shared = parse_org(DEMO.replace('phone = "+4791234568"', 'phone = "+4791234567"'))
    assert login.login_person(shared, "+4791234567") is None
    assert login.login_person(ORG, "+4791234567") == ORG.people[1]


def test_the_code_sms_names_no_one() -> None:
    text = login.code_text("042917")
    assert "042917" in text and "10 minutter" in text
    assert all(p.name.split()[0] not in text for p in ORG.people)
