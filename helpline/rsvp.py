"""Answers to invitations: by SMS to the network number, and by the Telegram buttons under
an invitation. The reading is `routing.rsvp`, the deciding `routing.invitations`; here the
event is locked, the answer stored, freed places offered, and the answer confirmed.

Confirmations are `help`: each is the reply to the family's own message, so it is never
held by quiet hours and never stopped by STOPP (a home that said STOPP and answers is
still understood and told what was registered); it goes from the number written to.
Offers, reminders and the like stay `info`.

The SMS hook (`answer_by_sms`) takes only what is surely an answer: a message starting
with JA or NEI from a registered foster home to the network number. Where the
organisation has no network number, invitations come from the kommune's helpline number,
and there only the explicit `JA 12` / `NEI 12` / `JA 12 3` naming one of the home's open
invitations is an answer: anything else to a helpline number goes to the staff on duty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bootstrap import LoadedOrg
from helpline.db.models import EventRow, InvitationRow
from helpline.events import facts, lock, reply, standing, text_of
from helpline.invitations import make_offers
from helpline.messages import MessageWork
from helpline.settings import Settings
from rota.model import FosterHome
from rota.wallclock import zone
from routing import invitation_texts as say
from routing.audience import info_sender
from routing.buttons import RsvpMore, RsvpNo, RsvpYes, people_buttons
from routing.effects import AnswerButton, EventChanged
from routing.invitation_texts import EventText
from routing.invitations import Answered, Outcome, answer
from routing.ports import Button
from routing.rsvp import (
    Ambiguous,
    Chosen,
    NotAnAnswer,
    NotInvited,
    Rsvp,
    Unclear,
    choose_invitation,
    parse_answer,
)

#: A tap on a button of an invitation this home does not have (or that has ended).
UNKNOWN_INVITATION = "Denne invitasjonen er ikke åpen lenger."


@dataclass(frozen=True, slots=True)
class Taken:
    """An answer taken: what it did and the event it was to."""

    outcome: Outcome
    event: EventText
    changed: bool  # anything stored changed (the due job is to be looked at)


async def take(
    session: AsyncSession,
    loaded: LoadedOrg,
    settings: Settings,
    event_id: int,
    home: str,
    yes: bool,
    people: int,
    via: str,
    now: datetime,
) -> Taken | None:
    """Home `home` answers event `event_id`; None when it was not invited. Under the
    event's lock: concurrent answers are taken one at a time."""
    event = await lock(session, event_id)
    if event is None:
        return None
    rows = await standing(session, event_id, home)
    mine = next((r for r in rows if r.foster_home_id == home), None)
    if mine is None:
        return None
    decided: Answered = answer(
        facts(event), [reply(r) for r in rows], home, yes, people, now, event.counter
    )
    if decided.reply is not None:
        new = decided.reply
        mine.answer, mine.people, mine.queue = new.answer, new.people, new.queue
        mine.offer_until, mine.answered_at, mine.answered_via = new.offer_until, now, via
    if decided.frees:
        await make_offers(session, loaded, event, settings.waitlist_claim, now)
    text = text_of(event, zone(loaded.org.helpline.timezone))
    return Taken(decided.outcome, text, decided.reply is not None)


async def invited_to(session: AsyncSession, home: str) -> list[int]:
    """Every event the home was invited to."""
    rows = await session.scalars(
        select(InvitationRow.event_id).where(InvitationRow.foster_home_id == home)
    )
    return list(rows)


async def open_invitations(
    session: AsyncSession, home: str, now: datetime
) -> list[tuple[int, str]]:
    """The (event id, title) of the home's invitations that can still be answered."""
    rows = await session.execute(
        select(EventRow.id, EventRow.title)
        .join(InvitationRow, InvitationRow.event_id == EventRow.id)
        .where(
            InvitationRow.foster_home_id == home,
            EventRow.status == "open",
            EventRow.starts_at > now,
        )
        .order_by(EventRow.starts_at, EventRow.id)
    )
    return [(event_id, title) for event_id, title in rows]


