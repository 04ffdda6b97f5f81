"""Durable jobs on a saq queue in Redis, run by `helpline worker` or inside `serve`.

Jobs are thin: they load state, ask the pure core, store or report the result. The
database stays the source of truth; a job that runs late or twice re-checks it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from saq import CronJob, Worker
from saq.types import Context as SaqContext
from sqlalchemy import select

from helpline import deadlines, event_jobs, flood, metrics, paced_rows, retention, sender, timers
from helpline.bootstrap import Services
from helpline.db.models import ContactRow, MessageRow
from helpline.effects import (
    DEADLINE_JOB,
    DEADLINE_KIND,
    FOLLOWUP_BATCH_JOB,
    VOICEMAIL_NOTICE_JOB,
    Effects,
    apply_effects,
    deadline_contact,
)
from helpline.messages import MessageWork
from rota.wallclock import OSLO, zone
from routing import texts
from routing.call_plan import CallPlan, voicemail_audience

log = logging.getLogger(__name__)

COVERAGE_HORIZON = timedelta(days=14)
VOICEMAIL_SWEEP_WINDOW = timedelta(hours=48)
FOLLOWUP_SWEEP_WINDOW = timedelta(hours=48)
KIND = "voicemail"
#: Deadlines one worker runs at once. Beside saq's 20 jobs (mostly idle sweeps) this can
#: outgrow the database pool (30): a run that waits out its pool timeout is given back to
#: the timer and retried, and 10 slots held deadlines back under load.
TIMER_SLOTS = 20


class Context(SaqContext, total=False):
    """The job context: saq's fields and our services."""

    services: Services


async def watch_coverage(ctx: Context) -> int:
    """Warn operators about coverage gaps in the coming two weeks; returns their count."""
    services: Services = ctx["services"]
    loaded = await services.organisation()
    if loaded is None:
        return 0
    now = services.clock()
    gaps = loaded.rota.gaps(now, now + COVERAGE_HORIZON)
    for gap in gaps:
        log.warning(
            "coverage gap: kommune %s has nobody on duty from %s to %s",
            gap.kommune,
            gap.start.isoformat(),
            gap.end.isoformat(),
        )
    return len(gaps)


async def notify_voicemail(ctx: Context, *, contact_id: int) -> int:
    """SMS everyone in a voicemail's chain how to call back; returns how many were queued.

    Runs again safely: numbers the outbox already holds a notice for are skipped."""
    services = ctx["services"]
    async with services.sessions() as session:
        contact = await session.get(ContactRow, contact_id)
    if contact is None or contact.outcome != "voicemail":
        return 0
    loaded = await services.organisation()
    tz = zone(loaded.org.helpline.timezone if loaded else OSLO)
    body = texts.voicemail_sms(
        contact.foster_home_name,
        contact.kommune_name,
        contact.started_at.astimezone(tz),
        contact.caller,
    )
    phones = voicemail_audience(CallPlan.from_json(contact.plan))
    fresh = [p for p in phones if not await services.outbox.already_queued(contact_id, p, KIND)]
    async with services.sessions() as session, session.begin():
        rows = [
            services.outbox.queue(
                session,
                channel="sms",
                to=phone,
                body=body,
                kind=KIND,
                sender=contact.helpline_number,
                contact_id=contact_id,
            )
            for phone in fresh
        ]
    await services.outbox.deliver([row.id for row in rows])
    return len(rows)


async def sweep_voicemail_notices(ctx: Context) -> int:
    """Catch voicemail notices whose job was never enqueued (Redis was down)."""
    services = ctx["services"]
    since = services.clock() - VOICEMAIL_SWEEP_WINDOW
    async with services.sessions() as session:
        ids = list(
            await session.scalars(
                select(ContactRow.id).where(
                    ContactRow.outcome == "voicemail", ContactRow.started_at >= since
                )
            )
        )
    return sum([await notify_voicemail(ctx, contact_id=i) for i in ids])


async def deliver_outbox(ctx: Context) -> int:
    """Deliver messages left pending by a crash or a vendor outage."""
    return await ctx["services"].outbox.deliver_pending()


