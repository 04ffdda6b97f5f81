"""The network in the rota file: `[[group]]`, the network settings of `[helpline]`, the
warnings of a load, and the phone directory's view of groups."""

from __future__ import annotations

import tomllib
from datetime import time

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from rota.checks import warnings
from rota.model import Group, QuietHours
from rota.orgfile import OrgError, OrgFileError, dump_org, parse_org
from routing.callers import Directory
from tests.unit.test_orgfile import BASE, demo_text, edit, errors_of, toml_values

GROUPS = """
[[foster_home]]
id = "berg"
name = "Familien Berg"
kommune = "asker"
phones = ["+4798700001"]

[[foster_home]]
id = "olsen"
name = "Familien Olsen"
kommune = "baerum"
phones = ["+4798700002"]

[[foster_home]]
id = "dahl"
name = "Familien Dahl"
kommune = "asker"
phones = ["+4798700003"]

[[group]]
id = "asker-rf-berg"
name = "Ressursfamilien Berg"
kind = "ressursfamilie"
kommune = "asker"
hub = "berg"
members = ["hansen", "dahl"]
staff = ["kari"]
number = "+4767000091"

[[group]]
id = "vest"
name = "Nettverket i Vest"
kind = "nettverk"
kommune = "baerum"
members = ["olsen", "hansen", "berg"]
staff = ["nina", "ola"]
"""
NETWORK = """fallback_phone = "+4740000000"
network_number = "67 00 00 90"
quiet_hours = "22:00-07:30"
ressursfamilie_size = 3
"""
NET = edit('fallback_phone = "+4740000000"\n', NETWORK) + GROUPS


def net(old: str, new: str) -> str:
    return edit(old, new, NET)


def test_groups_and_the_network_settings_are_read() -> None:
    org = parse_org(NET)
    assert org.groups == (
        Group(
            "asker-rf-berg",
            "Ressursfamilien Berg",
            "ressursfamilie",
            "asker",
            "berg",
            ("hansen", "dahl"),
            ("kari",),
            "+4767000091",
        ),
        Group(
            "vest",
            "Nettverket i Vest",
            "nettverk",
            "baerum",
            None,
            ("olsen", "hansen", "berg"),
            ("nina", "ola"),
        ),
    )
    assert org.groups[0].homes == ("berg", "hansen", "dahl")
    assert org.groups[1].homes == ("olsen", "hansen", "berg")
    assert org.helpline.network_number == "+4767000090"
    assert org.helpline.quiet_hours == QuietHours(time(22), time(7, 30))
    assert org.helpline.ressursfamilie_size == 3


def test_without_network_settings_the_defaults_apply() -> None:
    org = parse_org(BASE)
    assert org.groups == ()
    assert org.helpline.network_number is None
    assert org.helpline.quiet_hours == QuietHours(time(21), time(8))
    assert org.helpline.ressursfamilie_size == 5


def test_a_ressursfamilie_may_start_without_members() -> None:
    org = parse_org(net('members = ["hansen", "dahl"]', "members = []"))
    assert org.groups[0].members == () and org.groups[0].homes == ("berg",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("21:00-08:00", QuietHours(time(21), time(8)), id="wraps midnight"),
        pytest.param("8:00 - 16:30", QuietHours(time(8), time(16, 30)), id="lenient"),
        pytest.param("00:00-06:00", QuietHours(time(0), time(6)), id="after midnight"),
    ],
)
def test_quiet_hours_are_read(text: str, expected: QuietHours) -> None:
    org = parse_org(net('quiet_hours = "22:00-07:30"', f'quiet_hours = "{text}"'))
    assert org.helpline.quiet_hours == expected


# --- writing back -------------------------------------------------------------------------


def test_round_trip_with_groups_is_stable() -> None:
    org = parse_org(NET)
    once = dump_org(org)
    assert parse_org(once) == org
    assert dump_org(parse_org(once)) == once


