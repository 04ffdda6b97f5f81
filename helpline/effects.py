"""Carrying out a unit of work's effects after its transaction committed: deliver the
queued messages, schedule and cancel the durable jobs, answer Telegram buttons.

The effects are `routing.effects` values; the jobs they start are named here once
(`DEADLINE_JOB`, ...), for the enqueuers below and the worker's registration in
`helpline.jobs`. Deadlines go on our own timer (`helpline.timers`), not on saq's
schedule: its 1 s poll and 60 s sweep are what made escalations late.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from saq import Job

from helpline import event_jobs, sender, timers
from helpline.bootstrap import Services
from helpline.db.models import OutboxRow
from routing.effects import (
    AfterCommit,
    AnswerButton,
    CancelDeadline,
    EditButtons,
    EventChanged,
    ScheduleDeadline,
    ScheduleFollowupBatch,
    StartPacedLanes,
)
from routing.ports import ChannelError

log = logging.getLogger(__name__)

#: A conversation's deadline passed: escalate or alert (`helpline.jobs.message_deadline`).
DEADLINE_JOB = "message_deadline"
#: The kind of the timer's deadline members (`deadline_key`).
DEADLINE_KIND = "deadline"
#: A follow-up window ended: its batch notice (`helpline.jobs.followup_batch`).
FOLLOWUP_BATCH_JOB = "followup_batch"
#: A voicemail was left: SMS the chain how to call back (`helpline.jobs.notify_voicemail`).
VOICEMAIL_NOTICE_JOB = "notify_voicemail"

_E = TypeVar("_E", bound=AfterCommit)

SCHEDULE_MARGIN = 0.05  # seconds after the deadline a job becomes due


@dataclass
class Effects:
    """What to do once the transaction has committed: the outbox rows to deliver, and
    the jobs and button answers the decisions asked for, in order."""

    rows: list[OutboxRow] = field(default_factory=list)
    after: list[AfterCommit] = field(default_factory=list)


def deadline_key(contact_id: int, step: int, due: datetime) -> str:
    """One timer member per (conversation, step, deadline): a reassigned plan gets new
    keys. (Deadline jobs that saq still holds from before the timer used the same keys.)"""
    return f"{DEADLINE_KIND}:{contact_id}:{step}:{math.ceil(due.timestamp())}"


def deadline_contact(key: str) -> int:
    """The conversation of a `deadline_key`."""
    kind, contact_id, _step, _due = key.split(":")
    if kind != DEADLINE_KIND:
        raise ValueError(f"not a deadline key: {key!r}")
    return int(contact_id)


async def schedule_deadline(services: Services, deadline: ScheduleDeadline) -> None:
    """Put the conversation's deadline on the timer: `message_deadline` runs at `due`.
    The margin covers clock skew between the web process and the workers."""
    key = deadline_key(deadline.contact_id, deadline.step, deadline.due)
    await timers.add(services.redis, key, deadline.due.timestamp() + SCHEDULE_MARGIN)


def followup_key(contact_id: int, window: int) -> str:
    """One batch job per (conversation, follow-up window): 29 follow-ups enqueue it once."""
    return f"followup:{contact_id}:{window}"


async def schedule_followup_batch(services: Services, batch: ScheduleFollowupBatch) -> None:
    """A durable job that sends the window's batch notice (`followup_batch`) at `due`."""
    await services.queue.enqueue(
        Job(
            function=FOLLOWUP_BATCH_JOB,
            kwargs={"contact_id": batch.contact_id},
            key=followup_key(batch.contact_id, batch.window),
            # saq keeps `scheduled` as a float score in Redis (typed int); a whole-second
            # value would add up to a second.
            scheduled=batch.due.timestamp() + SCHEDULE_MARGIN,  # type: ignore[arg-type]  # a float score
            retries=5,  # a repeated run finds nothing left to tell
            retry_delay=2.0,
            timeout=60,
        )
    )


async def enqueue_voicemail_notice(services: Services, contact_id: int) -> None:
    """Queue the voicemail notice of a contact (once per contact while it is pending)."""
    await services.queue.enqueue(
        Job(
            function=VOICEMAIL_NOTICE_JOB,
            kwargs={"contact_id": contact_id},
            key=f"voicemail:{contact_id}",
            retries=10,
            retry_delay=5.0,
            retry_backoff=True,
            timeout=60,
        )
    )


async def apply_effects(services: Services, effects: Effects) -> None:
    """Schedule, deliver and cancel; Redis trouble is logged, the sweep job catches up.

    Deadlines go on the timer first: delivering waits for the vendors (or, under load,
    for a database connection), and a deadline must not fall due before it is set."""
    for deadline in _of(effects, ScheduleDeadline):
        try:
            await schedule_deadline(services, deadline)
        except Exception as error:  # the timer's resync or the every-minute sweep catch up
            log.error(
                "deadline of conversation %d not scheduled: %s",
                deadline.contact_id,
                type(error).__name__,
            )
    await services.outbox.deliver([row.id for row in effects.rows])
    for batch in _of(effects, ScheduleFollowupBatch):
        try:
            await schedule_followup_batch(services, batch)
        except Exception as error:  # the every-minute follow-up sweep sends it instead
            log.error(
                "follow-up batch of conversation %d not scheduled: %s",
                batch.contact_id,
                type(error).__name__,
            )
    await _buttons(services, effects)
    if _of(effects, StartPacedLanes):
        await sender.kick(services)  # logs Redis trouble; the workers' watch starts them too
    for event_id in dict.fromkeys(changed.event_id for changed in _of(effects, EventChanged)):
        await event_jobs.after_change(services, event_id)
    for cancel in _of(effects, CancelDeadline):
        try:
            key = deadline_key(cancel.contact_id, cancel.step, cancel.due)
            await timers.cancel(services.redis, key)
        except Exception as error:  # a deadline that still runs re-checks and does nothing
            log.warning(
                "deadline of conversation %d not cancelled: %s",
                cancel.contact_id,
                type(error).__name__,
            )


def _of(effects: Effects, kind: type[_E]) -> list[_E]:
    return [effect for effect in effects.after if isinstance(effect, kind)]


async def _buttons(services: Services, effects: Effects) -> None:
    bot = services.telegram
    if bot is None:
        return
    try:
        for answer in _of(effects, AnswerButton):
            await bot.answer_button(callback_query_id=answer.query_id, text=answer.text)
        for edit in _of(effects, EditButtons):
            await bot.edit_buttons(
                chat_id=edit.chat_id, message_id=edit.message_id, buttons=edit.buttons
            )
    except ChannelError as error:  # a button spinner is cosmetic; the decision is stored
        log.warning("Telegram button answer failed: %s", error)