async def message_deadline(ctx: Context, *, contact_id: int) -> None:
    """A conversation's deadline passed: escalate or alert, unless it was taken meanwhile.

    Late or repeated runs re-check the stored state and do nothing wrong. (Run from the
    timer, `run_deadline`; saq still runs deadline jobs it held from before the timer.)"""
    await run_deadline(ctx["services"], contact_id)


async def run_deadline(services: Services, contact_id: int) -> None:
    """`message_deadline` for one conversation."""
    loaded = await services.organisation()
    if loaded is None:
        return
    effects = Effects()
    async with services.sessions() as session, session.begin():
        contact = await session.scalar(
            select(ContactRow).where(ContactRow.id == contact_id).with_for_update()
        )
        if contact is None or contact.message_plan is None:
            return
        work = MessageWork(services, session, loaded, services.clock(), effects)
        await deadlines.deadline(work, contact)
    await apply_effects(services, effects)


async def sweep_conversations(ctx: Context) -> int:
    """Every minute: move conversations nobody has taken at a shift change, and escalate
    any whose deadline job was lost. Returns how many conversations were looked at."""
    services = ctx["services"]
    loaded = await services.organisation()
    if loaded is None:
        return 0
    now = services.clock()
    async with services.sessions() as session:
        rows = list(
            await session.scalars(
                select(ContactRow).where(
                    ContactRow.message_plan.is_not(None),
                    ContactRow.closed_at.is_(None),
                    ContactRow.answered_at.is_(None),
                    ContactRow.content_purged_at.is_(None),
                )
            )
        )
    # Decided on the rows read once; only those with something due are locked and acted
    # on, each in its own transaction (10,000 open conversations were 10,000 a minute).
    due = [row.id for row in rows if deadlines.has_work(loaded, row, now)]
    for contact_id in due:
        effects = Effects()
        async with services.sessions() as session, session.begin():
            contact = await session.scalar(
                select(ContactRow).where(ContactRow.id == contact_id).with_for_update()
            )
            if contact is None or contact.answered_at is not None:
                continue
            work = MessageWork(services, session, loaded, services.clock(), effects)
            await deadlines.shift_change(work, contact)
            await deadlines.deadline(work, contact)
        await apply_effects(services, effects)
    return len(rows)


async def followup_batch(ctx: Context, *, contact_id: int) -> int:
    """A follow-up window ended: one notice of the follow-ups staff were not told of yet.

    Reads the messages after the conversation's stored mark, so a late, repeated or
    concurrent run tells nothing twice; returns how many messages it told."""
    services = ctx["services"]
    loaded = await services.organisation()
    if loaded is None:
        return 0
    effects = Effects()
    async with services.sessions() as session, session.begin():
        contact = await session.scalar(
            select(ContactRow).where(ContactRow.id == contact_id).with_for_update()
        )
        if contact is None or contact.message_plan is None:
            return 0
        work = MessageWork(services, session, loaded, services.clock(), effects)
        told = await flood.notify_pending(work, contact)
    await apply_effects(services, effects)
    return told


async def sweep_followups(ctx: Context) -> int:
    """Every minute: send batch notices whose job was lost (Redis down when it was to be
    scheduled); returns how many conversations had follow-ups left untold."""
    services = ctx["services"]
    now = services.clock()
    settled = now - timedelta(seconds=services.settings.followup_batch)
    async with services.sessions() as session:
        ids = list(
            await session.scalars(
                select(MessageRow.contact_id)
                .join(ContactRow, ContactRow.id == MessageRow.contact_id)
                .where(
                    MessageRow.direction == "in",
                    MessageRow.created_at > ContactRow.followup_notified_at,
                    MessageRow.created_at <= settled,
                    MessageRow.created_at >= now - FOLLOWUP_SWEEP_WINDOW,
                )
                .distinct()
            )
        )
    for contact_id in ids:
        await followup_batch(ctx, contact_id=contact_id)
    return len(ids)


async def purge_content(ctx: Context) -> int:
    """Daily: blank content past `HELPLINE_RETENTION_DAYS` (see `helpline.retention`);
    returns how many contacts were purged. A recording Twilio could not delete keeps its
    contact for the next day's run."""
    services = ctx["services"]
    async with retention.recordings_for(services.settings) as recordings:
        counts = await retention.purge(services, dry_run=False, recordings=recordings)
    return counts.contacts


