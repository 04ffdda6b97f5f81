"""Carrying out a unit of work's effects after its transaction committed: deliver the
queued messages, schedule and cancel the durable deadline jobs, schedule follow-up batches."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from saq import Job

from helpline.bootstrap import Services
from helpline.messages import Effects
from routing.ports import ChannelError

log = logging.getLogger(__name__)


SCHEDULE_MARGIN = 0.05  # seconds after the deadline a job becomes due


def deadline_key(contact_id: int, step: int, due: datetime) -> str:
    """One job per (conversation, step, deadline): a reassigned plan gets new keys."""
    return f"deadline:{contact_id}:{step}:{math.ceil(due.timestamp())}"


async def schedule_deadline(services: Services, contact_id: int, step: int, due: datetime) -> None:
    """A durable job that runs `message_deadline` for the conversation at `due`."""
    await services.queue.enqueue(
        Job(
            function="message_deadline",
            kwargs={"contact_id": contact_id},
            key=deadline_key(contact_id, step, due),
            # saq keeps `scheduled` as a float score in Redis (typed int); a whole-second
            # value would add up to a second. The margin covers clock skew between workers.
            scheduled=due.timestamp() + SCHEDULE_MARGIN,  # type: ignore[arg-type]
            retries=5,  # would find nothing to do
            retry_delay=2.0,
            timeout=60,
        )
    )


def followup_key(contact_id: int, window: int) -> str:
    """One batch job per (conversation, follow-up window): 29 follow-ups enqueue it once."""
    return f"followup:{contact_id}:{window}"


async def schedule_followup_batch(
    services: Services, contact_id: int, window: int, due: datetime
) -> None:
    """A durable job that sends the window's batch notice (`followup_batch`) at `due`."""
    await services.queue.enqueue(
        Job(
            function="followup_batch",
            kwargs={"contact_id": contact_id},
            key=followup_key(contact_id, window),
            scheduled=due.timestamp() + SCHEDULE_MARGIN,  # type: ignore[arg-type]  # a float, as above
            retries=5,  # a repeated run finds nothing left to tell
            retry_delay=2.0,
            timeout=60,
        )
    )


async def apply_effects(services: Services, effects: Effects) -> None:
    """Deliver, schedule and cancel; Redis trouble is logged, the sweep job catches up."""
    await services.outbox.deliver([row.id for row in effects.rows])
    for contact_id, step, due in effects.deadlines:
        try:
            await schedule_deadline(services, contact_id, step, due)
        except Exception as error:  # the every-minute sweep escalates without the job
            log.error("deadline of conversation %d not scheduled: %s", contact_id,
                      type(error).__name__)  # fmt: skip
    for contact_id, window, due in effects.followup_batches:
        try:
            await schedule_followup_batch(services, contact_id, window, due)
        except Exception as error:  # the every-minute follow-up sweep sends it instead
            log.error("follow-up batch of conversation %d not scheduled: %s", contact_id,
                      type(error).__name__)  # fmt: skip
    await _buttons(services, effects)
    for contact_id, step, due in effects.cancelled:
        try:
            job = await services.queue.job(deadline_key(contact_id, step, due))
            if job is not None:
                await services.queue.abort(job, "taken")
        except Exception as error:  # a job that still runs re-checks and does nothing
            log.warning("deadline of conversation %d not cancelled: %s", contact_id,
                        type(error).__name__)  # fmt: skip


async def _buttons(services: Services, effects: Effects) -> None:
    bot = services.telegram
    if bot is None:
        return
    try:
        for query_id, text in effects.button_answers:
            await bot.answer_button(callback_query_id=query_id, text=text)
        for chat_id, message_id, buttons in effects.button_edits:
            await bot.edit_buttons(chat_id=chat_id, message_id=message_id, buttons=buttons)
    except ChannelError as error:  # a button spinner is cosmetic; the decision is stored
        log.warning("Telegram button answer failed: %s", error)
