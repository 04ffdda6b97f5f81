"""Telegram button data: what a tap on one of the bot's inline buttons asks for.

The bot puts `take:ID`, `close:ID` and `cat:ID:INDEX` under its notifications to staff,
`stop:network` or `stop:g:KEY` (a group's key, `routing.keywords.group_key`) under the
answer to `/stopp`, and `rsvp:EVENT:ja`, `rsvp:EVENT:nei`, `rsvp:EVENT:flere` and
`rsvp:EVENT:ja:N` under invitations to foster homes («Ja», «Nei», «Vi kommer flere», then
a number). Anything else (a button of an older version, a forged update, a category index
past the list) is `Unknown`: it is answered "Ukjent valg." and changes nothing. Parsing
never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from routing.ports import Button
from routing.replies import MAX_CONTACT_ID

#: The answer to a tap on a button the helpline does not know.
UNKNOWN_CHOICE = "Ukjent valg."

_DATA = re.compile(r"(take|close):([0-9]{1,10})|cat:([0-9]{1,10}):([0-9]{1,3})")
_STOP = re.compile(r"stop:(?:(network)|g:([0-9a-f]{12}))")
_RSVP = re.compile(r"rsvp:([0-9]{1,10}):(ja|nei|flere)(?::([0-9]{1,2}))?")
#: The «Vi kommer flere» numbers offered as buttons; more are answered by SMS.
MORE_PEOPLE = range(2, 9)


@dataclass(frozen=True, slots=True)
class Take:
    """Take conversation `contact_id`."""

    contact_id: int

    @property
    def data(self) -> str:
        return f"take:{self.contact_id}"


@dataclass(frozen=True, slots=True)
class Close:
    """Show the category buttons to close conversation `contact_id` with."""

    contact_id: int

    @property
    def data(self) -> str:
        return f"close:{self.contact_id}"


@dataclass(frozen=True, slots=True)
class Category:
    """Close conversation `contact_id` with category number `index` of the list."""

    contact_id: int
    index: int

    @property
    def data(self) -> str:
        return f"cat:{self.contact_id}:{self.index}"


@dataclass(frozen=True, slots=True)
class StopScope:
    """Stop the messages of one opt-out scope: `key` is `network`, or a group's key."""

    key: str

    @property
    def data(self) -> str:
        return "stop:network" if self.key == "network" else f"stop:g:{self.key}"


@dataclass(frozen=True, slots=True)
class RsvpYes:
    """Yes to event `event`, `people` coming."""

    event: int
    people: int = 1

    @property
    def data(self) -> str:
        return f"rsvp:{self.event}:ja" + (f":{self.people}" if self.people != 1 else "")


@dataclass(frozen=True, slots=True)
class RsvpNo:
    """No to event `event`."""

    event: int

    @property
    def data(self) -> str:
        return f"rsvp:{self.event}:nei"


@dataclass(frozen=True, slots=True)
class RsvpMore:
    """«Vi kommer flere»: ask how many (buttons `MORE_PEOPLE`)."""

    event: int

    @property
    def data(self) -> str:
        return f"rsvp:{self.event}:flere"


Rsvp = RsvpYes | RsvpNo | RsvpMore


@dataclass(frozen=True, slots=True)
class Unknown:
    """Data the helpline never put on a button."""


Choice = Take | Close | Category | StopScope | RsvpYes | RsvpNo | RsvpMore | Unknown


def parse_button(data: str | None, categories: int) -> Choice:
    """What button `data` asks for, with `categories` categories to close with."""
    stop = _STOP.fullmatch(data or "")
    if stop is not None:
        return StopScope(stop.group(1) or stop.group(2))
    rsvp = _RSVP.fullmatch(data or "")
    if rsvp is not None:
        return _rsvp(*rsvp.groups())
    match = _DATA.fullmatch(data or "")
    if match is None:
        return Unknown()
    action, plain_id, category_id, index = match.groups()
    contact_id = int(plain_id or category_id)
    if not 1 <= contact_id <= MAX_CONTACT_ID:
        return Unknown()
    if action == "take":
        return Take(contact_id)
    if action == "close":
        return Close(contact_id)
    return Category(contact_id, int(index)) if int(index) < categories else Unknown()


def _rsvp(event_text: str, word: str, people: str | None) -> Rsvp | Unknown:
    event = int(event_text)
    if not 1 <= event <= MAX_CONTACT_ID:
        return Unknown()
    if people is not None:
        count = int(people)
        return RsvpYes(event, count) if word == "ja" and count in MORE_PEOPLE else Unknown()
    if word == "ja":
        return RsvpYes(event)
    return RsvpNo(event) if word == "nei" else RsvpMore(event)


def rsvp_buttons(event: int) -> tuple[Button, ...]:
    """The buttons under an invitation, an offer or a reminder."""
    return (
        Button("Ja", RsvpYes(event).data),
        Button("Nei", RsvpNo(event).data),
        Button("Vi kommer flere", RsvpMore(event).data),
    )


def people_buttons(event: int) -> tuple[Button, ...]:
    """The numbers to tap after «Vi kommer flere»."""
    return tuple(Button(str(n), RsvpYes(event, n).data) for n in MORE_PEOPLE)
