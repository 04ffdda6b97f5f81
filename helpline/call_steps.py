"""The phone line's steps: each webhook step reads the call, asks `routing`, stores.

Each step is one `events.step_once`: one statement reads the step's stored answer (a
retry ends there) with the contact and attempt it needs, a pure `decide` here turns them
into the TwiML and the rows to write, and one more statement stores both (SQLAlchemy
Core, no unit of work). The decisions live in `routing.call_plan`, the words in
`routing.texts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from helpline import intake
from helpline.bootstrap import LoadedOrg
from helpline.db.events import Decision, StepRow, Write, step_once
from helpline.db.models import AttemptRow, ContactRow
from helpline.metrics import CONTACTS, ESCALATIONS
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
    freeze_plan,
    screening,
)

CONTACTS_T: Table = ContactRow.__table__  # type: ignore[assignment]  # a mapped Table
ATTEMPTS_T: Table = AttemptRow.__table__  # type: ignore[assignment]
C, A = CONTACTS_T.c, ATTEMPTS_T.c


class UnknownCall(LookupError):
    """A webhook names a contact or step this service never created."""


@dataclass(frozen=True, slots=True)
class CallContext:
    """One step's event key, where it stores, how it renders, and its instant."""

    engine: AsyncEngine
    twiml: VoiceTwiml
    now: datetime
    key: str

    async def once(
        self,
        read: Select[Any] | None,
        params: Mapping[str, Any],
        decide: Callable[[StepRow | None, int | None], Decision],
        new: Write | None = None,
    ) -> str:
        return await step_once(self.engine, self._now, self.key, read, params, decide, new)

    def _now(self) -> datetime:
        return self.now  # the step's one instant


def _counted(counter: Any, *labels: str) -> Callable[[], None]:
    return counter.labels(*labels).inc  # type: ignore[no-any-return]


async def start_call(
    ctx: CallContext, loaded: LoadedOrg, form: Mapping[str, str], default_kommune: str | None
) -> str:
    """A new call: identify the caller, freeze the plan, greet and ring the first step."""
    caller = e164_or_none(form.get("From", ""))
    dialled = e164_or_none(form.get("To", ""))
    routed = intake.route(loaded, caller, dialled, default_kommune, ctx.now)
    plan = freeze_plan(routed.chain)
    values = intake.call_values(
        routed,
        plan,
        caller=caller or form.get("From", ""),
        line=dialled or form.get("To", ""),
        call_sid=form["CallSid"],
        now=ctx.now,
    )
    greeting = texts.greeting(routed.kommune.name if routed.kommune else None)

    def decide(_row: StepRow | None, contact_id: int | None) -> Decision:
        assert contact_id is not None
        line = str(values["helpline_number"])
        answer, attempt = _act(ctx, contact_id, line, first_action(plan), greeting)
        writes = (attempt,) if attempt else ()
        return Decision(answer, writes, [_counted(CONTACTS, "voice", "in_progress")])

    return await ctx.once(None, {}, decide, Write(CONTACTS_T, values))


def _read(*columns: Any, attempt: bool = True) -> Select[Any]:
    """The contact `:contact_id` (and its attempt `:step`) as one row; built once."""
    if not attempt:
        return select(*columns).where(C.id == bindparam("contact_id"))
    on = and_(A.contact_id == C.id, A.step == bindparam("step"))
    joined = CONTACTS_T.outerjoin(ATTEMPTS_T, on)
    return select(*columns).select_from(joined).where(C.id == bindparam("contact_id"))


_SCREEN = _read(C.foster_home_name, C.kommune_name, A.id.label("attempt_id"))
_SCREENED = _read(C.answered_at, A.id.label("attempt_id"), A.name)
_DIALLED = _read(C.plan, C.helpline_number, A.id.label("attempt_id"), A.outcome)
_RECORDED = _read(C.outcome, attempt=False)
_STATUS = select(C.id, C.outcome, C.ended_at).where(C.call_sid == bindparam("call_sid"))


def _known(row: StepRow | None, contact_id: int, step: int | None = None) -> StepRow:
    if row is None:
        raise UnknownCall(f"no contact {contact_id}")
    if step is not None and row.attempt_id is None:
        raise UnknownCall(f"no attempt {step} of contact {contact_id}")
    return row


async def screen(ctx: CallContext, contact_id: int, step: int) -> str:
    """The staff member picked up: whisper who is calling and ask for a key press."""

    def decide(row: StepRow | None, _new: int | None) -> Decision:
        known = _known(row, contact_id, step)
        whisper = texts.whisper(known.foster_home_name, known.kommune_name)
        return Decision(ctx.twiml.screening(whisper, contact_id, step))

    return await ctx.once(_SCREEN, {"contact_id": contact_id, "step": step}, decide)


