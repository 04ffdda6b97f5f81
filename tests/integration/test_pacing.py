"""The token buckets on a real Redis: shared by separate clients (as by worker processes),
never more than rate + burst in any one-second window.

The buckets run on simulated time (`tests.integration.pacing_time`), so every wait is
checked to the millisecond the script computes and none is waited out; the last two
tests check that without a clock they run on Redis's own."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from helpline.bootstrap import Services
from helpline.pacing import TELEGRAM_BUCKET, Bucket, Pacer, sms_bucket
from tests.integration.pacing_time import SimulatedTime

pytestmark = pytest.mark.integration


def busiest_second(instants: list[float]) -> int:
    """The most instants (seconds) in any window [t, t + 1 s)."""
    ordered = sorted(instants)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def simulated(redis: aioredis.Redis, time: SimulatedTime) -> Pacer:
    return Pacer(redis, clock=time, sleep=time.sleep)


async def test_two_processes_share_a_bucket_and_never_exceed_rate_plus_burst(
    services: Services, redis_url: str
) -> None:
    bucket = sms_bucket("+4767000090", rate=20)
    time = SimulatedTime(takers=2)  # the clock moves when both processes wait
    other = aioredis.from_url(redis_url)  # a second connection pool: another worker
    granted: list[int] = []
    try:
        pacers = [simulated(services.redis, time), simulated(other, time)]

        async def sender(pacer: Pacer, count: int) -> None:
            for _ in range(count):
                await pacer.take(bucket, 1)
                granted.append(time.now_ms)

        async def process(pacer: Pacer) -> None:  # four senders of ten messages each
            await asyncio.gather(*(sender(pacer, 10) for _ in range(4)))
            await time.leave()

        await asyncio.gather(*(process(pacer) for pacer in pacers))
    finally:
        await other.aclose()
    assert len(granted) == 80
    assert busiest_second([ms / 1000 for ms in granted]) <= 20 + 20
    # A new bucket starts empty and gives the rate: a token every 50 ms between the two
    # processes, so 80 take 4 s.
    assert sorted(granted) == [time.start_ms + 50 * n for n in range(1, 81)]
    assert time.elapsed_ms == 4_000


async def test_a_full_bucket_gives_its_burst_on_top_of_the_rate_and_no_more(
    services: Services,
) -> None:
    time = SimulatedTime()
    pacer = simulated(services.redis, time)
    bucket = sms_bucket("+4767000091", rate=20)
    await pacer.try_take(bucket, 0)  # new and empty
    await time.sleep(10.0)  # idle for ten seconds' worth: it holds one burst, no more
    granted: list[int] = []
    for _ in range(60):
        await pacer.take(bucket, 1)
        granted.append(time.elapsed_ms)
    assert granted == [10_000] * 20 + [10_000 + 50 * n for n in range(1, 41)]
    assert busiest_second([ms / 1000 for ms in granted]) == 20 + 19  # within rate + burst


async def test_segments_are_tokens_and_a_long_message_leaves_debt(services: Services) -> None:
    time = SimulatedTime()
    pacer = simulated(services.redis, time)
    bucket = Bucket("pace:sms:test-debt", rate=10, burst=10)
    await pacer.try_take(bucket, 0)  # a new bucket starts empty: full a second later
    await time.sleep(1.0)
    assert await pacer.try_take(bucket, 4) == 0
    assert await pacer.try_take(bucket, 6) == 0
    assert await pacer.try_take(bucket, 3) == 300  # empty: three tokens are 300 ms away
    await time.sleep(0.2)
    assert await pacer.try_take(bucket, 3) == 100  # two came, the third is 100 ms away
    await time.sleep(1.0)  # full again: ten, not twelve
    assert await pacer.try_take(bucket, 25) == 0  # more than the burst: taken when full...
    assert await pacer.try_take(bucket, 1) == 1_600  # ...leaving the bucket 15 in debt
    assert await pacer.take(bucket, 1) == 1.6  # a taker waits the debt off
    assert time.elapsed_ms == 3_800


async def test_a_pause_gives_nothing_until_it_ends(services: Services) -> None:
    time = SimulatedTime()
    pacer = simulated(services.redis, time)
    await pacer.pause(TELEGRAM_BUCKET, 0.5)
    assert await pacer.try_take(TELEGRAM_BUCKET, 1) == 500
    await pacer.pause(TELEGRAM_BUCKET, 0.1)  # a shorter pause does not shorten it
    await time.sleep(0.2)
    assert await pacer.try_take(TELEGRAM_BUCKET, 1) == 300  # though tokens came meanwhile
    assert await pacer.take(TELEGRAM_BUCKET, 1) == 0.3
    assert time.elapsed_ms == 500
    await pacer.pause(TELEGRAM_BUCKET, 2.0)  # a longer one lengthens it
    assert await pacer.try_take(TELEGRAM_BUCKET, 1) == 2_000


async def test_buckets_are_per_sending_number(services: Services) -> None:
    time = SimulatedTime()
    pacer = simulated(services.redis, time)
    one, two = sms_bucket("+4767000001", 2), sms_bucket("+4767000002", 2)
    await pacer.try_take(one, 0)  # both new and empty: full a second later
    await pacer.try_take(two, 0)
    await time.sleep(1.0)
    assert await pacer.try_take(one, 2) == 0
    assert await pacer.try_take(one, 1) == 500
    assert await pacer.try_take(two, 2) == 0
    await time.sleep(0.25)
    assert await pacer.try_take(one, 1) == 250  # half a token came to each
    assert await pacer.try_take(two, 1) == 250


async def test_a_new_bucket_starts_empty(services: Services) -> None:
    # A broadcast starts at the rate: a full new bucket gave its burst on top of the first
    # second's rate, and Twilio (the broadcast bench's fake) saw 101-102 at rate 50. On
    # Redis's clock, as in production: a first take's wait is computed at one instant.
    pacer = Pacer(services.redis)
    assert await pacer.try_take(sms_bucket("+4767000090", 50), 1) == 20
    assert await pacer.try_take(TELEGRAM_BUCKET, 1) == 50


async def test_without_a_clock_the_buckets_run_on_redis_time(services: Services) -> None:
    def ms(time: tuple[int, int]) -> int:
        return time[0] * 1000 + time[1] // 1000

    pacer = Pacer(services.redis)
    bucket = Bucket("pace:sms:test-time", rate=10, burst=10)
    before = ms(await services.redis.time())
    await pacer.try_take(bucket, 0)
    await pacer.pause(TELEGRAM_BUCKET, 1.0)
    after = ms(await services.redis.time())
    at = int(await services.redis.hget(bucket.key, "at") or 0)
    paused_until = int(await services.redis.hget(TELEGRAM_BUCKET.key, "paused_until") or 0)
    assert before <= at <= after
    assert before + 1_000 <= paused_until <= after + 1_000


async def test_a_clock_that_steps_back_gives_no_refill_twice(services: Services) -> None:
    """Redis's TIME may step back (a failover to a server with a slower clock): the bucket
    keeps the latest instant it saw, so the second it stepped back is not refilled twice."""
    time = SimulatedTime()
    pacer = simulated(services.redis, time)
    bucket = Bucket("pace:sms:test-step-back", rate=10, burst=10)
    await pacer.try_take(bucket, 0)  # new and empty at t
    time.now_ms -= 1000  # the clock steps back a second...
    await pacer.try_take(bucket, 0)
    time.now_ms += 1500  # ...and on to t + 0.5 s: five tokens came, not fifteen capped at ten
    assert await pacer.try_take(bucket, 5) == 0
    assert await pacer.try_take(bucket, 1) == 100
