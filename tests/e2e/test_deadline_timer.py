"""Deadlines on the timer, end to end: a text opens a conversation, its deadline goes on
the timer, and the timer escalates it once, also when the worker that took it died and
when Redis lost it. The clock is moved by hand; the timer reads the same clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import pytest

from helpline import timers
from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.jobs import Context, make_timer, sweep_conversations
from helpline.timers import TIMER_KEY
from tests.conftest import FrozenClock, app_client
from tests.e2e.test_messages import HANSEN, MONDAY_10, Sms, chain, contacts, outbox, to
from tests.e2e.twilio_driver import TwilioDriver

pytestmark = pytest.mark.e2e

DEADLINE = timedelta(minutes=10)  # the demo's message_deadline


@pytest.fixture
async def sms(services: Services, clock: FrozenClock) -> AsyncIterator[Sms]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield Sms(TwilioDriver(client, services.settings))
    await client.close()


async def escalations(services: Services) -> int:
    return len(to(await outbox(services), chain()[1]))


async def run_once(timer: timers.Timer) -> None:
    await timer.tick()
    await timer.drain()


async def test_the_timer_escalates_at_the_deadline_and_not_before(
    sms: Sms, services: Services, clock: FrozenClock
) -> None:
    await sms.send(HANSEN, "Hjelp")
    assert await services.redis.zcard(TIMER_KEY) == 1
    timer = make_timer(services)
    clock.now = MONDAY_10 + DEADLINE - timedelta(seconds=1)
    await run_once(timer)
    assert await escalations(services) == 0
    clock.now = MONDAY_10 + DEADLINE + timedelta(seconds=1)
    await run_once(timer)
    assert await escalations(services) == 1
    assert await services.redis.zcard(TIMER_KEY) == 1  # the next step's deadline


async def test_a_deadline_taken_by_a_worker_that_died_fires_once_when_its_lease_ran_out(
    sms: Sms, services: Services, clock: FrozenClock
) -> None:
    await sms.send(HANSEN, "Hjelp")
    dead, alive = make_timer(services), make_timer(services)
    clock.now = MONDAY_10 + DEADLINE + timedelta(seconds=1)
    [taken], _ = await dead.claim(10)  # SIGKILLed right after: it never runs nor renews
    await run_once(alive)
    assert await escalations(services) == 0  # still leased
    clock.now += timedelta(seconds=alive.lease_s)
    await run_once(alive)
    await sweep_conversations(cast(Context, {"services": services}))  # the backstop too
    assert await escalations(services) == 1


async def test_a_deadline_redis_lost_is_read_back_from_the_database_and_fires_once(
    sms: Sms, services: Services, clock: FrozenClock
) -> None:
    await sms.send(HANSEN, "Hjelp")
    await services.redis.delete(TIMER_KEY)  # Redis lost it (a flush, an outage)
    clock.now = MONDAY_10 + DEADLINE + timedelta(seconds=1)
    timer = make_timer(services)
    await run_once(timer)  # the first poll resyncs from the database
    assert await escalations(services) == 1
    await run_once(make_timer(services))  # another worker's resync finds it escalated
    assert await escalations(services) == 1


async def test_a_taken_conversation_leaves_the_timer(
    sms: Sms, services: Services, clock: FrozenClock
) -> None:
    await sms.send(HANSEN, "Hjelp")
    [contact] = await contacts(services)
    await sms.send(chain()[0], f"#K{contact.id} JA")
    assert await services.redis.zcard(TIMER_KEY) == 0
    clock.now = MONDAY_10 + DEADLINE + timedelta(seconds=1)
    await run_once(make_timer(services))
    assert await escalations(services) == 0
