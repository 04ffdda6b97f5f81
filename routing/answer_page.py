"""The answer page of a family's personal link (`/svar/<token>`): what it says about the
event and the family's answer, what its form means, and the confirmation it shows after an
answer. Pure: the event, the answers standing and the time are handed in.

After an answer the page redirects to itself with a receipt (`?kvittering=ja`). The
confirmation is rebuilt from the receipt and the answer as it stands now, and shown only
when the two agree: a receipt from an older answer, or one typed by hand, shows nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from routing.invitation_texts import KIND_LABELS, EventText, clock, day, deadline_day, until_day
from routing.invitations import (
    Coming,
    EventFacts,
    NotComing,
    Outcome,
    Reply,
    Waitlisted,
    free_places,
    position,
)
from routing.rsvp import MAX_PEOPLE

Choice = Literal["ja", "nei"]

CHOICE_MISSING = "Velg om dere kommer eller ikke."
PEOPLE_INVALID = f"Skriv hvor mange som kommer, som et tall fra 1 til {MAX_PEOPLE}."
#: The form was made for an answer that has changed since (or it was sent twice).
STALE = (
    "Svaret deres er endret siden siden ble lastet, så vi har ikke registrert dette. "
    "Her er svaret slik det står nå. Send skjemaet på nytt hvis dere vil endre det."
)


# -- the form ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormAnswer:
    """A valid answer: yes with `people` coming, or no (`people` 0)."""

    yes: bool
    people: int


@dataclass(frozen=True, slots=True)
class FormErrors:
    """What is wrong with the form, field by field (None: that field is fine), and what
    was sent, to show again."""

    choice: str | None
    people: str | None
    chosen: Choice | None
    typed: str


def read_form(choice: str | None, people: str | None) -> FormAnswer | FormErrors:
    """The answer the form sent: `svar` is "ja" or "nei", `antall` (for ja) 1 to
    `MAX_PEOPLE`."""
    chosen: Choice | None = "ja" if choice == "ja" else "nei" if choice == "nei" else None
    typed = (people or "").strip()
    if chosen == "nei":
        return FormAnswer(False, 0)
    count = int(typed) if typed.isascii() and typed.isdigit() and len(typed) <= 3 else 0
    people_error = PEOPLE_INVALID if chosen == "ja" and not 1 <= count <= MAX_PEOPLE else None
    if chosen is None or people_error is not None:
        return FormErrors(None if chosen else CHOICE_MISSING, people_error, chosen, typed)
    return FormAnswer(True, count)


# -- the page ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerView:
    """What the page shows. `closed`: why no answers are taken (None: the form is shown);
    `chosen` and `people`: the form's preset, the answer as it stands."""

    title: str
    kind: str
    when: str
    place: str
    deadline: str
    note: str | None
    status: str
    offer: str | None
    closed: str | None
    notices: tuple[str, ...]
    chosen: Choice | None
    people: int


def when(event: EventText) -> str:
    """'torsdag 10. desember kl. 18:00–20:00' (or both days when it ends on another)."""
    tz = event.tz
    if event.starts.astimezone(tz).date() == event.ends.astimezone(tz).date():
        return f"{day(event.starts, tz)} kl. {clock(event.starts, tz)}–{clock(event.ends, tz)}"
    return (
        f"{day(event.starts, tz)} kl. {clock(event.starts, tz)} – "
        f"{day(event.ends, tz)} kl. {clock(event.ends, tz)}"
    )


def deadline(event: EventText) -> str:
    """The answer deadline: 'lørdag 5. desember' when it is the end of that day (midnight
    after it), else with its time."""
    local = event.rsvp_by.astimezone(event.tz)
    if (local.hour, local.minute) == (0, 0):
        return deadline_day(event.rsvp_by, event.tz)
    return f"{day(event.rsvp_by, event.tz)} kl. {clock(event.rsvp_by, event.tz)}"


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count} personer"


