"""The durable side of events: offers that run out, the waitlist moving on, and reminders.

`run_due` does whatever is due for one event at the time it runs, under the event's lock:
offers past their end expire (the home is told, once) and the next homes get offers;
reminders due and not sent go out, each once per (event, kind, home). It is run by a saq
job scheduled at the event's next due instant (`after_change`), and by a minute sweep
for every open event, so a lost job costs at most a minute; it re-checks the database,
so a run that is late or repeated does nothing wrong.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from saq import Job
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import sender
from helpline.bootstrap import LoadedOrg, Services
from helpline.db.models import EventRow, InvitationRow
from helpline.events import facts, invitations, lock, reply, text_of
from helpline.invitations import make_offers, notify, sent_notices
from rota.wallclock import zone
from routing import invitation_texts as say
from routing.invitations import due_reminders, expired, next_due

log = logging.getLogger(__name__)

EVENT_DUE_JOB = "event_due"
SWEEP_PAST = timedelta(days=1)  # events that started longer ago are done
SCHEDULE_MARGIN = 0.05


async def run_due(services: Services, event_id: int) -> int:
    """Do what is due for the event now; returns how many homes were sent something."""
    loaded = await services.organisation()
    if loaded is None:
        return 0
    now = services.clock()
    async with services.sessions() as session, session.begin():
        event = await lock(session, event_id)
        if event is None or event.status == "cancelled" or now >= event.starts_at:
            return 0
        sent = await _expire(session, loaded, event, now)
        await make_offers(session, loaded, event, services.settings.waitlist_claim, now)
        sent += await _remind(session, loaded, services, event, now)
    await after_change(services, event_id)
    return sent


async def _expire(session: AsyncSession, loaded: LoadedOrg, event: EventRow, now: datetime) -> int:
    rows = await invitations(session, event.id)
    by_home = {r.foster_home_id: r for r in rows}
    gone = expired([reply(r) for r in rows], now)
    text = text_of(event, zone(loaded.org.helpline.timezone))
    for lapsed in gone:
        row = by_home[lapsed.home]
        row.answer, row.offer_until, row.answered_at = "expired", None, now
        await notify(
            session, loaded, event, [(f"expired:{row.queue}", lapsed.home)],
            lambda _channel: say.offer_expired(text), now,
        )  # fmt: skip
    if gone:
        log.info("event %d: %d waitlist offers expired", event.id, len(gone))
    return len(gone)


async def _remind(
    session: AsyncSession, loaded: LoadedOrg, services: Services, event: EventRow, now: datetime
) -> int:
    tz = zone(loaded.org.helpline.timezone)
    rows = await invitations(session, event.id)
    due = due_reminders(
        facts(event),
        [reply(r) for r in rows],
        await sent_notices(session, event.id),
        now,
        services.settings.event_reminder_at,
        tz,
    )
    text = text_of(event, tz)
    first = [(d.kind, d.home) for d in due if d.kind == "no_answer"]
    second = [(d.kind, d.home) for d in due if d.kind == "day_before"]
    sent = await notify(
        session, loaded, event, first, lambda _c: say.no_answer_reminder(text), now, buttons=True
    )
    sent += await notify(
        session, loaded, event, second, lambda _c: say.day_before_reminder(text), now
    )
    return sent


async def after_change(services: Services, event_id: int) -> None:
    """After a commit that stored an event's messages or answers: start the sending lanes
    and schedule the event's next due run. Redis trouble is logged; the sweep catches up."""
    await sender.kick(services)
    loaded = await services.organisation()
    if loaded is None:
        return
    now = services.clock()
    async with services.sessions() as session:
        event = await session.get(EventRow, event_id)
        if event is None:
            return
        offered = await session.scalars(  # offers are the only due times answers make
            select(InvitationRow).where(
                InvitationRow.event_id == event_id,
                InvitationRow.answer == "waitlist",
                InvitationRow.offer_until.is_not(None),
            )
        )
        rows = list(offered)
    when = next_due(
        facts(event),
        [reply(r) for r in rows],
        now,
        services.settings.event_reminder_at,
        zone(loaded.org.helpline.timezone),
    )
    if when is not None:
        await schedule(services, event_id, when)


async def schedule(services: Services, event_id: int, when: datetime) -> None:
    """A durable job running `run_due` for the event at `when` (one per instant)."""
    try:
        await services.queue.enqueue(
            Job(
                function=EVENT_DUE_JOB,
                kwargs={"event_id": event_id},
                key=f"event_due:{event_id}:{int(when.timestamp())}",
                scheduled=when.timestamp() + SCHEDULE_MARGIN,  # type: ignore[arg-type]  # a float score, as in helpline.effects
                retries=5,
                retry_delay=5.0,
                timeout=300,
            )
        )
    except Exception as error:  # the minute sweep runs it instead
        log.error("due run of event %d not scheduled: %s", event_id, type(error).__name__)


async def open_events(services: Services) -> list[int]:
    """The events the sweep looks at: not cancelled, not long begun."""
    since = services.clock() - SWEEP_PAST
    async with services.sessions() as session:
        rows = await session.scalars(
            select(EventRow.id).where(EventRow.status == "open", EventRow.starts_at > since)
        )
        return list(rows)
