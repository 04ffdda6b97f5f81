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

from saq import CronJob, Queue, Worker
from saq.queue.redis import RedisQueue
from saq.types import Context as SaqContext

from helpline.bootstrap import Services

log = logging.getLogger(__name__)

QUEUE_NAME = "helpline"
COVERAGE_HORIZON = timedelta(days=14)



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


def make_queue(services: Services) -> Queue:
    """The job queue, on its own Redis connection (saq closes it on disconnect)."""
    return RedisQueue.from_url(services.redis_url, name=QUEUE_NAME)


def make_worker(services: Services, queue: Queue) -> Worker[Context]:
    """A saq worker with our jobs; `services` reach them through the job context."""

    async def startup(ctx: Context) -> None:
        ctx["services"] = services

    return Worker(
        queue,
        functions=[watch_coverage],
        cron_jobs=[CronJob(watch_coverage, cron="7 * * * *")],
        startup=startup,
        concurrency=20,
    )


@asynccontextmanager
async def running_worker(services: Services) -> AsyncIterator[Worker[Context]]:
    """Run a worker in the background of the current event loop until exit."""
    queue = make_queue(services)
    worker = make_worker(services, queue)
    worker.SIGNALS = []  # the host process (aiohttp) owns SIGINT/SIGTERM
    task = asyncio.create_task(worker.start(), name="saq-worker")
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await queue.disconnect()
