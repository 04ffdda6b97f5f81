"""What foster homes read about events: invitations, confirmations, offers, reminders,
changes and cancellations, in Norwegian bokmål. Pure.

Times are given in the organisation's wall-clock time. SMS texts keep to GSM-7 (a hyphen,
not a dash), and the invitation to two segments with its STOPP footer and the link
(`invitation_fits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from routing.broadcasts import body_for
from routing.invitations import (
    Closed,
    Coming,
    NoRoomForMore,
    NotComing,
    Outcome,
    TooMany,
    Waitlisted,
)
from routing.segments import segments

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
KIND_LABELS = {
    "fagdag": "Fagdag",
    "nettverkstreff": "Nettverkstreff",
    "fosterhjemskafe": "Fosterhjemskafé",
}
MAX_INVITATION_SEGMENTS = 2
#: A link's token, as `secrets.token_urlsafe(24)` makes it: 32 characters.
TOKEN_LENGTH = 32


@dataclass(frozen=True, slots=True)
class EventText:
    """An event as its texts show it."""

    id: int
    title: str
    starts: datetime
    ends: datetime
    place: str
    rsvp_by: datetime
    tz: ZoneInfo
    note: str | None = None


def day(instant: datetime, tz: ZoneInfo) -> str:
    """'fredag 5. desember'."""
    local = instant.astimezone(tz)
    return f"{WEEKDAYS[local.weekday()]} {local.day}. {MONTHS[local.month - 1]}"


def clock(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%H:%M")


def deadline_day(rsvp_by: datetime, tz: ZoneInfo) -> str:
    """The answer deadline's day: midnight counts as the end of the day before."""
    local = rsvp_by.astimezone(tz)
    if (local.hour, local.minute) == (0, 0):
        return day(local - timedelta(days=1), tz)
    return day(local, tz)


def _when(event: EventText) -> str:
    return (
        f"{day(event.starts, event.tz)} kl. {clock(event.starts, event.tz)}-"
        f"{clock(event.ends, event.tz)}"
    )


def _how_to_answer(event: EventText) -> str:
    return f"Svar JA {event.id} eller NEI {event.id} innen {deadline_day(event.rsvp_by, event.tz)}"


def invitation(event: EventText, channel: str, link: str) -> str:
    """The invitation: title, weekday, date and time, place, how to answer, the link.
    SMS bodies get the STOPP footer (`routing.broadcasts.body_for`)."""
    if channel == "telegram":
        note = f"\n{event.note}" if event.note else ""
        text = (
            f"Invitasjon: {event.title}\n{_when(event)}\n{event.place}{note}\n\n"
            f"Svar innen {deadline_day(event.rsvp_by, event.tz)} med knappene under. "
            f"Svar og kalender: {link}"
        )
        return text
    text = (
        f"Invitasjon: {event.title}, {_when(event)}, {event.place}. {_how_to_answer(event)}. "
        f"Blir dere flere: JA {event.id} 3. Svar og kalender: {link}"
    )
    return body_for("sms", text)


def invitation_fits(event: EventText, link_base: str) -> bool:
    """Does the SMS invitation fit in two segments, with a link of full length?"""
    link = link_base + "x" * TOKEN_LENGTH
    return segments(invitation(event, "sms", link)).count <= MAX_INVITATION_SEGMENTS


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} personer"


