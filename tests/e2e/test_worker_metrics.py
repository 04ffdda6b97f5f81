"""A real `helpline worker` serves its own `/metrics` on `HELPLINE_WORKER_METRICS_PORT`:
the lateness of the jobs it ran, and the health it reads at each scrape."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from saq import Job

from bench.harness import free_port
from helpline.bootstrap import Services
from tests.e2e.test_escalation_restart import worker_env

pytestmark = pytest.mark.e2e


async def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            text = await response.text()
    except aiohttp.ClientError:
        return None  # not listening yet
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_the_worker_reports_job_lateness_and_health_on_its_own_port(
    services: Services, tmp_path: Path
) -> None:
    """On an emptied database and Redis (the `services` fixture): a job an earlier test
    left queued would be run and counted too."""
    settings = services.settings
    port = free_port()
    env = worker_env(settings) | {"HELPLINE_WORKER_METRICS_PORT": str(port)}
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "helpline.cli", "worker", env=env, stdout=out, stderr=out
        )
    late = ("helpline_job_lateness_seconds_count", frozenset({("job", "notify_voicemail")}))
    samples = None
    try:
        due = int(time.time()) - 30
        job = Job(function="notify_voicemail", kwargs={"contact_id": 0}, scheduled=due)
        await services.queue.enqueue(job)
        for _ in range(600):  # until the worker ran it (bounded; no time is asserted)
            samples = await scrape(f"http://127.0.0.1:{port}/metrics")
            if samples is not None and samples.get(late):
                break
            await asyncio.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.wait_for(worker.wait(), 30)
    assert samples is not None and samples.get(late) == 1, log.read_text()
    up = "helpline_dependency_up"
    assert samples[(up, frozenset({("dependency", "database")}))] == 1
    assert samples[(up, frozenset({("dependency", "redis")}))] == 1
    total = ("helpline_job_lateness_seconds_sum", frozenset({("job", "notify_voicemail")}))
    assert samples[total] >= 30