def _status(mine: Reply, replies: Sequence[Reply]) -> str:
    match mine.answer:
        case "yes":
            return f"Dere er påmeldt med {_people(mine.people)}."
        case "waitlist":
            return (
                f"Dere står som nr. {position(replies, mine.home)} på ventelisten "
                f"({_people(mine.people)}). Vi gir beskjed hvis det blir ledig plass."
            )
        case "no":
            return "Dere har svart at dere ikke kommer."
        case "expired":
            return (
                "Tilbudet om plass gikk ut, og plassen gikk videre. Vil dere likevel komme, "
                "svar ja: er det plass, får dere den."
            )
    return "Dere har ikke svart ennå."


def view(
    event: EventText,
    kind: str,
    facts: EventFacts,
    replies: Sequence[Reply],
    home: str,
    now: datetime,
    cancel_reason: str | None = None,
) -> AnswerView:
    """The page of home `home` at `now`; `replies`: every answer that holds or waits for a
    place, and the home's own."""
    mine = next(r for r in replies if r.home == home)
    offer = None
    if mine.holds_offer(now):
        assert mine.offer_until is not None
        offer = (
            f"Det er blitt ledig plass til dere. Vil dere ha plassen, svar ja innen kl. "
            f"{clock(mine.offer_until, event.tz)} {until_day(mine.offer_until, now, event.tz)}."
        )
    closed = None
    notices: list[str] = []
    if facts.cancelled:
        why = f" {cancel_reason.strip()}" if cancel_reason and cancel_reason.strip() else ""
        closed = f"{event.title} er avlyst.{why} Vi tar ikke imot svar."
    elif now >= facts.starts:
        closed = f"{event.title} har allerede begynt, så vi tar ikke imot flere svar."
    else:
        if now > facts.rsvp_by:
            rest = (
                "er det plass, får dere den, ellers kommer dere på ventelisten"
                if facts.capacity is not None
                else "svaret blir registrert"
            )
            notices.append(f"Svarfristen er ute, men dere kan fortsatt svare: {rest}.")
        free = free_places(replies, facts.capacity, now)
        if free == 0 and mine.answer != "yes" and offer is None:
            notices.append("Det er fullt nå. Svarer dere ja, kommer dere på ventelisten.")
    chosen: Choice | None = (
        "ja" if mine.answer in ("yes", "waitlist") else "nei" if mine.answer == "no" else None
    )
    return AnswerView(
        event.title, KIND_LABELS.get(kind, kind), when(event), event.place, deadline(event),
        event.note, _status(mine, replies), offer, closed, tuple(notices), chosen,
        mine.people if mine.answer in ("yes", "waitlist") and mine.people > 0 else 1,
    )  # fmt: skip


# -- receipts ---------------------------------------------------------------------------------

_LATE = "-sent"


def receipt(outcome: Outcome) -> str | None:
    """The receipt an answer redirects with; None for outcomes that change nothing and are
    told beside the form (too many people, no room for more, closed)."""
    match outcome:
        case Coming(_, late, changed):
            code = "endret" if changed else "ja"
        case Waitlisted(_, _, late, already):
            code = "fortsatt" if already else "venteliste"
        case NotComing(late):
            code = "nei"
        case _:
            return None
    return code + (_LATE if late else "")


def confirmed(code: str, replies: Sequence[Reply], home: str) -> Outcome | None:
    """The outcome receipt `code` stands for, when the home's answer still agrees."""
    base, late = (code[: -len(_LATE)], True) if code.endswith(_LATE) else (code, False)
    mine = next(r for r in replies if r.home == home)
    if base in ("ja", "endret") and mine.answer == "yes":
        return Coming(mine.people, late, base == "endret")
    if base in ("venteliste", "fortsatt") and mine.answer == "waitlist":
        return Waitlisted(position(replies, home), mine.people, late, base == "fortsatt")
    if base == "nei" and mine.answer == "no":
        return NotComing(late)
    return None
