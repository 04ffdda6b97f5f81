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

from saq import CronJob, Job, Worker
from saq.types import Context as SaqContext
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.db.models import ContactRow
from rota.wallclock import OSLO, zone
from routing import texts
from routing.calls import CallPlan
from routing.ports import ChannelError

log = logging.getLogger(__name__)

COVERAGE_HORIZON = timedelta(days=14)
VOICEMAIL_SWEEP_WINDOW = timedelta(hours=48)


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
    """SMS everyone in a voicemail's chain how to call back; returns how many were sent.

    Runs again safely: numbers the outbox shows as already told are skipped."""
    services = ctx["services"]
    async with services.sessions() as session:
        contact = await session.get(ContactRow, contact_id)
    if contact is None or contact.outcome != "voicemail":
        return 0
    loaded = await services.organisation()
    tz = zone(loaded.org.helpline.timezone if loaded else OSLO)
    body = texts.voicemail_sms(contact.foster_home_name, contact.kommune_name,
                               contact.started_at.astimezone(tz), contact.caller)  # fmt: skip
    sent = 0
    for phone in dict.fromkeys(step.phone for step in CallPlan.from_json(contact.plan).steps):
        if await services.outbox.already_sent(contact_id, phone):
            continue
        try:
            await services.outbox.send_sms(
                to=phone, from_=contact.helpline_number, body=body, contact_id=contact_id
            )
            sent += 1
        except ChannelError as error:
            if error.retryable:
                raise  # saq retries the job; numbers already told are skipped then
            log.error("voicemail notice for contact %d not deliverable: %s", contact_id, error)
    return sent


async def sweep_voicemail_notices(ctx: Context) -> int:
    """Catch voicemail notices whose job was never enqueued (Redis was down)."""
    services = ctx["services"]
    since = services.clock() - VOICEMAIL_SWEEP_WINDOW
    async with services.sessions() as session:
        ids = list(await session.scalars(select(ContactRow.id).where(
            ContactRow.outcome == "voicemail", ContactRow.started_at >= since)))  # fmt: skip
    return sum([await notify_voicemail(ctx, contact_id=i) for i in ids])


async def enqueue_voicemail_notice(services: Services, contact_id: int) -> None:
    """Queue the voicemail notice of a contact (once per contact while it is pending)."""
    await services.queue.enqueue(
        Job(
            function="notify_voicemail",
            kwargs={"contact_id": contact_id},
            key=f"voicemail:{contact_id}",
            retries=10,
            retry_delay=5.0,
            retry_backoff=True,
            timeout=60,
        )
    )


def make_worker(services: Services) -> Worker[Context]:
    """A saq worker with our jobs; `services` reach them through the job context."""

    async def startup(ctx: Context) -> None:
        ctx["services"] = services

    return Worker(
        services.queue,
        functions=[watch_coverage, notify_voicemail, sweep_voicemail_notices],
        cron_jobs=[
            CronJob(watch_coverage, cron="7 * * * *"),
            CronJob(sweep_voicemail_notices, cron="* * * * *"),
        ],
        startup=startup,
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