def _confirm(work: MessageWork, channel: str, to: str, sender: str, body: str,
             buttons: tuple[Button, ...] = ()) -> None:  # fmt: skip
    row = work.services.outbox.queue(
        work.session, channel=channel, to=to, sender=sender, body=body, contact_id=None,
        kind="rsvp", buttons=buttons,
    )  # fmt: skip
    work.effects.rows.append(row)


def _answers_here(
    loaded: LoadedOrg, home: FosterHome, dialled: str, parsed: Rsvp | Unclear
) -> bool | None:
    """Is an answer to `dialled` this hook's? True: yes, on the network number; None:
    only if it names an open invitation (a helpline number that sends invitations);
    False: no."""
    network = loaded.org.helpline.network_number
    if network is not None:
        return dialled == network
    if info_sender(loaded.org, home.kommune) != dialled:
        return False
    return None if isinstance(parsed, Rsvp) and parsed.event is not None else False


async def answer_by_sms(work: MessageWork, sender: str, dialled: str, body: str) -> bool:
    """Take an SMS that answers an invitation; False when it is not one (the caller routes
    it on: group messages, the staff on duty)."""
    parsed = parse_answer(body)
    if isinstance(parsed, NotAnAnswer):
        return False
    home = work.loaded.directory.homes_by_phone.get(sender)
    if home is None:
        return False
    here = _answers_here(work.loaded, home, dialled, parsed)
    if here is False:
        return False
    open_events = await open_invitations(work.session, home.id, work.now)
    ids = [event_id for event_id, _ in open_events]
    every = await invited_to(work.session, home.id)
    if here is None and not (isinstance(parsed, Rsvp) and parsed.event in every):
        return False
    kommune_line = next(
        (k.numbers[0] for k in work.loaded.org.kommuner if k.id == home.kommune and k.numbers),
        None,
    )
    if isinstance(parsed, Unclear):
        _confirm(work, "sms", sender, dialled, say.unclear(open_events, kommune_line))
        return True
    choice = choose_invitation(parsed, ids, every)
    if isinstance(choice, NotInvited | Ambiguous):
        _confirm(work, "sms", sender, dialled, say.unclear(open_events, kommune_line))
        return True
    assert isinstance(choice, Chosen)
    taken = await take(
        work.session, work.loaded, work.services.settings, choice.event, home.id,
        parsed.yes, parsed.people, "sms", work.now,
    )  # fmt: skip
    if taken is None:  # invited a moment ago, and gone since: cannot happen under the lock
        _confirm(work, "sms", sender, dialled, say.unclear(open_events, kommune_line))
        return True
    _confirm(work, "sms", sender, dialled, say.confirmation(taken.event, taken.outcome, "sms"))
    work.effects.after.append(EventChanged(choice.event))
    return True


async def answer_by_button(
    work: MessageWork,
    home: FosterHome,
    chat_id: int,
    query_id: str,
    choice: RsvpYes | RsvpNo | RsvpMore,
) -> None:
    """A foster home tapped «Ja», «Nei», «Vi kommer flere» or a number under an
    invitation; the answer is confirmed in the chat."""
    if choice.event not in await invited_to(work.session, home.id):
        work.effects.after.append(AnswerButton(query_id, UNKNOWN_INVITATION))
        return
    to = str(chat_id)
    if isinstance(choice, RsvpMore):
        event = await work.session.get(EventRow, choice.event)
        assert event is not None
        text = text_of(event, zone(work.loaded.org.helpline.timezone))
        work.effects.after.append(AnswerButton(query_id, ""))
        _confirm(work, "telegram", to, "bot", say.ask_how_many(text), people_buttons(event.id))
        return
    yes = isinstance(choice, RsvpYes)
    people = choice.people if isinstance(choice, RsvpYes) else 0
    taken = await take(
        work.session, work.loaded, work.services.settings, choice.event, home.id, yes,
        people, "telegram", work.now,
    )  # fmt: skip
    if taken is None:
        work.effects.after.append(AnswerButton(query_id, UNKNOWN_INVITATION))
        return
    work.effects.after.append(AnswerButton(query_id, "Svaret er registrert."))
    _confirm(work, "telegram", to, "bot", say.confirmation(taken.event, taken.outcome, "telegram"))
    work.effects.after.append(EventChanged(choice.event))
