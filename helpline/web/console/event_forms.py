"""The Arrangementer page's forms: what a coordinator typed, read into the values the
command line and the API make (`Draft`, `Change`, an audience), and the events code's
English refusals turned into Norwegian beside the field they are about.

The rules stay where they are (`routing.event_rules`, `helpline.events`); this module only
reads the form's strings and translates. A time without an offset is the organisation's
wall-clock time, as `helpline event create` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from helpline.commands.common import CommandError
from helpline.commands.events import instant
from helpline.events import Change, EventProblem
from helpline.web.event_schemas import TEXT_PATTERN
from routing.event_rules import MAX_CAPACITY, MAX_NOTE, MAX_PLACE, MAX_TITLE, Draft

CREATE_FIELDS = ("kind", "title", "starts", "ends", "place", "capacity", "rsvp_by", "audience",
                 "note")  # fmt: skip
CHANGE_FIELDS = ("starts", "ends", "place", "capacity")
MAX_REASON = 300  # as the API takes it
GENERAL = "general"  # an error about the whole form, not one field

_REASON = re.compile(TEXT_PATTERN)
_WHOLE = re.compile(r"[0-9]{1,6}")
_CAPACITY = f"Antall plasser må være et helt tall fra 1 til {MAX_CAPACITY:,}.".replace(",", " ")
_TIME = "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-10 18:00."
_MISSING_TIME = {"starts": "Skriv når arrangementet begynner.",
                 "ends": "Skriv når arrangementet slutter."}  # fmt: skip

#: The events code's refusals (English, for operators) and what the coordinator reads:
#: (pattern, field, Norwegian); `{0}` is the pattern's first group.
_TRANSLATIONS: tuple[tuple[str, str, str], ...] = (
    (r"kind: .*", "kind", "Velg hva slags arrangement det er."),
    (r"title: at most [0-9]+ characters, not ([0-9]+)", "title",
     f"Tittelen kan ha høyst {MAX_TITLE} tegn, ikke {{0}}."),
    (r"title: .*", "title", "Skriv en tittel, uten linjeskift."),
    (r"place: at most [0-9]+ characters, not ([0-9]+)", "place",
     f"Stedet kan ha høyst {MAX_PLACE} tegn, ikke {{0}}."),
    (r"place: .*", "place", "Skriv hvor arrangementet er, uten linjeskift."),
    (r"note: at most [0-9]+ characters, not ([0-9]+)", "note",
     f"Merknaden kan ha høyst {MAX_NOTE} tegn, ikke {{0}}."),
    (r"note: .*", "note", "Merknaden kan ikke ha kontrolltegn."),
    (r"ends: must be after starts", "ends", "Slutten må være etter starten."),
    (r"starts: must be in the future", "starts", "Starten må være fram i tid."),
    (r"capacity: .*", "capacity", _CAPACITY),
    (r"rsvp-by: must not be after the start", "rsvp_by",
     "Svarfristen kan ikke være etter at arrangementet begynner."),
    (r"rsvp-by: must be in the future", "rsvp_by", "Svarfristen må være fram i tid."),
    (r"title and place are too long .*", "title",
     "Tittel og sted blir for lange for en invitasjon på to SMS-er. Gjør dem kortere."),
    (r"audience: a koordinator's event needs an audience", "audience",
     "Skriv hvem som skal inviteres."),
    (r"audience: .*", "audience",
     "Skriv mottakerne som kommune:ID, group:ID, home:ID eller team:ID, skilt med komma."),
    (r"no ((?:kommune|group|home|team):.*)", "audience", "Finner ikke {0}."),
    (r"event [0-9]+ has no audience.*", "audience",
     "Arrangementet har ingen mottakere. Legg til mottakere først."),
    (r"event [0-9]+ is cancelled already", GENERAL, "Arrangementet er allerede avlyst."),
    (r"event [0-9]+ is cancelled", GENERAL, "Arrangementet er avlyst."),
    (r"event [0-9]+ has begun", GENERAL, "Arrangementet har begynt."),
    (r"not invited to event [0-9]+: (.*)", "present", "Ikke invitert: {0}."),
)  # fmt: skip
_COMPILED = tuple((re.compile(p), f, n) for p, f, n in _TRANSLATIONS)
FALLBACK = "Dette kunne ikke lagres. Sjekk feltene og prøv igjen."


def translate(problem: EventProblem) -> tuple[str, str]:
    """The field an event refusal is about and its Norwegian text."""
    message = str(problem)
    for pattern, name, norwegian in _COMPILED:
        match = pattern.fullmatch(message)
        if match is not None:
            return name, norwegian.format(*match.groups())
    return GENERAL, FALLBACK


@dataclass
class Read:
    """A form read: its values as typed (to show again) and the errors by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def _typed(form: Mapping[str, object], names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in names}


def _instant(
    read: Read, name: str, timezone: str, required: bool, end_of_day: bool = False
) -> datetime | None:
    text = read.values[name].strip()
    if not text:
        if required:
            read.errors[name] = _MISSING_TIME[name]
        return None
    try:
        value = instant(text, name, timezone, end_of_day=end_of_day)
    except CommandError:
        value = None
    if value is None or not 2000 <= value.year <= 2100:
        read.errors[name] = _TIME
        return None
    return value


def _capacity(read: Read) -> int | None:
    text = read.values["capacity"].strip().replace(" ", "")
    if not text:
        return None
    if not _WHOLE.fullmatch(text):
        read.errors["capacity"] = _CAPACITY
        return None
    return int(text)


def read_draft(form: Mapping[str, object], timezone: str) -> tuple[Read, Draft | None, str | None]:
    """The create form as a `Draft` and an audience (None: none given), or the errors of
    the fields that could not be read at all; `check_draft` judges the rest."""
    read = Read(_typed(form, CREATE_FIELDS))
    starts = _instant(read, "starts", timezone, required=True)
    ends = _instant(read, "ends", timezone, required=True)
    rsvp_by = _instant(read, "rsvp_by", timezone, required=False, end_of_day=True)
    capacity = _capacity(read)
    if read.errors or starts is None or ends is None:
        return read, None, None
    values = read.values
    draft = Draft(
        values["kind"], values["title"], starts, ends, values["place"], capacity, rsvp_by,
        values["note"] if values["note"].strip() else None,
    )  # fmt: skip
    audience = values["audience"].strip() or None
    return read, draft, audience


def read_change(form: Mapping[str, object], timezone: str) -> tuple[Read, Change | None]:
    """The change form as a `Change`; an empty field keeps what the event has."""
    read = Read(_typed(form, CHANGE_FIELDS))
    starts = _instant(read, "starts", timezone, required=False)
    ends = _instant(read, "ends", timezone, required=False)
    capacity = _capacity(read)
    if read.errors:
        return read, None
    place = read.values["place"]
    return read, Change(starts, ends, place if place.strip() else None, capacity)


def read_reason(form: Mapping[str, object]) -> tuple[Read, str | None]:
    """The cancellation's reason (None: none given), checked as the API checks it."""
    read = Read(_typed(form, ("reason",)))
    reason = read.values["reason"].strip()
    if not reason:
        return read, None
    if len(reason) > MAX_REASON or not _REASON.fullmatch(reason):
        read.errors["reason"] = f"Begrunnelsen kan ha høyst {MAX_REASON} tegn, uten linjeskift."
    return read, reason
