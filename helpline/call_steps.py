"""The phone line's steps: each webhook step loads the contact, asks `routing`, stores.

Functions here take an open session (inside `events.once`) and return the TwiML to
answer; the pure decisions live in `routing.call_plan`, the words in `routing.texts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.bootstrap import LoadedOrg
from helpline.db.models import AttemptRow, ContactRow
from helpline.twiml import VoiceTwiml
from rota.model import ChainEntry
from rota.phones import e164_or_none, mask_phone
from routing import texts
from routing.call_plan import (
    CallPlan,
    Connected,
    Dial,
    DialStep,
    NextAction,
    TakeVoicemail,
    after_attempt,
    first_action,
    freeze_plan,
)

#: Twilio's DialCallStatus for a leg that never accepted, as our attempt outcome.
_DIAL_OUTCOMES = {"completed": "declined", "answered": "declined", "no-answer": "no-answer",
                  "busy": "busy", "failed": "failed", "canceled": "canceled"}  # fmt: skip
_FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


class UnknownCall(LookupError):
    """A webhook names a contact or step this service never created."""


@dataclass(frozen=True, slots=True)
class CallContext:
    session: AsyncSession
    twiml: VoiceTwiml
    now: datetime


async def start_call(ctx: CallContext, loaded: LoadedOrg, form: Mapping[str, str],
                     default_kommune: str | None) -> str:  # fmt: skip
    """A new call: identify the caller, freeze the plan, greet and ring the first step."""
    caller = e164_or_none(form.get("From", ""))
    dialled = e164_or_none(form.get("To", ""))
    who = loaded.directory.identify(caller, dialled, default_kommune)
    kommune = who.kommune
    chain = loaded.rota.on_duty(kommune.id, ctx.now) if kommune else ()
    if not chain:  # no kommune at all: still never nobody
        fallback = loaded.org.helpline.fallback_phone
        chain = (ChainEntry("fallback", None, None, "Reservenummer", fallback),)
    plan = freeze_plan(chain)
    contact = ContactRow(
        channel="voice",
        kommune_id=kommune.id if kommune else None,
        kommune_name=kommune.name if kommune else None,
        foster_home_id=who.foster_home.id if who.foster_home else None,
        foster_home_name=who.foster_home.name if who.foster_home else None,
        caller=caller or form.get("From", ""),
        caller_masked=mask_phone(caller or form.get("From", "")),
        helpline_number=dialled or form.get("To", ""),
        call_sid=form["CallSid"],
        started_at=ctx.now,
        outcome="in_progress",
        plan=plan.to_json(),
    )
    ctx.session.add(contact)
    await ctx.session.flush()
    greeting = texts.greeting(kommune.name if kommune else None)
    return await _act(ctx, contact, first_action(plan), greeting)


async def screen(ctx: CallContext, contact_id: int, step: int) -> str:
    """The staff member picked up: whisper who is calling and ask for a key press."""
    contact = await _contact(ctx.session, contact_id)
    await _attempt(ctx.session, contact_id, step)
    return ctx.twiml.screening(
        texts.whisper(contact.foster_home_name, contact.kommune_name), contact_id, step
    )


async def screened(ctx: CallContext, contact_id: int, step: int, digits: str) -> str:
    """The key the staff member pressed: 1 takes the call, anything else passes it on."""
    contact = await _contact(ctx.session, contact_id)
    attempt = await _attempt(ctx.session, contact_id, step)
    if digits.strip() != "1" or contact.answered_at is not None:
        attempt.outcome = "declined"
        return ctx.twiml.say_and_hang_up(texts.whisper_no_key())
    attempt.outcome = "accepted"
    contact.answered_at = ctx.now
    contact.answered_by = attempt.name
    contact.outcome = "answered"
    return ctx.twiml.say(texts.whisper_connecting())


async def dialled(ctx: CallContext, contact_id: int, step: int, dial_status: str) -> str:
    """A `<Dial>` ended: connected calls end; otherwise ring the next step or voicemail."""
    contact = await _contact(ctx.session, contact_id)
    attempt = await _attempt(ctx.session, contact_id, step)
    attempt.ended_at = ctx.now
    accepted = attempt.outcome == "accepted"
    if not accepted:
        attempt.outcome = _DIAL_OUTCOMES.get(dial_status, dial_status or "no-answer")
    action = after_attempt(CallPlan.from_json(contact.plan), step, accepted)
    return await _act(ctx, contact, action, texts.trying_next())


async def recorded(ctx: CallContext, contact_id: int, form: Mapping[str, str]) -> str:
    """The caller left a voicemail: an urgent contact; the chain is told by SMS (a job)."""
    contact = await _contact(ctx.session, contact_id)
    contact.outcome = "voicemail"
    contact.urgent = True
    contact.recording_url = form.get("RecordingUrl") or None
    duration = form.get("RecordingDuration", "")
    contact.recording_seconds = int(duration) if duration.isdigit() else None
    return ctx.twiml.say_and_hang_up(texts.voicemail_thanks())


async def call_status(ctx: CallContext, form: Mapping[str, str]) -> None:
    """Twilio's status callback: the call ended; fill in end time, duration, outcome."""
    contact = await ctx.session.scalar(
        select(ContactRow).where(ContactRow.call_sid == form.get("CallSid", ""))
    )
    if contact is None or form.get("CallStatus") not in _FINAL_CALL_STATUSES:
        return
    contact.ended_at = contact.ended_at or ctx.now
    duration = form.get("CallDuration", "")
    if duration.isdigit():
        contact.duration_seconds = int(duration)
    if contact.outcome == "in_progress":
        contact.outcome = "abandoned"


async def _act(ctx: CallContext, contact: ContactRow, action: NextAction, say: str) -> str:
    match action:
        case Dial(step=step):
            ctx.session.add(_attempt_row(contact.id, step, ctx.now))
            return ctx.twiml.dial(say, step, contact.id, contact.helpline_number)
        case TakeVoicemail():
            return ctx.twiml.voicemail(contact.id)
        case Connected():
            return ctx.twiml.hang_up()


def _attempt_row(contact_id: int, step: DialStep, now: datetime) -> AttemptRow:
    return AttemptRow(contact_id=contact_id, step=step.index, role=step.role,
                      team_id=step.team, person_id=step.person, name=step.name,
                      phone=step.phone, started_at=now, outcome="ringing")  # fmt: skip


async def _contact(session: AsyncSession, contact_id: int) -> ContactRow:
    contact = await session.get(ContactRow, contact_id)
    if contact is None:
        raise UnknownCall(f"no contact {contact_id}")
    return contact


async def _attempt(session: AsyncSession, contact_id: int, step: int) -> AttemptRow:
    attempt = await session.scalar(
        select(AttemptRow).where(AttemptRow.contact_id == contact_id, AttemptRow.step == step)
    )
    if attempt is None:
        raise UnknownCall(f"no attempt {step} of contact {contact_id}")
    return attempt
