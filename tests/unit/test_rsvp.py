"""Answers to invitations as foster parents write them: the parse table, and which
invitation an answer is for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.rsvp import (
    MAX_PEOPLE,
    Ambiguous,
    Chosen,
    NotAnAnswer,
    NotInvited,
    Parsed,
    Rsvp,
    Unclear,
    choose_invitation,
    parse_answer,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("JA 12", Rsvp(True, 12)),
        ("ja 12", Rsvp(True, 12)),
        ("Ja 12.", Rsvp(True, 12)),
        ("  JA   12  ", Rsvp(True, 12)),
        ("JA #12", Rsvp(True, 12)),
        ("JA 12 3", Rsvp(True, 12, 3)),
        (f"JA 12 {MAX_PEOPLE}", Rsvp(True, 12, MAX_PEOPLE)),
        ("NEI 12", Rsvp(False, 12, 1)),
        ("Nei 12!", Rsvp(False, 12, 1)),
        ("JA", Rsvp(True, None)),
        ("ja!", Rsvp(True, None)),
        ("Nei.", Rsvp(False, None)),
        ("ja, 12", Rsvp(True, 12)),
        ("JA 12 0", Unclear()),
        (f"JA 12 {MAX_PEOPLE + 1}", Unclear()),
        ("NEI 12 3", Unclear()),  # a no has no people
        ("JA 0", Unclear()),
        ("JA 99999999999", Unclear()),
        ("JA 12 3 4", Unclear()),
        ("ja takk, vi kommer", Unclear()),
        ("JA tolv", Unclear()),
        ("Nei, dette går ikke", Unclear()),
        ("Jaja", NotAnAnswer()),  # not the word JA
        ("Neida", NotAnAnswer()),
        ("Hei, kan noen ringe oss?", NotAnAnswer()),
        ("STOPP", NotAnAnswer()),
        ("", NotAnAnswer()),
        ("12 JA", NotAnAnswer()),
    ],
)
def test_the_parse_table(text: str, parsed: Parsed) -> None:
    assert parse_answer(text) == parsed


@given(st.text(max_size=60))
def test_parsing_never_raises_and_an_answer_starts_with_ja_or_nei(text: str) -> None:
    parsed = parse_answer(text)
    if not isinstance(parsed, NotAnAnswer):
        assert text.strip().lower().startswith(("ja", "nei"))
    if isinstance(parsed, Rsvp):
        assert 1 <= parsed.people <= MAX_PEOPLE


@pytest.mark.parametrize(
    ("rsvp", "open_events", "invited", "choice"),
    [
        (Rsvp(True, None), [12], [12], Chosen(12)),
        (Rsvp(True, None), [12, 14], [12, 14], Ambiguous((12, 14))),
        (Rsvp(True, None), [], [9], NotInvited()),  # only a begun or cancelled one
        (Rsvp(True, 14), [12, 14], [12, 14], Chosen(14)),
        (Rsvp(True, 9), [12], [9, 12], Chosen(9)),  # numbered: told it is over
        (Rsvp(False, 13), [12], [12], NotInvited()),
    ],
)
def test_which_invitation(
    rsvp: Rsvp, open_events: list[int], invited: list[int], choice: object
) -> None:
    assert choose_invitation(rsvp, open_events, invited) == choice
