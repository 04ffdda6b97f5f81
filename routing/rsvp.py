"""Answers to invitations, as foster parents write them: `JA 12`, `JA 12 3`, `NEI 12`, a
bare `JA` or `NEI`. Pure; parsing never raises.

A message whose first word is JA or NEI is an answer (`Rsvp`) when the rest is an event
number and, after JA, how many are coming; anything else starting with JA or NEI is
`Unclear` (it gets the help text and changes nothing). A message that starts with
neither is `NotAnAnswer`: it is none of this module's business (a group message, or a
message for the staff on duty).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_PEOPLE = 20
MAX_EVENT_ID = 2_147_483_647

_FIRST_WORD = re.compile(r"\s*(ja|nei)\b", re.IGNORECASE)
_ANSWER = re.compile(
    r"\s*(ja|nei)\s*[.,!]?(?:\s+#?([0-9]{1,10})(?:\s+([0-9]{1,3}))?)?\s*[.!]*\s*", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Rsvp:
    """Yes (with `people` coming) or no, to event `event` (None: the one open invitation)."""

    yes: bool
    event: int | None
    people: int = 1


@dataclass(frozen=True, slots=True)
class Unclear:
    """It starts like an answer but cannot be read as one."""


@dataclass(frozen=True, slots=True)
class NotAnAnswer:
    """Not an answer to an invitation at all."""


Parsed = Rsvp | Unclear | NotAnAnswer


def parse_answer(text: str) -> Parsed:
    """What an SMS answers, if anything."""
    if _FIRST_WORD.match(text) is None:
        return NotAnAnswer()
    match = _ANSWER.fullmatch(text)
    if match is None:
        return Unclear()
    word, event, people = match.groups()
    yes = word.lower() == "ja"
    if event is not None and not 1 <= int(event) <= MAX_EVENT_ID:
        return Unclear()
    if people is not None and (not yes or not 1 <= int(people) <= MAX_PEOPLE):
        return Unclear()
    return Rsvp(yes, None if event is None else int(event), int(people or 1))


@dataclass(frozen=True, slots=True)
class Chosen:
    """The invitation an answer is for."""

    event: int


@dataclass(frozen=True, slots=True)
class NotInvited:
    """The answer names an event the home has no open invitation to (or, bare, the home
    has none open)."""


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A bare JA or NEI from a home with several open invitations: which one?"""

    events: tuple[int, ...]


Choice = Chosen | NotInvited | Ambiguous


def choose_invitation(
    rsvp: Rsvp, open_events: Sequence[int], invited_to: Sequence[int] = ()
) -> Choice:
    """Which invitation `rsvp` answers: a bare one, the one of `open_events` (those that
    can still be answered); a numbered one, any the home was invited to (`invited_to`,
    with the open ones), so that an answer to a cancelled or begun event is told so."""
    if rsvp.event is not None:
        known = rsvp.event in open_events or rsvp.event in invited_to
        return Chosen(rsvp.event) if known else NotInvited()
    if len(open_events) == 1:
        return Chosen(open_events[0])
    if not open_events:
        return NotInvited()
    return Ambiguous(tuple(sorted(open_events)))