def test_dump_writes_groups_after_the_foster_homes_and_omits_what_is_absent() -> None:
    out = dump_org(parse_org(NET))
    assert 'network_number = "+4767000090"\nquiet_hours = "22:00-07:30"\n' in out
    assert "ressursfamilie_size = 3\n" in out
    assert (
        '[[group]]\nid = "asker-rf-berg"\nname = "Ressursfamilien Berg"\n'
        'kind = "ressursfamilie"\nkommune = "asker"\nhub = "berg"\n'
        'members = ["hansen", "dahl"]\nstaff = ["kari"]\nnumber = "+4767000091"\n'
    ) in out
    vest = out[out.index('id = "vest"') :]
    assert "hub" not in vest and "number" not in vest
    assert out.rindex("[[foster_home]]") < out.index("[[group]]")
    plain = dump_org(parse_org(BASE))
    assert "network_number" not in plain and "[[group]]" not in plain
    assert 'quiet_hours = "21:00-08:00"\nressursfamilie_size = 5\n' in plain


# --- errors -------------------------------------------------------------------------------

RF = "group 'asker-rf-berg'"
CASES: list[tuple[str, str, list[tuple[str, str]], str]] = [
    (
        "unknown group kind",
        net('kind = "ressursfamilie"', 'kind = "familie"'),
        [(RF, "kind")],
        "unknown group kind 'familie': expected 'ressursfamilie' or 'nettverk'",
    ),
    (
        "unknown kommune",
        net('kommune = "asker"\nhub', 'kommune = "askr"\nhub'),
        [(RF, "kommune")],
        "unknown kommune 'askr' (did you mean 'asker'?)",
    ),
    (
        "unknown member",
        net('members = ["hansen", "dahl"]', 'members = ["hansen", "dal"]'),
        [(RF, "members")],
        "unknown foster_home 'dal' (did you mean 'dahl'?)",
    ),
    (
        "unknown staff person",
        net('staff = ["kari"]', 'staff = ["kary"]'),
        [(RF, "staff")],
        "unknown person 'kary' (did you mean 'kari'?)",
    ),
    (
        "unknown hub",
        net('hub = "berg"', 'hub = "bergh"'),
        [(RF, "hub")],
        "unknown foster_home 'bergh' (did you mean 'berg'?)",
    ),
    (
        "ressursfamilie without hub",
        net('hub = "berg"\n', ""),
        [(RF, "hub")],
        "missing required field",
    ),
    (
        "nettverk with a hub",
        net('kind = "nettverk"', 'kind = "nettverk"\nhub = "berg"'),
        [("group 'vest'", "hub")],
        "a nettverk has no hub: only a ressursfamilie has one",
    ),
    (
        "hub listed as a member",
        net('members = ["hansen", "dahl"]', 'members = ["hansen", "berg", "dahl"]'),
        [(RF, "members")],
        "foster_home 'berg' is the hub: leave it out of members",
    ),
    (
        "member listed twice",
        net('members = ["olsen", "hansen", "berg"]', 'members = ["olsen", "hansen", "olsen"]'),
        [("group 'vest'", "members")],
        "foster_home 'olsen' is listed twice",
    ),
    (
        "staff person listed twice",
        net('staff = ["nina", "ola"]', 'staff = ["nina", "ola", "nina"]'),
        [("group 'vest'", "staff")],
        "person 'nina' is listed twice",
    ),
    (
        "nobody follows the group",
        net('staff = ["kari"]', "staff = []"),
        [(RF, "staff")],
        "must list at least one person who follows the group",
    ),
    (
        "nettverk without members",
        net('members = ["olsen", "hansen", "berg"]', "members = []"),
        [("group 'vest'", "members")],
        "must list at least one foster_home",
    ),
    (
        "missing members",
        net('members = ["olsen", "hansen", "berg"]\n', ""),
        [("group 'vest'", "members")],
        "missing required field",
    ),
    (
        "duplicate group id",
        net('id = "vest"', 'id = "asker-rf-berg"'),
        [(RF, "id")],
        "duplicate id 'asker-rf-berg': another group already uses it",
    ),
    (
        "group number of a kommune's helpline",
        net('number = "+4767000091"', 'number = "67 00 00 02"'),
        [(RF, "number")],
        "+47•••••002 is already claimed by kommune 'baerum'",
    ),
    (
        "group number is the network number",
        net('number = "+4767000091"', 'number = "+4767000090"'),
        [(RF, "number")],
        "+47•••••090 is already claimed by the helpline's network_number",
    ),
    (
        "group number of another group",
        net('staff = ["nina", "ola"]', 'staff = ["nina", "ola"]\nnumber = "+4767000091"'),
        [("group 'vest'", "number")],
        "+47•••••091 is already claimed by group 'asker-rf-berg'",
    ),
    (
        "network number of a kommune's helpline",
        net('network_number = "67 00 00 90"', 'network_number = "+4767000001"'),
        [("kommune 'asker'", "numbers")],
        "+47•••••001 is already claimed by the helpline's network_number",
    ),
    (
        "malformed group number",
        net('number = "+4767000091"', 'number = "6700"'),
        [(RF, "number")],
        "not a valid phone number: '•700'",
    ),
    (
        "malformed network number",
        net('network_number = "67 00 00 90"', 'network_number = "network"'),
        [("helpline", "network_number")],
        "not a phone number",
    ),
    (
        "quiet hours without minutes",
        net('quiet_hours = "22:00-07:30"', 'quiet_hours = "21-08"'),
        [("helpline", "quiet_hours")],
        "invalid quiet hours '21-08': expected HH:MM-HH:MM, e.g. 21:00-08:00",
    ),
    (
        "quiet hours with an impossible time",
        net('quiet_hours = "22:00-07:30"', 'quiet_hours = "21:00-24:00"'),
        [("helpline", "quiet_hours")],
        "invalid quiet hours '21:00-24:00'",
    ),
    (
        "quiet hours with seconds",
        net('quiet_hours = "22:00-07:30"', 'quiet_hours = "21:00:00-08:00:00"'),
        [("helpline", "quiet_hours")],
        "invalid quiet hours",
    ),
    (
        "quiet hours of no length",
        net('quiet_hours = "22:00-07:30"', 'quiet_hours = "21:00-21:00"'),
        [("helpline", "quiet_hours")],
        "must not start and end at the same time",
    ),
    (
        "ressursfamilie size as text",
        net("ressursfamilie_size = 3", 'ressursfamilie_size = "5"'),
        [("helpline", "ressursfamilie_size")],
        "expected an integer, got a string",
    ),
    (
        "ressursfamilie size as a boolean",
        net("ressursfamilie_size = 3", "ressursfamilie_size = true"),
        [("helpline", "ressursfamilie_size")],
        "expected an integer, got a boolean",
    ),
    (
        "ressursfamilie size of zero",
        net("ressursfamilie_size = 3", "ressursfamilie_size = 0"),
        [("helpline", "ressursfamilie_size")],
        "must be at least 1, got 0",
    ),
    (
        "unknown field in a group",
        net('staff = ["kari"]', 'staff = ["kari"]\nmedlemmer = []'),
        [(RF, "medlemmer")],
        "unknown field (did you mean 'members'?)",
    ),
    (
        "group without id is named by position",
        net('id = "vest"\n', ""),
        [("group #2", "id")],
        "missing required field",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "message"),
    [pytest.param(text, expected, message, id=name) for name, text, expected, message in CASES],
)
def test_each_group_error_names_its_entry_and_field(
    text: str, expected: list[tuple[str, str]], message: str
) -> None:
    errors = errors_of(text)
    assert [(e.entry, e.field) for e in errors] == expected
    assert message in errors[0].message