async def send_queued(ctx: Context, *, lane: int, seq: int) -> int:
    """One job of a paced sending lane (group and info messages; see `helpline.sender`)."""
    return await sender.run_lane(ctx["services"], lane, seq)


async def sweep_paced(ctx: Context) -> int:
    """Every minute: held messages whose time came are queued, claims of dead senders are
    taken back, and the sending lanes are started if there is work; returns the rows moved."""
    services = ctx["services"]
    now = services.clock()
    moved = await paced_rows.release_held(services.sessions, now)
    moved += len(await paced_rows.recover_stuck(services.sessions, now))
    if await paced_rows.has_due(services.sessions, now):
        await sender.kick(services)
    return moved


async def observe_lateness(ctx: Context) -> None:
    """Before each job: how late it started against its due time (`scheduled`), or its
    enqueueing when it was due at once (`helpline_job_lateness_seconds`)."""
    job = ctx.get("job")
    if job is None:
        return
    due = job.scheduled or job.queued / 1000  # seconds; `queued` is in milliseconds
    metrics.job_started(job.function, float(due), job.started / 1000)


async def event_due(ctx: Context, *, event_id: int) -> int:
    """An event's offer ran out or a reminder fell due (`helpline.event_jobs.run_due`)."""
    return await event_jobs.run_due(ctx["services"], event_id)


async def sweep_events(ctx: Context) -> int:
    """Every minute: what is due for every open event, in case its job was lost; returns
    how many homes were sent something."""
    services = ctx["services"]
    return sum(
        [await event_jobs.run_due(services, i) for i in await event_jobs.open_events(services)]
    )


def make_timer(services: Services) -> timers.Timer:
    """The deadline timer (`helpline.timers`) on the services' Redis, database and clock."""

    async def fire(member: str) -> None:
        await run_deadline(services, deadline_contact(member))

    async def resync() -> int:
        return await deadlines.resync(services)

    return timers.Timer(
        services.redis,
        {DEADLINE_KIND: timers.Route(DEADLINE_JOB, fire)},
        resync=resync,
        clock=lambda: services.clock().timestamp(),
        slots=TIMER_SLOTS,
    )


def make_worker(services: Services) -> Worker[Context]:
    """A saq worker with our jobs and the deadline timer beside it; `services` reach the
    jobs through the job context."""

    watches: list[asyncio.Task[None]] = []

    async def startup(ctx: Context) -> None:
        ctx["services"] = services
        watches.append(asyncio.create_task(sender.watch(services), name="sending-watch"))
        watches.append(asyncio.create_task(make_timer(services).run(), name="deadline-timer"))

    async def shutdown(ctx: Context) -> None:
        for watch in watches:
            watch.cancel()
        await asyncio.gather(*watches, return_exceptions=True)

    return Worker(
        services.queue,
        functions=[
            watch_coverage,
            (VOICEMAIL_NOTICE_JOB, notify_voicemail),
            sweep_voicemail_notices,
            deliver_outbox,
            (DEADLINE_JOB, message_deadline),
            sweep_conversations,
            (FOLLOWUP_BATCH_JOB, followup_batch),
            sweep_followups,
            purge_content,
            send_queued,
            sweep_paced,
            (event_jobs.EVENT_DUE_JOB, event_due),
            sweep_events,
        ],
        cron_jobs=[
            CronJob(watch_coverage, cron="7 * * * *"),
            CronJob(sweep_voicemail_notices, cron="* * * * *"),
            CronJob(deliver_outbox, cron="* * * * *"),
            CronJob(sweep_conversations, cron="* * * * *", timeout=300),
            CronJob(sweep_followups, cron="* * * * *", timeout=300),
            CronJob(purge_content, cron="23 3 * * *", timeout=3600),
            CronJob(sweep_paced, cron="* * * * *", timeout=120),
            CronJob(sweep_events, cron="* * * * *", timeout=300),
        ],
        startup=startup,
        shutdown=shutdown,
        before_process=observe_lateness,
        concurrency=20,
    )


@asynccontextmanager
async def running_worker(services: Services) -> AsyncIterator[Worker[Context]]:
    """Run a worker in the background of the current event loop until exit."""
    worker = make_worker(services)
    worker.SIGNALS = []  # the host process (aiohttp) owns SIGINT/SIGTERM
    task = asyncio.create_task(worker.start(), name="saq-worker")
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
