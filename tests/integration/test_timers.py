"""The deadline timer (`helpline.timers`) against a real Redis, on a clock moved by hand:
what is due is taken once, a lease that ran out (its worker died) is taken again, a
renewed one is not, a failing run is given back and given up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from helpline import timers
from helpline.bootstrap import Services
from helpline.effects import SCHEDULE_MARGIN, Effects, apply_effects, deadline_key
from helpline.timers import ATTEMPTS_KEY, JOURNAL_KEY, TIMER_KEY, Route, Timer
from routing.effects import ScheduleDeadline

pytestmark = pytest.mark.integration

T0 = 1_800_000_000.0  # epoch seconds


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Runs:
    """A route that records the members it ran, and fails while told to."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.failing = False

    async def __call__(self, member: str) -> None:
        if self.failing:
            raise RuntimeError("the database is away")
        self.ran.append(member)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    await client.delete(TIMER_KEY, ATTEMPTS_KEY, JOURNAL_KEY)
    yield client
    await client.delete(TIMER_KEY, ATTEMPTS_KEY, JOURNAL_KEY)
    await client.aclose()


def timer(redis: aioredis.Redis, clock: Clock, runs: Runs, **options: float) -> Timer:
    return Timer(redis, {"t": Route("test_job", runs)}, clock=clock, **options)  # type: ignore[arg-type]  # floats for the numeric options


async def test_only_due_members_are_taken_once_each_by_one_of_two_workers(
    redis: aioredis.Redis,
) -> None:
    clock, runs = Clock(), Runs()
    first, second = timer(redis, clock, runs), timer(redis, clock, runs)
    await timers.add(redis, "t:1", T0 - 1)
    await timers.add(redis, "t:2", T0)
    await timers.add(redis, "t:3", T0 + 10)
    taken, following = await first.claim(10)
    assert sorted(c.member for c in taken) == ["t:1", "t:2"]
    assert following == T0 + first.lease_s  # the leases are next, then t:3
    assert (await second.claim(10))[0] == []  # leased: not taken again


async def test_a_worker_takes_no_more_than_its_free_slots(redis: aioredis.Redis) -> None:
    clock, runs = Clock(), Runs()
    for n in range(5):
        await timers.add(redis, f"t:{n}", T0)
    taken, _ = await timer(redis, clock, runs).claim(2)
    rest, _ = await timer(redis, clock, runs).claim(10)
    assert len(taken) == 2 and len(rest) == 3


async def test_a_member_whose_worker_died_is_taken_again_when_its_lease_runs_out(
    redis: aioredis.Redis,
) -> None:
    clock, runs = Clock(), Runs()
    dead, alive = timer(redis, clock, runs), timer(redis, clock, runs)
    await timers.add(redis, "t:1", T0)
    [taken], _ = await dead.claim(10)  # and then SIGKILLed: never runs, never renews
    clock.now = T0 + dead.lease_s - 0.01
    assert (await alive.claim(10))[0] == []
    clock.now = T0 + dead.lease_s
    [again], _ = await alive.claim(10)
    assert (again.member, again.attempt, taken.attempt) == ("t:1", 2, 1)


async def test_a_renewed_lease_is_not_taken_by_another_worker(redis: aioredis.Redis) -> None:
    clock, runs = Clock(), Runs()
    busy, other = timer(redis, clock, runs), timer(redis, clock, runs)
    await timers.add(redis, "t:1", T0)
    await busy.claim(10)
    clock.now = T0 + busy.lease_s - 0.1
    await busy.renew(["t:1"])
    clock.now = T0 + busy.lease_s + 0.1
    assert (await other.claim(10))[0] == []


async def test_a_run_removes_its_member_and_writes_the_journal(redis: aioredis.Redis) -> None:
    clock, runs = Clock(), Runs()
    worker = timer(redis, clock, runs)
    await timers.add(redis, "t:1", T0 - 0.5)
    await worker.tick()
    await worker.drain()
    assert runs.ran == ["t:1"]
    assert await redis.zcard(TIMER_KEY) == 0 and await redis.hlen(ATTEMPTS_KEY) == 0
    [firing], last = await timers.journal(redis)
    assert (firing.member, firing.due, firing.attempt) == ("t:1", T0 - 0.5, 1)
    assert (await timers.journal(redis, last))[0] == []


async def test_a_failing_run_is_given_back_then_given_up(redis: aioredis.Redis) -> None:
    clock, runs = Clock(), Runs()
    worker = timer(redis, clock, runs, attempts=2)
    runs.failing = True
    await timers.add(redis, "t:1", T0)
    await worker.tick()
    await worker.drain()
    assert await redis.zscore(TIMER_KEY, "t:1") == T0 + worker.retry_s
    clock.now = T0 + worker.retry_s
    await worker.tick()
    await worker.drain()
    clock.now += worker.retry_s
    await worker.tick()  # the third time: given up
    await worker.drain()
    assert runs.ran == [] and await redis.zcard(TIMER_KEY) == 0


async def test_adding_a_member_again_keeps_its_lease(redis: aioredis.Redis) -> None:
    clock, runs = Clock(), Runs()
    await timers.add(redis, "t:1", T0)
    await timer(redis, clock, runs).claim(10)
    await timers.add(redis, "t:1", T0)  # a resync while it runs
    assert (await timer(redis, clock, runs).claim(10))[0] == []


async def test_a_cancelled_member_is_not_run(redis: aioredis.Redis) -> None:
    clock, runs = Clock(), Runs()
    await timers.add(redis, "t:1", T0)
    await timers.cancel(redis, "t:1")
    worker = timer(redis, clock, runs)
    await worker.tick()
    await worker.drain()
    assert runs.ran == []


class FailingOutbox:
    """An outbox whose delivery fails, as under a database pool timeout."""

    async def deliver(self, ids: Sequence[int]) -> int:
        raise ConnectionError("no database connection within the pool timeout")


async def test_a_deadline_is_on_the_timer_even_when_delivering_its_notice_fails(
    services: Services,
) -> None:
    """Regression: the deadline was scheduled after the delivery, so a delivery that raised
    left it off the timer (until the minute sweep), and a slow one made it late."""
    due = datetime(2026, 11, 23, 9, 10, tzinfo=UTC)
    effects = Effects(after=[ScheduleDeadline(7, 0, due)])
    with pytest.raises(ConnectionError):
        await apply_effects(replace(services, outbox=FailingOutbox()), effects)  # type: ignore[arg-type]  # a fake outbox
    score = await services.redis.zscore(TIMER_KEY, deadline_key(7, 0, due))
    assert score == due.timestamp() + SCHEDULE_MARGIN