async def screened(ctx: CallContext, contact_id: int, step: int, digits: str) -> str:
    """The key the staff member pressed: 1 takes the call, anything else passes it on."""

    def decide(row: StepRow | None, _new: int | None) -> Decision:
        known = _known(row, contact_id, step)
        outcome = screening(digits, taken=known.answered_at is not None)
        attempt = Write(ATTEMPTS_T, {"outcome": outcome}, {"id": known.attempt_id})
        if outcome == "declined":
            return Decision(ctx.twiml.say_and_hang_up(texts.whisper_no_key()), (attempt,))
        taken = {"answered_at": ctx.now, "answered_by": known.name, "outcome": "answered"}
        contact = Write(CONTACTS_T, taken, {"id": contact_id})
        counted = [_counted(CONTACTS, "voice", "answered")]
        return Decision(ctx.twiml.say(texts.whisper_connecting()), (attempt, contact), counted)

    return await ctx.once(_SCREENED, {"contact_id": contact_id, "step": step}, decide)


async def dialled(ctx: CallContext, contact_id: int, step: int, dial_status: str) -> str:
    """A `<Dial>` ended: connected calls end; otherwise ring the next step or voicemail."""

    def decide(row: StepRow | None, _new: int | None) -> Decision:
        known = _known(row, contact_id, step)
        result = dial_ended(CallPlan.from_json(known.plan), step, known.outcome, dial_status)
        ended = {"ended_at": ctx.now, "outcome": result.outcome}
        writes = [Write(ATTEMPTS_T, ended, {"id": known.attempt_id})]
        counted = []
        if isinstance(result.next, Dial | TakeVoicemail):
            kind = "next_step" if isinstance(result.next, Dial) else "exhausted"
            counted.append(_counted(ESCALATIONS, "voice", kind))
        say = texts.trying_next()
        answer, attempt = _act(ctx, contact_id, known.helpline_number, result.next, say)
        if attempt is not None:
            writes.append(attempt)
        return Decision(answer, writes, counted)

    return await ctx.once(_DIALLED, {"contact_id": contact_id, "step": step}, decide)


async def recorded(ctx: CallContext, contact_id: int, form: Mapping[str, str]) -> str:
    """The caller left a voicemail: an urgent contact; the chain is told by SMS (a job)."""
    duration = form.get("RecordingDuration", "")

    def decide(row: StepRow | None, _new: int | None) -> Decision:
        known = _known(row, contact_id)
        values = {
            "outcome": "voicemail",
            "urgent": True,
            "recording_url": form.get("RecordingUrl") or None,
            "recording_seconds": int(duration) if duration.isdigit() else None,
        }
        counted = [] if known.outcome == "voicemail" else [_counted(CONTACTS, "voice", "voicemail")]
        write = Write(CONTACTS_T, values, {"id": contact_id})
        return Decision(ctx.twiml.say_and_hang_up(texts.voicemail_thanks()), (write,), counted)

    return await ctx.once(_RECORDED, {"contact_id": contact_id}, decide)


async def call_status(ctx: CallContext, form: Mapping[str, str]) -> None:
    """Twilio's status callback: the call ended; fill in end time, duration, outcome."""
    duration = form.get("CallDuration", "")

    def decide(row: StepRow | None, _new: int | None) -> Decision:
        outcome = ended_outcome(form.get("CallStatus", ""), row.outcome) if row else None
        if row is None or outcome is None:
            return Decision("")
        values: dict[str, Any] = {"ended_at": row.ended_at or ctx.now}
        if duration.isdigit():
            values["duration_seconds"] = int(duration)
        values["outcome"] = outcome
        counted = [] if outcome == row.outcome else [_counted(CONTACTS, "voice", outcome)]
        return Decision("", (Write(CONTACTS_T, values, {"id": row.id}),), counted)

    await ctx.once(_STATUS, {"call_sid": form.get("CallSid", "")}, decide)


def _act(
    ctx: CallContext, contact_id: int, line: str, action: NextAction, say: str
) -> tuple[str, Write | None]:
    """What `action` answers, and the attempt it starts."""
    match action:
        case Dial(step=step):
            answer = ctx.twiml.dial(say, step, contact_id, line)
            return answer, _attempt(contact_id, step, ctx.now)
        case TakeVoicemail():
            return ctx.twiml.voicemail(contact_id), None
        case Connected():
            return ctx.twiml.hang_up(), None


def _attempt(contact_id: int, step: DialStep, now: datetime) -> Write:
    return Write(
        ATTEMPTS_T,
        {
            "contact_id": contact_id,
            "step": step.index,
            "role": step.role,
            "team_id": step.team,
            "person_id": step.person,
            "name": step.name,
            "phone": step.phone,
            "started_at": now,
            "outcome": "ringing",
        },
    )
