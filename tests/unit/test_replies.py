"""Parsing what staff and foster parents text to the helpline number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing import message_texts
from routing.replies import (
    DEFAULT_CATEGORIES,
    MAX_CONTACT_ID,
    Bare,
    Close,
    ParseError,
    Reply,
    StaffCommand,
    Stop,
    Take,
    UnknownCategory,
    code_contact_id,
    match_category,
    parse_code,
    parse_foster_parent,
    parse_staff,
    short_code,
)

SETTINGS = settings(max_examples=300, deadline=None)

STAFF = [
    ("#K7 Jeg ringer deg nå", Reply("K7", "Jeg ringer deg nå")),
    ("#k7 jeg ringer deg nå", Reply("K7", "jeg ringer deg nå")),
    ("  #K7   Hei  ", Reply("K7", "Hei")),
    ("# K 7 Hei", Reply("K7", "Hei")),
    ("#K7: Hei", Reply("K7", "Hei")),
    ("#K7,Hei", Reply("K7", "Hei")),
    ("#K007 Hei", Reply("K7", "Hei")),
    ("#K123 Hei", Reply("K123", "Hei")),
    ("#K7\nFørste linje\nAndre linje", Reply("K7", "Første linje\nAndre linje")),
    ("#K7\u00a0Hei", Reply("K7", "Hei")),  # a no-break space from a phone keyboard
    ("#K7 Ja, jeg ringer deg", Reply("K7", "Ja, jeg ringer deg")),
    ("#K7 Lukket saken", Reply("K7", "Lukket saken")),
    ("#K7 LUKK skole", Close("K7", "skole")),
    ("#K7 lukk skole", Close("K7", "skole")),
    ("#k7 Lukk Skole.", Close("K7", "skole")),
    ("#K7 LUKK: helse", Close("K7", "helse")),
    ("#K7   LUKK    atferd  ", Close("K7", "atferd")),
    ("#K7 LUKK samvær", Close("K7", "samvær")),
    ("#K7 LUKK samvaer", Close("K7", "samvær")),
    ("#K7 LUKK SAMVÆR", Close("K7", "samvær")),
    ("#K7 LUKK økonomi", Close("K7", "økonomi")),
    ("#K7 LUKK okonomi", Close("K7", "økonomi")),
    ("#K7 LUKK oekonomi", Close("K7", "økonomi")),
    ("#K7 LUKK ØKONOMI", Close("K7", "økonomi")),
    ("#K7 LUKK fotball", UnknownCategory("K7", "fotball", DEFAULT_CATEGORIES)),
    ("#K7 LUKK skole  og helse", UnknownCategory("K7", "skole og helse", DEFAULT_CATEGORIES)),
    ("#K7 LUKK", UnknownCategory("K7", "", DEFAULT_CATEGORIES)),
    ("#K7 JA", Take("K7")),
    ("#K7 ja", Take("K7")),
    ("#K7 TAR", Take("K7")),
    ("#K7 tar!", Take("K7")),
    ("#K7 Jeg tar den", Take("K7")),
    ("Jeg ringer deg nå", Bare("Jeg ringer deg nå")),
    ("  K7 uten emneknagg  ", Bare("K7 uten emneknagg")),
    ("STOPP", Stop()),
    ("stopp", Stop()),
    (" Stopp. ", Stop()),
    ("Stopp å ringe", Bare("Stopp å ringe")),
]

ERRORS = [
    ("#K7", "K7", message_texts.missing_text("K7")),
    ("#K7   ", "K7", message_texts.missing_text("K7")),
    ("#K7 :", "K7", message_texts.missing_text("K7")),
    ("#hei på deg", None, message_texts.missing_code()),
    ("#", None, message_texts.missing_code()),
    ("#K", None, message_texts.missing_code()),
    ("#K1234567890123 Hei", None, message_texts.missing_code()),
    ("#K2147483648 Hei", None, message_texts.missing_code()),  # past any contact id
    ("#K999999999999 JA", None, message_texts.missing_code()),
    ("", None, message_texts.empty_message()),
    ("   \n ", None, message_texts.empty_message()),
]


@pytest.mark.parametrize(("text", "expected"), STAFF, ids=[t for t, _ in STAFF])
def test_staff_grammar(text: str, expected: StaffCommand) -> None:
    assert parse_staff(text) == expected


@pytest.mark.parametrize(("text", "code", "help_text"), ERRORS, ids=[t for t, _, _ in ERRORS])
def test_malformed_staff_text_gets_help(text: str, code: str | None, help_text: str) -> None:
    assert parse_staff(text) == ParseError(code, help_text)


def test_an_unknown_category_carries_the_list_to_send_back() -> None:
    result = parse_staff("#K7 LUKK fotball")
    assert isinstance(result, UnknownCategory)
    assert all(category in result.help for category in DEFAULT_CATEGORIES)
    assert "#K7 LUKK" in result.help


def test_categories_come_from_the_configured_list() -> None:
    categories = ("Psykisk helse", "Søvn", "Annet")
    assert parse_staff("#K9 lukk psykisk  helse", categories) == Close("K9", "Psykisk helse")
    assert parse_staff("#K9 lukk sovn", categories) == Close("K9", "Søvn")
    assert parse_staff("#K9 lukk skole", categories) == UnknownCategory("K9", "skole", categories)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("samvær", "samvær"),
        ("Samvar", "samvær"),
        ("økonomi!", "økonomi"),
        ("ØKONOMI", "økonomi"),
        ("akutt", "akutt"),
        ("", None),
        ("  ", None),
        ("skol", None),
    ],
)
def test_match_category(given: str, expected: str | None) -> None:
    assert match_category(given, DEFAULT_CATEGORIES) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hei, kan noen ringe meg?", Bare("Hei, kan noen ringe meg?")),
        ("  #K7 LUKK skole ", Bare("#K7 LUKK skole")),  # a foster parent has no commands
        ("STOPP", Stop()),
        ("stopp ", Stop()),
        ("", Bare("")),
    ],
)
def test_foster_parent_text(text: str, expected: Bare | Stop) -> None:
    assert parse_foster_parent(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("K7", "K7"),
        ("#K7", "K7"),
        (" #k 7 ", "K7"),
        ("K007", "K7"),
        ("K0", "K0"),
        ("7", None),
        ("K", None),
        ("K7 hei", None),
        ("KK7", None),
        ("K1234567890123", None),
        ("K٣", None),  # only ascii digits
    ],
)
def test_parse_code(text: str, expected: str | None) -> None:
    assert parse_code(text) == expected


def test_code_contact_id() -> None:
    assert code_contact_id("K7") == 7
    assert code_contact_id("#k 12") == 12
    assert code_contact_id("Familien Hansen") is None


@SETTINGS
@given(st.text())
def test_parsing_never_raises_on_arbitrary_text(text: str) -> None:
    assert parse_staff(text) is not None
    assert isinstance(parse_foster_parent(text), Bare | Stop)


@SETTINGS
@given(st.from_regex(r"\s*#\s*[kK]\s*[0-9]{0,20}[\s:,]*(lukk|LUKK|ja|tar)?.*", fullmatch=True))
def test_parsing_never_raises_on_code_like_text(text: str) -> None:
    result = parse_staff(text)
    if isinstance(result, Reply | Close | Take | UnknownCategory):
        assert parse_code(result.code) == result.code


@SETTINGS
@given(st.integers(0, MAX_CONTACT_ID))
def test_short_code_round_trips(contact_id: int) -> None:
    code = short_code(contact_id)
    assert code == f"K{contact_id}"
    assert parse_code(code) == code
    assert parse_code("#" + code.lower()) == code
    assert code_contact_id(code) == contact_id


def _answer(text: str) -> bool:
    return bool(text.strip()) and not text[0].isspace() and text[0] not in ":,"


@SETTINGS
@given(st.integers(1, 10**6), st.text(min_size=1).filter(_answer))
def test_a_coded_reply_sends_the_text_as_written(contact_id: int, text: str) -> None:
    command = parse_staff(f"#{short_code(contact_id)} {text}")
    if isinstance(command, Reply):
        assert command == Reply(short_code(contact_id), text.strip())
    else:  # only a close or a take is anything else
        assert isinstance(command, Close | UnknownCategory | Take)