def confirmation(event: EventText, outcome: Outcome, channel: str) -> str:
    """The answer to an answer: what was registered, and how to change it. On the answer
    page (`channel` "link") the way to change it is the page's own form."""
    title = event.title
    page = channel == "link"
    match outcome:
        case Coming(people, late, changed):
            head = "Svarfristen er ute, men det var plass. " if late else ""
            verb = "Endret: dere er nå påmeldt" if changed else "Takk! Dere er påmeldt"
            hint = "endre svaret her" if page else f"svar NEI {event.id}"
            return (
                f"{head}{verb} {title} {day(event.starts, event.tz)} kl. "
                f"{clock(event.starts, event.tz)} med {_people(people)}. Kan dere ikke "
                f"likevel, {hint}."
            )
        case Waitlisted(place, people, late, already):
            if already:
                return (
                    f"Du står fortsatt som nr. {place} på ventelisten til {title} "
                    f"({_people(people)}). Vi gir beskjed hvis det blir ledig plass."
                )
            head = "Svarfristen er ute, og det er fullt" if late else "Det er fullt"
            return (
                f"{head} på {title}. Du står som nr. {place} på ventelisten "
                f"({_people(people)}). Vi gir beskjed hvis det blir ledig plass."
            )
        case NotComing(late):
            return f"Takk for svaret. Vi har registrert at dere ikke kommer på {title}."
        case NoRoomForMore(kept):
            return (
                f"Det er ikke plass til flere på {title}. Dere står fortsatt påmeldt med "
                f"{_people(kept)}."
            )
        case TooMany(capacity):
            again = "Svar ja" if page else f"Svar JA {event.id}"
            return (
                f"{title} har plass til {_people(capacity)} i alt. {again} med "
                "færre, eller ta kontakt med den som inviterte dere."
            )
        case Closed("cancelled"):
            return f"{title} er avlyst, så vi tar ikke imot svar."
        case Closed():
            return f"{title} har allerede begynt, så vi tar ikke imot flere svar."
    raise AssertionError(outcome)  # every outcome is matched above


def unclear(open_events: list[tuple[int, str]], helpline_number: str | None) -> str:
    """The help text for an answer that could not be read, or not placed."""
    if not open_events:
        call = f" Trenger dere hjelp, ring {helpline_number}." if helpline_number else ""
        return f"Vi finner ingen åpen invitasjon til dere å svare på.{call}"
    if len(open_events) == 1:
        event_id, _ = open_events[0]
        return (
            f"Vi forstod ikke svaret. Svar JA {event_id} eller NEI {event_id}. "
            f"Blir dere flere, f.eks. JA {event_id} 3."
        )
    choices = ", ".join(f"JA {event_id} ({title})" for event_id, title in open_events)
    return f"Dere har flere invitasjoner. Svar med nummeret: {choices}, eller NEI og nummeret."


def ask_how_many(event: EventText) -> str:
    """After «Vi kommer flere» on Telegram."""
    return f"Hvor mange kommer dere på {event.title}? Trykk på tallet."


def until_day(until: datetime, now: datetime, tz: ZoneInfo) -> str:
    """`until`'s day as seen at `now`: 'i dag', 'i morgen' or 'fredag 5. desember'."""
    local, today = until.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return "i dag"
    if (local.date() - today.date()).days == 1:
        return "i morgen"
    return day(until, tz)


def offer(event: EventText, until: datetime, sent_at: datetime) -> str:
    """A place came free: claim it with JA before `until`."""
    when = until_day(until, sent_at, event.tz)
    return (
        f"Det er blitt ledig plass på {event.title} {day(event.starts, event.tz)} kl. "
        f"{clock(event.starts, event.tz)}. Vil dere ha plassen, svar JA {event.id} innen "
        f"kl. {clock(until, event.tz)} {when}."
    )


def offer_expired(event: EventText) -> str:
    return (
        f"Tilbudet om plass på {event.title} gikk ut, og plassen gikk videre. Vil dere "
        f"likevel komme, svar JA {event.id}: er det plass, får dere den."
    )


def no_answer_reminder(event: EventText) -> str:
    return f"Påminnelse: {event.title}, {_when(event)}, {event.place}. {_how_to_answer(event)}."


def day_before_reminder(event: EventText) -> str:
    return (
        f"Påminnelse: {event.title} er i morgen, {day(event.starts, event.tz)} kl. "
        f"{clock(event.starts, event.tz)}, {event.place}. Velkommen! Kan dere ikke likevel, "
        f"svar NEI {event.id}."
    )


def changed(event: EventText) -> str:
    return f"Endring: {event.title} er nå {_when(event)}, {event.place}."


def cancelled(event: EventText, reason: str | None) -> str:
    why = f" {reason.strip()}" if reason and reason.strip() else ""
    return f"Avlyst: {event.title} {day(event.starts, event.tz)} er avlyst.{why}"
