"""`/metrics` over the real database and Redis: what signed webhooks, deadlines, jobs and
paced sends move, what the scrape reads of the state, and what no label may carry."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from saq import Job
from sqlalchemy import select

from helpline import metrics
from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.engine import make_engine
from helpline.db.models import ContactRow
from helpline.jobs import Context, message_deadline, running_worker
from helpline.sender import PacedSender
from helpline.simulator.forms import incoming_call, incoming_sms
from helpline.twilio_signing import SIGNATURE_HEADER, sign
from helpline.web.metrics import METRICS_PATH, metrics_app
from helpline.web.twilio_auth import signing_token
from tests.conftest import FrozenClock, app_client
from tests.integration.paced_world import add_rows, live_services

pytestmark = pytest.mark.integration

Client = TestClient[web.Request, web.Application]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

HANSEN, ASKER_LINE = "+4798765432", "+4767000001"
FEED_TOKEN = "Feed-t0ken_that-is-not-known"
BODY = "Vi trenger hjelp med Emil i kveld"


@pytest.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    await load_text(services, demo_text())
    opened = await app_client(services)
    yield opened
    await opened.close()


async def scraper(services: Services) -> Client:
    """A client of the metrics listener's app over `services`; the caller closes it."""
    opened: Client = TestClient(TestServer(metrics_app(services)))
    await opened.start_server()
    return opened


@pytest.fixture
async def scrape(services: Services) -> AsyncIterator[Client]:
    opened = await scraper(services)
    yield opened
    await opened.close()


async def scraped(scrape: Client) -> tuple[str, Samples]:
    response = await scrape.get(METRICS_PATH)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = await response.text()
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def post_signed(client: Client, services: Services, path: str, form: dict[str, str]) -> int:
    url = services.settings.public_url + path
    signature = sign(url, form, signing_token(services.settings))
    response = await client.post(path, data=form, headers={SIGNATURE_HEADER: signature})
    await response.read()
    return response.status


VOICE = {"route": "/twilio/voice", "method": "POST", "status": "200"}
SMS = {"route": "/twilio/sms", "method": "POST", "status": "200"}
LATENCY = "helpline_http_request_duration_seconds"


async def test_a_signed_call_and_an_sms_move_the_latency_and_contact_counters(
    services: Services, client: Client, scrape: Client
) -> None:
    _, before = await scraped(scrape)
    call = incoming_call("CA-metrics-1", HANSEN, ASKER_LINE)
    assert await post_signed(client, services, "/twilio/voice", call) == 200
    sms = incoming_sms("SM-metrics-1", HANSEN, ASKER_LINE, BODY)
    assert await post_signed(client, services, "/twilio/sms", sms) == 200
    _, after = await scraped(scrape)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(f"{LATENCY}_count", **VOICE) == 1
    assert moved(f"{LATENCY}_count", **SMS) == 1
    assert moved(f"{LATENCY}_bucket", **VOICE, le="+Inf") == 1
    assert moved(f"{LATENCY}_sum", **VOICE) > 0
    contacts = "helpline_contacts_total"
    assert moved(contacts, channel="voice", outcome="in_progress") == 1
    assert moved(contacts, channel="sms", outcome="in_progress") == 1
    assert moved(contacts, channel="telegram", outcome="in_progress") == 0


async def test_a_retried_webhook_and_a_forged_one_count_no_contact(
    services: Services, client: Client, scrape: Client
) -> None:
    form = incoming_sms("SM-metrics-retried", HANSEN, ASKER_LINE, BODY)
    assert await post_signed(client, services, "/twilio/sms", form) == 200
    _, before = await scraped(scrape)
    assert await post_signed(client, services, "/twilio/sms", form) == 200  # Twilio retries
    forged = await client.post("/twilio/sms", data=form, headers={SIGNATURE_HEADER: "forged"})
    assert forged.status == 403
    _, after = await scraped(scrape)
    contacts = (
        "helpline_contacts_total",
        frozenset({("channel", "sms"), ("outcome", "in_progress")}),
    )
    assert after[contacts] == before[contacts]
    refused = {**SMS, "status": "403"}
    assert (
        value(after, f"{LATENCY}_count", **refused)
        == value(before, f"{LATENCY}_count", **refused) + 1
    )


