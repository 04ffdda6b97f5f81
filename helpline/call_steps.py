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

from helpline import intake, metrics
from helpline.bootstrap import LoadedOrg
from helpline.db.models import AttemptRow, ContactRow
from helpline.twiml import VoiceTwiml
from rota.phones import e164_or_none
from routing import texts
from routing.call_plan import (
    CallPlan,
    Connected,
    Dial,
    DialStep,
    NextAction,
    TakeVoicemail,
    dial_ended,
    ended_outcome,
    first_action,
    screening,
)


class UnknownCall(LookupError):
    """A webhook names a contact or step this service never created."""


@dataclass(frozen=True, slots=True)
class CallContext:
    session: AsyncSession
    twiml: VoiceTwiml
    now: datetime


async def start_call(
    ctx: CallContext, loaded: LoadedOrg, form: Mapping[str, str], default_kommune: str | None
) -> str:
    """A new call: identify the caller, freeze the plan, greet and ring the first step."""
    caller = e164_or_none(form.get("From", ""))
    dialled = e164_or_none(form.get("To", ""))
    routed = intake.route(loaded, caller, dialled, default_kommune, ctx.now)
    contact = await intake.open_call(
        ctx.session,
        routed,
        caller=caller or form.get("From", ""),
        line=dialled or form.get("To", ""),
        call_sid=form["CallSid"],
        now=ctx.now,
    )
    greeting = texts.greeting(routed.kommune.name if routed.kommune else None)
    return await _act(ctx, contact, first_action(CallPlan.from_json(contact.plan)), greeting)


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
    attempt.outcome = screening(digits, taken=contact.answered_at is not None)
    if attempt.outcome == "declined":
        return ctx.twiml.say_and_hang_up(texts.whisper_no_key())
    contact.answered_at = ctx.now
    contact.answered_by = attempt.name
    contact.outcome = "answered"
    metrics.contact_reached(ctx.session, "voice", "answered")
    return ctx.twiml.say(texts.whisper_connecting())


async def dialled(ctx: CallContext, contact_id: int, step: int, dial_status: str) -> str:
    """A `<Dial>` ended: connected calls end; otherwise ring the next step or voicemail."""
    contact = await _contact(ctx.session, contact_id)
    attempt = await _attempt(ctx.session, contact_id, step)
    attempt.ended_at = ctx.now
    result = dial_ended(CallPlan.from_json(contact.plan), step, attempt.outcome, dial_status)
    attempt.outcome = result.outcome
    if isinstance(result.next, Dial | TakeVoicemail):
        kind = "next_step" if isinstance(result.next, Dial) else "exhausted"
        metrics.escalated(ctx.session, "voice", kind)
    return await _act(ctx, contact, result.next, texts.trying_next())


async def recorded(ctx: CallContext, contact_id: int, form: Mapping[str, str]) -> str:
    """The caller left a voicemail: an urgent contact; the chain is told by SMS (a job)."""
    contact = await _contact(ctx.session, contact_id)
    if contact.outcome != "voicemail":
        metrics.contact_reached(ctx.session, "voice", "voicemail")
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
    outcome = ended_outcome(form.get("CallStatus", ""), contact.outcome) if contact else None
    if contact is None or outcome is None:
        return
    contact.ended_at = contact.ended_at or ctx.now
    duration = form.get("CallDuration", "")
    if duration.isdigit():
        contact.duration_seconds = int(duration)
    if outcome != contact.outcome:
        metrics.contact_reached(ctx.session, "voice", outcome)
    contact.outcome = outcome


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
    return AttemptRow(
        contact_id=contact_id,
        step=step.index,
        role=step.role,
        team_id=step.team,
        person_id=step.person,
        name=step.name,
        phone=step.phone,
        started_at=now,
        outcome="ringing",
    )


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