def test_every_group_error_is_reported_at_once() -> None:
    text = net('members = ["hansen", "dahl"]', 'members = ["hansen", "hansen", "nobody"]')
    text = edit('staff = ["nina", "ola"]', 'staff = ["ghost"]', text)
    text = edit('quiet_hours = "22:00-07:30"', 'quiet_hours = "late"', text)
    assert [str(error) for error in errors_of(text)] == [
        "helpline: field 'quiet_hours': invalid quiet hours 'late': expected HH:MM-HH:MM,"
        " e.g. 21:00-08:00",
        f"{RF}: field 'members': foster_home 'hansen' is listed twice",
        f"{RF}: field 'members': unknown foster_home 'nobody'",
        "group 'vest': field 'staff': unknown person 'ghost'",
    ]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_value_in_any_group_field_is_an_orgfileerror_or_fine(data: st.DataObject) -> None:
    doc = tomllib.loads(NET)
    target = data.draw(st.sampled_from([doc["helpline"], *doc["group"]]))
    key = data.draw(st.sampled_from(sorted(target)) | st.text(min_size=1, max_size=5))
    target[key] = data.draw(toml_values)
    try:
        org = parse_org(tomli_w.dumps(doc))
    except OrgFileError as error:
        assert all(isinstance(e, OrgError) and e.message for e in error.errors)
    else:
        assert parse_org(dump_org(org)) == org


