"""Telegram button data: the table of what each tap asks for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.buttons import (
    MORE_PEOPLE,
    Category,
    Choice,
    Close,
    RsvpMore,
    RsvpNo,
    RsvpYes,
    StopScope,
    Take,
    Unknown,
    parse_button,
    people_buttons,
    rsvp_buttons,
)
from routing.replies import MAX_CONTACT_ID

CATEGORIES = 7


@pytest.mark.parametrize(
    ("data", "choice"),
    [
        ("take:12", Take(12)),
        ("close:12", Close(12)),
        ("cat:12:0", Category(12, 0)),
        ("cat:12:6", Category(12, 6)),
        (f"take:{MAX_CONTACT_ID}", Take(MAX_CONTACT_ID)),
        ("take:007", Take(7)),
        ("cat:12:7", Unknown()),  # past the list of categories
        ("cat:12:999", Unknown()),
        ("cat:12", Unknown()),
        ("cat:12:", Unknown()),
        ("cat::1", Unknown()),
        ("take:abc", Unknown()),
        ("take:", Unknown()),
        ("take:0", Unknown()),
        ("take:-1", Unknown()),
        (f"take:{MAX_CONTACT_ID + 1}", Unknown()),
        ("take:99999999999", Unknown()),
        ("take:12:3", Unknown()),
        ("take:12 ", Unknown()),
        ("take:١٢", Unknown()),  # Arabic-Indic digits are digits to str.isdigit, not to us
        ("take:²", Unknown()),
        ("TAKE:12", Unknown()),
        ("x:y", Unknown()),
        ("svar:12", Unknown()),
        ("stop:network", StopScope("network")),
        ("stop:g:0123456789ab", StopScope("0123456789ab")),
        ("stop:g:0123456789AB", Unknown()),  # keys are lower-case hex
        ("stop:g:0123456789a", Unknown()),  # 12 digits, no fewer
        ("stop:g:0123456789abc", Unknown()),  # and no more
        ("stop:g:network", Unknown()),
        ("stop:group:asker-rf-nilsen", Unknown()),  # ids are not put on buttons
        ("stop:all", Unknown()),
        ("stop:", Unknown()),
        ("stop:network ", Unknown()),
        ("STOP:network", Unknown()),
        ("start:network", Unknown()),  # /start lifts every stop: no buttons
        ("rsvp:12:ja", RsvpYes(12)),
        ("rsvp:12:nei", RsvpNo(12)),
        ("rsvp:12:flere", RsvpMore(12)),
        ("rsvp:12:ja:2", RsvpYes(12, 2)),
        ("rsvp:12:ja:8", RsvpYes(12, 8)),
        ("rsvp:12:ja:9", Unknown()),  # past the numbers offered: more are answered by SMS
        ("rsvp:12:ja:1", Unknown()),  # «Vi kommer flere» starts at two
        ("rsvp:12:nei:2", Unknown()),
        ("rsvp:12:flere:3", Unknown()),
        ("rsvp:0:ja", Unknown()),
        (f"rsvp:{MAX_CONTACT_ID + 1}:ja", Unknown()),
        ("rsvp:12:JA", Unknown()),
        ("rsvp:12", Unknown()),
        ("rsvp::ja", Unknown()),
        ("", Unknown()),
        (None, Unknown()),
    ],
)
def test_button_data(data: str | None, choice: Choice) -> None:
    assert parse_button(data, CATEGORIES) == choice


@pytest.mark.parametrize(
    "choice",
    [
        Take(3), Close(3), Category(3, 2), StopScope("network"), StopScope("a" * 12),
        RsvpYes(3), RsvpYes(3, 4), RsvpNo(3), RsvpMore(3),
    ],
)  # fmt: skip
def test_the_data_of_a_choice_parses_back_to_it(
    choice: Take | Close | Category | StopScope | RsvpYes | RsvpNo | RsvpMore,
) -> None:
    assert parse_button(choice.data, CATEGORIES) == choice


def test_the_invitation_buttons_and_the_numbers_parse_back() -> None:
    assert [b.label for b in rsvp_buttons(12)] == ["Ja", "Nei", "Vi kommer flere"]
    assert [parse_button(b.data, CATEGORIES) for b in rsvp_buttons(12)] == [
        RsvpYes(12),
        RsvpNo(12),
        RsvpMore(12),
    ]
    numbers = people_buttons(12)
    assert [b.label for b in numbers] == [str(n) for n in MORE_PEOPLE]
    assert [parse_button(b.data, CATEGORIES) for b in numbers] == [
        RsvpYes(12, n) for n in MORE_PEOPLE
    ]


@given(st.one_of(st.none(), st.text(max_size=80)), st.integers(min_value=0, max_value=20))
def test_parsing_never_raises(data: str | None, categories: int) -> None:
    choice = parse_button(data, categories)
    if isinstance(choice, Take | Close | Category):
        assert 1 <= choice.contact_id <= MAX_CONTACT_ID
    elif isinstance(choice, StopScope):
        assert choice.data == data
    elif not isinstance(choice, Unknown):
        assert 1 <= choice.event <= MAX_CONTACT_ID
