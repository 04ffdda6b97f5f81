"""Pacing: token buckets in Redis, shared by every worker process.

One bucket per SMS sending number, in SMS segments per second (`HELPLINE_SMS_RATE`), and
one for the Telegram bot, in messages. A bucket holds at most `burst` tokens (one second's
worth for SMS) and refills continuously; taking is one Lua script, so it is atomic across
processes, and it reads Redis's own clock, so the workers' clocks do not matter. Over any
one-second window a bucket lets through at most `rate + burst`.

A new bucket starts empty, so a broadcast starts at the rate; the burst is there for a
sender that fell behind (a stall, a worker's death) to catch up. Started full, it gave a
second of twice the rate at once, which its first requests reached Twilio spread out over,
and the first second's window held a little more than `rate + burst` (the broadcast
bench's fake saw 101-102 at 50/s).

A message needing more tokens than the bucket holds (a long SMS on a slow number) goes
out when the bucket is full and leaves it in debt, which later takers wait off.

Help messages are not paced: they are few (one per person asking for help, or per staff
member told), they must never wait behind a broadcast, and they must go out when Redis is
down. Info and group messages share a number's bucket, help bypasses it.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

#: Telegram allows about 30 messages per second in bulk: 20/s with a burst of 5 gives at
#: most 25 in any one-second window, leaving room for network jitter on the way.
TELEGRAM_RATE = 20.0
TELEGRAM_BURST = 5.0
TELEGRAM_KEY = "pace:telegram:bot"
_IDLE_TTL_MS = 60_000  # a bucket untouched this long is dropped (and starts empty again)

# KEYS[1] the bucket; ARGV: rate (tokens/s), burst (tokens), wanted (tokens), ttl (ms).
# Returns 0 when the tokens were taken, else how many ms to wait before asking again.
_TAKE = """
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'paused_until')
local tokens, at = tonumber(state[1]), tonumber(state[2])
local paused = tonumber(state[3]) or 0
if tokens == nil then tokens, at = 0, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if now < paused then
  wait = paused - now
elseif tokens >= math.min(want, burst) then
  tokens = tokens - want
else
  wait = math.ceil((math.min(want, burst) - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return wait
"""

# KEYS[1] the bucket; ARGV[1] ms to take nothing (the vendor said: retry after), ARGV[2] ttl.
_PAUSE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0
if untl > paused then redis.call('HSET', KEYS[1], 'paused_until', untl) end
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[2]), tonumber(ARGV[1]) + 1000))
return untl
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket's key and size: `rate` tokens a second, at most `burst` saved up."""

    key: str
    rate: float
    burst: float


def sms_bucket(sender: str, rate: int) -> Bucket:
    """The bucket of an SMS sending number: segments per second, one second's burst."""
    return Bucket(f"pace:sms:{sender}", float(rate), float(rate))


TELEGRAM_BUCKET = Bucket(TELEGRAM_KEY, TELEGRAM_RATE, TELEGRAM_BURST)


class Pacer:
    """Takes tokens from buckets in one Redis, waiting as long as each bucket says.

    One per process: its takers of one bucket queue on a lock, so only one of them asks
    Redis at a time and they are served in turn, instead of every waiter polling Redis
    each time a token comes free."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._turns: dict[str, asyncio.Lock] = {}

    async def try_take(self, bucket: Bucket, tokens: float) -> int:
        """Take `tokens` if the bucket has them: 0, else the milliseconds to wait first."""
        args = [bucket.rate, bucket.burst, tokens, _IDLE_TTL_MS]
        wait = await self._take(keys=[bucket.key], args=args)
        return int(wait)

    async def take(self, bucket: Bucket, tokens: float) -> float:
        """Take `tokens`, waiting until the bucket has them (after this process's earlier
        takers of the bucket); returns the seconds waited."""
        started = time.monotonic()
        async with self._turns.setdefault(bucket.key, asyncio.Lock()):
            for _ in itertools.count():  # the bucket says how long until the next try
                wait = await self.try_take(bucket, tokens)
                if wait <= 0:
                    break
                await asyncio.sleep(wait / 1000)
        return time.monotonic() - started

    async def pause(self, bucket: Bucket, seconds: float) -> None:
        """Give out nothing for `seconds` (Telegram's `retry_after` on a 429)."""
        await self._pause(keys=[bucket.key], args=[math.ceil(seconds * 1000), _IDLE_TTL_MS])