# --- warnings -----------------------------------------------------------------------------


def test_a_ressursfamilie_above_its_size_is_warned_about_not_refused() -> None:
    text = net('members = ["hansen", "dahl"]', 'members = ["hansen", "dahl", "olsen", "johnsen"]')
    text += '\n[[foster_home]]\nid = "johnsen"\nname = "Familien Johnsen"\nkommune = "asker"\n'
    text += 'phones = ["+4798700004"]\n'
    assert warnings(parse_org(text)) == [
        f"{RF}: field 'members': 4 foster homes are linked to this ressursfamilie,"
        " more than ressursfamilie_size (3)"
    ]


def test_no_warning_at_the_size_nor_for_a_nettverk_of_any_size() -> None:
    text = net('members = ["hansen", "dahl"]', 'members = ["hansen", "dahl", "olsen"]')
    org = parse_org(text)
    assert len(org.groups[0].members) == org.helpline.ressursfamilie_size
    assert len(org.groups[1].members) == 3
    assert warnings(org) == []
    assert warnings(parse_org(net("ressursfamilie_size = 3", "ressursfamilie_size = 1"))) == [
        f"{RF}: field 'members': 2 foster homes are linked to this ressursfamilie,"
        " more than ressursfamilie_size (1)"
    ]


def test_the_demo_loads_without_warnings() -> None:
    assert warnings(parse_org(demo_text())) == []


# --- the phone directory ------------------------------------------------------------------


def test_the_directory_finds_groups_by_number_and_a_homes_groups_in_file_order() -> None:
    org = parse_org(NET)
    directory = Directory(org)
    berg, vest = org.groups
    assert directory.groups == {"asker-rf-berg": berg, "vest": vest}
    assert directory.groups_by_number == {"+4767000091": berg}
    assert directory.network_number == "+4767000090"
    assert directory.groups_of("hansen") == (berg, vest)  # a member of both
    assert directory.groups_of("berg") == (berg, vest)  # hub of one, member of the other
    assert directory.groups_of("olsen") == (vest,)
    assert directory.groups_of("johansen") == ()
    assert "+4767000091" not in directory.kommune_by_number  # no kommune owns it


def test_the_directory_of_an_organisation_without_groups() -> None:
    directory = Directory(parse_org(BASE))
    assert directory.groups == {} and directory.groups_by_number == {}
    assert directory.network_number is None
    assert directory.groups_of("hansen") == ()


def test_the_demo_has_a_ressursfamilie_in_asker_and_a_nettverk() -> None:
    org = parse_org(demo_text())
    family, network = org.groups
    assert (family.kind, family.kommune, family.number) == (
        "ressursfamilie",
        "asker",
        "+4767000091",
    )
    assert family.hub is not None and 3 <= len(family.members) <= 5 and family.staff
    assert network.kind == "nettverk" and network.hub is None and network.number is None
    assert org.helpline.network_number == "+4767000090"
    assert org.helpline.quiet_hours == QuietHours(time(21), time(8))
