"""The keywords' pure core: what counts as STOPP, START and HJELP, on which numbers, with
which scope, and what the writer reads (in one SMS segment where that can be done)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rota.orgfile import parse_org
from routing.buttons import StopScope, parse_button
from routing.callers import Directory
from routing.classes import group_scope
from routing.keywords import (
    NETWORK_LABEL,
    Command,
    Helpline,
    Keyword,
    Line,
    chosen,
    group_key,
    helpline_for,
    line_of,
    parse_command,
    parse_keyword,
    sms_reply,
    stop_options,
    telegram_groups,
    telegram_help,
    telegram_stopped,
)
from routing.segments import segments
from tests.unit.test_orgfile import demo_text

ORG = parse_org(demo_text())
DIRECTORY = Directory(ORG)
NETWORK, GROUP_LINE, ASKER_LINE, BAERUM_LINE = (
    "+4767000090",
    "+4767000091",
    "+4767000001",
    "+4767000002",
)
HANSEN, OLSEN, STRANGER = "+4798765432", "+4799887766", "+4790000001"
NILSEN_GROUP = DIRECTORY.groups["asker-rf-nilsen"]
EMERGENCY = (
    "Ved fare: ring 112 (politi) eller 113 (ambulanse). Alarmtelefonen for barn og unge: 116 111."
)


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOPP", "stop"),
        ("stopp", "stop"),
        ("Stopp.", "stop"),
        (" stopp ", "stop"),
        ("STOPP\n", "stop"),
        ("\u00a0Stopp!\u00a0", "stop"),  # no-break spaces, as some phones type them
        ("«STOPP»", "stop"),  # copied from the footer with its quotes
        ('"stopp"', "stop"),
        ("Stopp!!", "stop"),
        ("STOP", "stop"),
        ("stop.", "stop"),
        ("Stopp 🙏", "stop"),
        ("ＳＴＯＰＰ", "stop"),  # full-width letters
        ("START", "start"),
        ("start", "start"),
        ("Start!", "start"),
        ("HJELP", "help"),
        ("hjelp?", "help"),
        ("Info", "help"),
        ("INFO", "help"),
        ("help", "help"),
        # a sentence containing the word is a message
        ("Stopp å sende meg dette", None),
        ("stopp takk", None),
        ("STOPP STOPP", None),
        ("Jeg trenger hjelp", None),
        ("hjelp meg", None),
        ("Mer info om treffet?", None),
        ("start kl 18?", None),
        # near misses are not keywords either
        ("STOPPP", None),
        ("stopp12", None),
        ("S T O P P", None),
        ("S.T.O.P.P", None),
        ("STÖPP", None),
        ("avslutt", None),
        ("JA 12", None),
        ("", None),
        ("   ", None),
        ("!!!", None),
    ],
)
def test_what_counts_as_a_keyword(body: str, keyword: Keyword | None) -> None:
    assert parse_keyword(body) == keyword


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/stopp", Command("stop")),
        ("/STOPP", Command("stop")),
        ("/stop", Command("stop")),
        ("/stopp@FosterhjemBot", Command("stop")),
        (" /stopp ", Command("stop")),
        ("/start", Command("start")),
        ("/start abc_DEF-123", Command("start", "abc_DEF-123")),  # the token keeps its case
        ("/start   tok  ", Command("start", "tok")),
        ("/start@FosterhjemBot tok", Command("start", "tok")),
        ("/hjelp", Command("help")),
        ("/help", Command("help")),
        ("/info", Command("help")),
        ("/Info", Command("help")),
        ("stopp", None),  # a plain message to the bot is help
        ("hjelp", None),
        ("/grupper", None),
        ("/startabc", None),
        ("hei /stopp", None),
        ("/", None),
        ("", None),
        ("/stopp@", None),
    ],
)
def test_the_telegram_commands(text: str, command: Command | None) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("dialled", "line"),
    [
        (NETWORK, Line(NETWORK, None)),
        (GROUP_LINE, Line(GROUP_LINE, NILSEN_GROUP)),
        (ASKER_LINE, None),  # a kommune's helpline number: every message there is help
        (BAERUM_LINE, None),
        ("+4790000009", None),
        ("", None),
    ],
)
def test_the_lines_keywords_are_read_on(dialled: str, line: Line | None) -> None:
    assert line_of(DIRECTORY, dialled) == line


def test_the_scope_is_the_numbers() -> None:
    assert Line(NETWORK, None).scope == "network"
    assert (
        Line(GROUP_LINE, NILSEN_GROUP).scope
        == "group:asker-rf-nilsen"
        == group_scope("asker-rf-nilsen")
    )


def test_a_helpline_number_is_never_a_line_even_if_it_were_the_network_number() -> None:
    org = replace(ORG, helpline=replace(ORG.helpline, network_number=ASKER_LINE))
    assert line_of(Directory(org), ASKER_LINE) is None


def test_without_a_network_number_only_group_numbers_are_lines() -> None:
    org = replace(ORG, helpline=replace(ORG.helpline, network_number=None))
    directory = Directory(org)
    assert line_of(directory, NETWORK) is None
    assert line_of(directory, GROUP_LINE) == Line(GROUP_LINE, NILSEN_GROUP)


@pytest.mark.parametrize(
    ("body", "taken"),
    [("STOPP", True), ("start", True), ("HJELP", False), ("INFO", False), ("Hei", False)],
)
def test_without_a_network_number_a_helpline_number_reads_only_stopp_and_start(
    body: str, taken: bool
) -> None:
    """Info then comes from the helpline number with «Svar STOPP»; help stays help."""
    without = Directory(replace(ORG, helpline=replace(ORG.helpline, network_number=None)))
    expected = Line(ASKER_LINE, None) if taken else None
    assert line_of(without, ASKER_LINE, body) == expected
    assert line_of(DIRECTORY, ASKER_LINE, body) is None  # with one: the safety rule


@pytest.mark.parametrize(
    ("dialled", "sender", "helpline"),
    [
        (GROUP_LINE, HANSEN, Helpline("67 00 00 01", "Asker")),  # the group's kommune
        (GROUP_LINE, OLSEN, Helpline("67 00 00 01", "Asker")),  # whoever writes
        (NETWORK, HANSEN, Helpline("67 00 00 01", "Asker")),  # the writer's kommune
        (NETWORK, OLSEN, Helpline("67 00 00 02", "Bærum")),
        (NETWORK, STRANGER, Helpline("67 00 00 01", None)),  # unknown: a number, no kommune
    ],
)
def test_the_helpline_a_reply_names(dialled: str, sender: str, helpline: Helpline) -> None:
    line = line_of(DIRECTORY, dialled)
    assert line is not None
    assert helpline_for(DIRECTORY, line, sender, None) == helpline


def test_an_unknown_writer_is_given_the_default_kommunes_number() -> None:
    line = Line(NETWORK, None)
    assert helpline_for(DIRECTORY, line, STRANGER, "baerum") == Helpline("67 00 00 02", None)


LINES = [Line(NETWORK, None), Line(GROUP_LINE, NILSEN_GROUP)]
HELPLINES = [Helpline("67 00 00 01", "Asker"), Helpline("67 00 00 02", "Bærum"),
             Helpline("67 00 00 01", None)]  # fmt: skip


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("helpline", HELPLINES)
def test_stopp_and_start_answer_in_one_segment(line: Line, helpline: Helpline) -> None:
    for keyword in ("stop", "start"):
        text = sms_reply(keyword, line, helpline)
        assert segments(text).encoding == "gsm7"
        assert segments(text).count == 1, text


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("helpline", HELPLINES)
def test_hjelp_says_what_the_number_is_and_where_help_is(line: Line, helpline: Helpline) -> None:
    text = sms_reply("help", line, helpline)
    assert "Svar STOPP for å melde deg av, START for å melde deg på igjen." in text
    assert f"ring eller send SMS til {helpline.number}." in text
    assert text.endswith(EMERGENCY)
    assert segments(text).encoding == "gsm7" and segments(text).count <= 2


def test_the_answers_name_the_group_or_the_network() -> None:
    asker = Helpline("67 00 00 01", "Asker")
    group, network = Line(GROUP_LINE, NILSEN_GROUP), Line(NETWORK, None)
    assert sms_reply("stop", group, asker) == (
        "Du er meldt av meldingene fra Ressursfamilien Nilsen. Svar START for å få dem igjen. "
        "Trenger du hjelp: 67 00 00 01."
    )
    assert sms_reply("start", network, asker) == (
        "Du er meldt på igjen og får invitasjoner og gruppemeldinger fra "
        "fosterhjemsnettverket i Asker. Svar STOPP for å melde deg av."
    )
    assert sms_reply("help", group, asker).startswith(
        "Dette er nummeret til Ressursfamilien Nilsen i Fosterhjemstelefonen."
    )
    assert sms_reply("help", network, Helpline("67 00 00 01", None)).startswith(
        "Dette nummeret sender invitasjoner og gruppemeldinger fra fosterhjemsnettverket."
    )


def test_without_any_helpline_number_the_answer_points_to_the_kommune() -> None:
    none = Helpline(None, None)
    assert "Trenger du hjelp" not in sms_reply("stop", Line(NETWORK, None), none)
    assert "kontakt barnevernstjenesten i kommunen din" in sms_reply(
        "help", Line(NETWORK, None), none
    )


# -- Telegram ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "target", "groups"),
    [
        ("foster_home", "hansen", ["asker-rf-nilsen"]),
        ("foster_home", "nilsen", ["asker-rf-nilsen"]),  # the hub
        ("foster_home", "olsen", ["baerum-nettverk"]),  # a group without its own number
        ("foster_home", "gone", []),
        ("person", "kari", ["asker-rf-nilsen"]),  # staff who follow a group
        ("person", "marte", ["baerum-nettverk"]),
        ("person", "ola", []),
    ],
)
def test_the_groups_of_a_telegram_chat(kind: str, target: str, groups: list[str]) -> None:
    assert [g.id for g in telegram_groups(DIRECTORY, kind, target)] == groups


def test_stopp_offers_each_group_then_the_network() -> None:
    options = stop_options(telegram_groups(DIRECTORY, "foster_home", "hansen"))
    nilsen = f"stop:g:{group_key('asker-rf-nilsen')}"
    assert [(o.scope, o.label, o.data) for o in options] == [
        ("group:asker-rf-nilsen", "Ressursfamilien Nilsen", nilsen),
        ("network", NETWORK_LABEL, "stop:network"),
    ]
    for option in options:
        choice = parse_button(option.data, 0)
        assert isinstance(choice, StopScope) and chosen(choice, options) == option


def test_a_button_of_another_chats_group_is_not_chosen() -> None:
    olsen = stop_options(telegram_groups(DIRECTORY, "foster_home", "olsen"))
    hansen = stop_options(telegram_groups(DIRECTORY, "foster_home", "hansen"))
    choice = parse_button(olsen[0].data, 0)
    assert isinstance(choice, StopScope) and chosen(choice, hansen) is None


def test_any_group_id_fits_in_button_data() -> None:
    long_id = "a-very-long-group-id-" * 10 + "æøå"
    key = group_key(long_id)
    assert len(StopScope(key).data.encode()) <= 64
    assert parse_button(StopScope(key).data, 0) == StopScope(key)
    assert key == group_key(long_id) != group_key(long_id + "x")


def test_the_telegram_texts() -> None:
    [group, network] = stop_options([NILSEN_GROUP])
    assert telegram_stopped(group).startswith("Du er meldt av meldingene fra Ressursfamilien")
    assert telegram_stopped(network).startswith(
        "Du er meldt av invitasjoner og meldinger fra nettverket."
    )
    for text in (telegram_stopped(group), telegram_stopped(network)):
        assert "/start" in text
    home = telegram_help("foster_home", "67 00 00 01")
    assert "Skriv her når du trenger noen å snakke med" in home and "67 00 00 01" in home
    staff = telegram_help("person", None)
    assert "varsler om henvendelser får du alltid" in staff
    for text in (home, staff):
        assert "/stopp" in text and "/start" in text and text.endswith(EMERGENCY)
