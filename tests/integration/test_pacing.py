"""The token buckets on a real Redis: shared by separate clients (as by worker processes),
never more than rate + burst in any one-second window."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from helpline.bootstrap import Services
from helpline.pacing import TELEGRAM_BUCKET, Bucket, Pacer, sms_bucket

pytestmark = pytest.mark.integration


def busiest_second(instants: list[float]) -> int:
    """The most instants in any window [t, t + 1 s)."""
    ordered = sorted(instants)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def test_two_processes_share_a_bucket_and_never_exceed_rate_plus_burst(
    services: Services, redis_url: str
) -> None:
    bucket = sms_bucket("+4767000090", rate=20)
    other = aioredis.from_url(redis_url)  # a second connection pool: another worker
    granted: list[float] = []
    try:
        pacers = [Pacer(services.redis), Pacer(other)]

        async def sender(pacer: Pacer, count: int) -> None:
            for _ in range(count):
                await pacer.take(bucket, 1)
                granted.append(time.monotonic())

        started = time.monotonic()
        await asyncio.gather(*(sender(pacers[i % 2], 10) for i in range(8)))
        took = time.monotonic() - started
    finally:
        await other.aclose()
    assert len(granted) == 80
    assert busiest_second(granted) <= 20 + 20
    # A new bucket starts empty and gives the rate: 80 take about 4 s.
    assert 3.7 <= took < 5.5


async def test_a_new_bucket_starts_empty(services: Services) -> None:
    # A broadcast starts at the rate: a full new bucket gave its burst on top of the first
    # second's rate, and Twilio (the broadcast bench's fake) saw 101-102 at rate 50.
    pacer = Pacer(services.redis)
    assert await pacer.try_take(sms_bucket("+4767000090", 50), 1) > 0
    assert await pacer.try_take(TELEGRAM_BUCKET, 1) > 0


async def test_segments_are_tokens_and_a_long_message_leaves_debt(services: Services) -> None:
    pacer = Pacer(services.redis)
    bucket = Bucket("pace:sms:test-debt", rate=10, burst=10)
    await pacer.try_take(bucket, 0)  # a new bucket starts empty: full a second later
    await asyncio.sleep(1.0)
    assert await pacer.try_take(bucket, 4) == 0
    assert await pacer.try_take(bucket, 6) == 0
    wait = await pacer.try_take(bucket, 3)  # empty: three tokens are 300 ms away
    assert 250 <= wait <= 300
    await asyncio.sleep(1.0)  # full again
    assert await pacer.try_take(bucket, 25) == 0  # more than the burst: taken when full...
    assert await pacer.try_take(bucket, 1) >= 1400  # ...leaving the bucket 15 in debt


async def test_a_pause_gives_nothing_until_it_ends(services: Services) -> None:
    pacer = Pacer(services.redis)
    await pacer.pause(TELEGRAM_BUCKET, 0.5)
    wait = await pacer.try_take(TELEGRAM_BUCKET, 1)
    assert 400 <= wait <= 500
    await pacer.pause(TELEGRAM_BUCKET, 0.1)  # a shorter pause does not shorten it
    assert await pacer.try_take(TELEGRAM_BUCKET, 1) >= 350
    started = time.monotonic()
    await pacer.take(TELEGRAM_BUCKET, 1)
    assert 0.3 <= time.monotonic() - started < 0.8


async def test_buckets_are_per_sending_number(services: Services) -> None:
    pacer = Pacer(services.redis)
    one, two = sms_bucket("+4767000001", 2), sms_bucket("+4767000002", 2)
    await pacer.try_take(one, 0)  # both new and empty: full a second later
    await pacer.try_take(two, 0)
    await asyncio.sleep(1.0)
    assert await pacer.try_take(one, 2) == 0
    assert await pacer.try_take(one, 1) > 0
    assert await pacer.try_take(two, 2) == 0
