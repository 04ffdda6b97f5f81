"""The simulator's answer policy: who picks up and who accepts, as a table."""

from __future__ import annotations

import pytest

from helpline.simulator.policy import AnswerPolicy, PolicyError, Reaction

KARI, OLA, VAKT = "+4791234567", "+4791234568", "+4740000000"
ACCEPT, DECLINE, NO = Reaction.ACCEPT, Reaction.DECLINE, Reaction.NO_ANSWER


@pytest.mark.parametrize(
    ("policy", "number", "attempt", "expected"),
    [
        ("none", KARI, 1, NO),
        ("NONE", OLA, 3, NO),
        ("all", KARI, 1, ACCEPT),
        ("all", VAKT, 7, ACCEPT),
        ("first", KARI, 1, ACCEPT),
        ("first", OLA, 2, NO),
        ("second", KARI, 1, NO),
        ("second", OLA, 2, ACCEPT),
        ("third", VAKT, 3, ACCEPT),
        ("fifth", VAKT, 5, ACCEPT),
        (KARI, KARI, 4, ACCEPT),  # a number accepts whenever it is rung
        (KARI, OLA, 1, NO),
        ("912 34 567", KARI, 1, ACCEPT),  # the policy's numbers are normalised
        (KARI, "91234567", 1, ACCEPT),  # and so are the dialled ones
        (f"{KARI},{OLA}", OLA, 2, ACCEPT),
        (f"decline:{KARI}", KARI, 1, DECLINE),
        ("decline:all", OLA, 2, DECLINE),
        ("decline:first,second", KARI, 1, DECLINE),
        ("decline:first,second", OLA, 2, ACCEPT),
        ("decline:first,second", VAKT, 3, NO),
        (f"all,decline:{KARI}", KARI, 1, DECLINE),  # a number beats `all`
        (f"all,decline:{KARI}", OLA, 2, ACCEPT),
        (f"first,decline:{KARI}", KARI, 1, DECLINE),  # a number beats an ordinal
        ("decline:all,second", OLA, 2, ACCEPT),  # an ordinal beats `all`
        (" First , Decline : SECOND ", OLA, 2, DECLINE),  # case and spaces do not matter
        (KARI, "not a number", 1, NO),  # junk the service dials is just never answered
    ],
)
def test_reaction(policy: str, number: str, attempt: int, expected: Reaction) -> None:
    assert AnswerPolicy.parse(policy).reaction(number, attempt) is expected


def test_none_is_the_empty_policy() -> None:
    assert AnswerPolicy.parse("none") == AnswerPolicy()


def test_the_order_of_terms_does_not_matter() -> None:
    one = AnswerPolicy.parse(f"first,{OLA},decline:{KARI}")
    other = AnswerPolicy.parse(f"decline:91234567,{OLA},first")
    assert one == other
    assert hash(one) == hash(other)


def test_repeating_a_term_is_harmless() -> None:
    assert AnswerPolicy.parse(f"{KARI},912 34 567") == AnswerPolicy.parse(KARI)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("", "empty term"),
        ("first,", "empty term"),
        ("decline:", "empty term"),
        ("nobody", "neither a keyword nor a phone number"),
        ("sixth", "neither a keyword nor a phone number"),
        ("+47 1234 5678", "neither a keyword nor a phone number"),
        ("none,first", "cannot be combined"),
        ("decline:none", "cannot be combined"),
        ("refuse:first", "unknown term"),
        ("first,decline:first", "contradicts"),
        (f"{KARI},decline:912 34 567", "contradicts"),
        ("all,decline:all", "contradicts"),
    ],
)
def test_bad_policies_are_refused_naming_the_term(policy: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        AnswerPolicy.parse(policy)


def test_an_unknown_word_is_answered_with_the_grammar() -> None:
    with pytest.raises(PolicyError, match=r"TERM is \[decline:\]TARGET"):
        AnswerPolicy.parse("everybody")