async def test_a_contact_counted_in_a_rolled_back_transaction_is_not_counted(
    services: Services,
) -> None:
    name, labels = "helpline_contacts_total", {"channel": "telegram", "outcome": "closed"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    async with services.sessions() as session:
        async with session.begin():
            metrics.contact_reached(session, "telegram", "closed")
            await session.rollback()
        async with session.begin():
            metrics.contact_reached(session, "telegram", "closed")
            assert (REGISTRY.get_sample_value(name, labels) or 0.0) == before  # not yet
    assert REGISTRY.get_sample_value(name, labels) == before + 1


async def test_routes_are_labelled_by_their_pattern_and_no_label_carries_a_number_or_token(
    services: Services, client: Client, scrape: Client
) -> None:
    feed = await client.get(f"/ical/{FEED_TOKEN}.ics")
    assert feed.status == 404
    assert (await client.get("/no/such/+4798765432")).status == 404
    call = incoming_call("CA-metrics-2", HANSEN, ASKER_LINE)
    assert await post_signed(client, services, "/twilio/voice", call) == 200
    text, samples = await scraped(scrape)
    routes = {dict(labels).get("route") for _, labels in samples} - {None}
    assert {"/ical/{token}.ics", "unmatched", "/twilio/voice"} <= routes
    label_values = [v for _, labels in samples for _, v in labels]
    assert label_values and not [v for v in label_values if re.search(r"\d{6,}", v)]
    assert FEED_TOKEN not in text and "98765432" not in text and "Emil" not in text


async def test_the_public_app_does_not_serve_metrics(client: Client) -> None:
    response = await client.get(METRICS_PATH)
    assert response.status == 404
    assert "helpline_" not in await response.text()


async def test_a_scrape_with_the_database_down_answers_with_its_health_zero(
    services: Services,
) -> None:
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")  # a closed port
    scrape = await scraper(replace(services, engine=dead))
    try:
        text, samples = await scraped(scrape)
    finally:
        await scrape.close()
        await dead.dispose()
    assert value(samples, "helpline_dependency_up", dependency="database") == 0
    assert value(samples, "helpline_dependency_up", dependency="redis") == 1
    assert "helpline_outbox_depth" not in text  # not read, rather than reported stale
    assert "helpline_contacts_total" in text  # the instruments answer all the same


async def test_the_outbox_lanes_report_their_depth_and_oldest_age(
    services: Services, scrape: Client, clock: FrozenClock
) -> None:
    start = clock.now
    await add_rows(services, [("sms", HANSEN)], "help", msg_class="help", status="pending")
    await add_rows(services, [("sms", HANSEN), ("telegram", "555")], BODY, msg_class="info")
    await add_rows(services, [("sms", HANSEN)], BODY, msg_class="group", status="held")
    await add_rows(services, [("sms", HANSEN)], "gone", msg_class="help", status="sent")
    clock.now = start + timedelta(seconds=90)
    await add_rows(services, [("sms", HANSEN)], BODY, msg_class="info")
    clock.now = start + timedelta(seconds=120)
    _, samples = await scraped(scrape)
    depth, age = "helpline_outbox_depth", "helpline_outbox_oldest_age_seconds"
    assert value(samples, depth, lane="help", msg_class="help") == 1
    assert value(samples, depth, lane="paced", msg_class="info") == 3
    assert value(samples, depth, lane="paced", msg_class="group") == 0  # held: not due
    assert value(samples, age, lane="help", msg_class="help") == 120
    assert value(samples, age, lane="paced", msg_class="info") == 120
    assert (age, frozenset({("lane", "paced"), ("msg_class", "group")})) in samples
    assert value(samples, "helpline_dependency_up", dependency="database") == 1


async def test_paced_sends_are_counted_per_channel(services: Services, clock: FrozenClock) -> None:
    clock.now = clock.now.replace(hour=11)  # noon in Oslo: not quiet
    name = "helpline_paced_sends_total"
    sms = {"channel": "sms", "msg_class": "info", "result": "sent"}
    telegram = {**sms, "channel": "telegram"}
    before = [REGISTRY.get_sample_value(name, labels) or 0.0 for labels in (sms, telegram)]
    async with live_services(services, clock) as live:
        await add_rows(live.services, [("sms", HANSEN), ("sms", "+4798765433")], BODY)
        await add_rows(live.services, [("telegram", "555")], BODY)
        sender = PacedSender(live.services)
        while await sender.run_batch():
            pass
    after = [REGISTRY.get_sample_value(name, labels) or 0.0 for labels in (sms, telegram)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1]


async def test_an_escalated_conversation_is_counted_once(
    services: Services, client: Client, clock: FrozenClock
) -> None:
    form = incoming_sms("SM-metrics-escalated", HANSEN, ASKER_LINE, BODY)
    assert await post_signed(client, services, "/twilio/sms", form) == 200
    async with services.sessions() as session:
        contact_id = await session.scalar(select(ContactRow.id))
    assert contact_id is not None
    name, labels = "helpline_escalations_total", {"channel": "sms", "kind": "next_step"}
    before = REGISTRY.get_sample_value(name, labels) or 0.0
    clock.now += timedelta(minutes=11)  # past the demo's ten-minute message deadline
    ctx = cast(Context, {"services": services})
    await message_deadline(ctx, contact_id=contact_id)
    await message_deadline(ctx, contact_id=contact_id)  # a late repeat finds nothing due
    assert REGISTRY.get_sample_value(name, labels) == before + 1


async def test_a_call_nobody_takes_counts_its_escalations_and_its_voicemail(
    services: Services, client: Client
) -> None:
    call = incoming_call("CA-metrics-3", HANSEN, ASKER_LINE)
    assert await post_signed(client, services, "/twilio/voice", call) == 200
    async with services.sessions() as session:
        contact = await session.scalar(select(ContactRow))
    assert contact is not None
    steps = len(json.loads(contact.plan))
    escalations = "helpline_escalations_total"
    next_step = {"channel": "voice", "kind": "next_step"}
    exhausted = {"channel": "voice", "kind": "exhausted"}
    voicemail = {"channel": "voice", "outcome": "voicemail"}
    before = [
        REGISTRY.get_sample_value(escalations, next_step) or 0.0,
        REGISTRY.get_sample_value(escalations, exhausted) or 0.0,
        REGISTRY.get_sample_value("helpline_contacts_total", voicemail) or 0.0,
    ]
    for step in range(steps):
        path = f"/twilio/voice/dialled?contact={contact.id}&step={step}"
        dialled = {**call, "DialCallStatus": "no-answer", "CallStatus": "in-progress"}
        assert await post_signed(client, services, path, dialled) == 200
    recorded = {**call, "RecordingUrl": "https://api.twilio.com/rec", "RecordingDuration": "5"}
    path = f"/twilio/voice/recorded?contact={contact.id}"
    assert await post_signed(client, services, path, recorded) == 200
    after = [
        REGISTRY.get_sample_value(escalations, next_step) or 0.0,
        REGISTRY.get_sample_value(escalations, exhausted) or 0.0,
        REGISTRY.get_sample_value("helpline_contacts_total", voicemail) or 0.0,
    ]
    assert [a - b for a, b in zip(after, before, strict=True)] == [steps - 1, 1, 1]


def lateness(job: str, sample: str, le: str | None = None) -> float:
    labels = {"job": job} if le is None else {"job": job, "le": le}
    return REGISTRY.get_sample_value(f"helpline_job_lateness_seconds_{sample}", labels) or 0.0


async def test_a_job_due_a_minute_ago_shows_a_minute_of_lateness(services: Services) -> None:
    job = "notify_voicemail"  # no cron job shares its name; contact 0 does nothing
    before = (lateness(job, "count"), lateness(job, "sum"), lateness(job, "bucket", "30.0"))
    async with running_worker(services):
        due = time.time() - 60
        await services.queue.enqueue(
            Job(function=job, kwargs={"contact_id": 0}, key="late-one", scheduled=int(due))
        )
        for _ in range(1000):  # until the worker took it (bounded; no time is asserted)
            if lateness(job, "count") > before[0]:
                break
            await asyncio.sleep(0.01)
    assert lateness(job, "count") == before[0] + 1
    assert lateness(job, "sum") - before[1] >= 60
    assert lateness(job, "bucket", "30.0") == before[2]  # not counted as 30 s late or less
    assert lateness(job, "bucket", "+Inf") == before[0] + 1
