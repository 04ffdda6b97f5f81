"""Pacing: token buckets in Redis, shared by every worker process.

One bucket per SMS sending number, in SMS segments per second (`HELPLINE_SMS_RATE`), and
one for the Telegram bot, in messages. A bucket holds at most `burst` tokens (one second's
worth for SMS) and refills continuously; taking is one Lua script, so it is atomic across
processes, and it reads Redis's own clock (`TIME`), so the workers' clocks do not matter.
Over any one-second window a bucket lets through at most `rate + burst`.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

#: Telegram allows about 30 messages per second in bulk: 20/s with a burst of 5 gives at
#: most 25 in any one-second window, leaving room for network jitter on the way.
TELEGRAM_RATE = 20.0
TELEGRAM_BURST = 5.0
TELEGRAM_KEY = "pace:telegram:bot"
_IDLE_TTL_MS = 60_000  # a bucket untouched this long is dropped (and starts empty again)

#: Milliseconds, for a pacer on a test's simulated time (see `Pacer`).
PacingClock = Callable[[], int]
Sleep = Callable[[float], Awaitable[None]]

# `now_ms(given)`: the caller's clock reading when it passed one (a test), else Redis's
# TIME; in ms.
_NOW_MS = """
local function now_ms(given)
  if given then return tonumber(given) end
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
"""


def _script(body: str) -> str:
    return _NOW_MS + body


# KEYS[1] the bucket; ARGV: rate (tokens/s), burst (tokens), wanted (tokens), ttl (ms),
# and only from a test's pacer, now (ms). Returns 0 when the tokens were taken, else how
# many ms to wait before asking again.
_TAKE = _script("""
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms(ARGV[5])
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
-- the latest instant seen: a clock that stepped back does not refill a second twice
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', math.max(at, now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return wait
""")

# KEYS[1] the bucket; ARGV[1] ms to take nothing (the vendor said: retry after), ARGV[2] ttl,
# and only from a test's pacer, ARGV[3] now (ms).
_PAUSE = _script("""
local now = now_ms(ARGV[3])
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0
if untl > paused then redis.call('HSET', KEYS[1], 'paused_until', untl) end
redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[2]), tonumber(ARGV[1]) + 1000))
return untl
""")


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
    each time a token comes free.

    In production `clock` is None and the scripts read Redis's `TIME`: all the worker
    processes pace on the one clock they share, read inside the atomic script that takes.
    A clock read in each process would not do: the workers' clocks differ, and a reading
    can reach Redis after a later one from another worker; a bucket handed a time that
    goes back counts its refill twice and lets more than `rate + burst` through.

    A test passes `clock` (milliseconds) and `sleep` together, as one simulated time that
    moves only while the takers sleep, so it never goes back: each script call is handed
    one reading of `clock` in place of `TIME`, and `sleep` moves the clock on instead of
    waiting, so minutes of pacing are checked to the millisecond and at once.
    """

    def __init__(
        self, redis: aioredis.Redis, clock: PacingClock | None = None, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._clock = clock
        self._sleep = sleep
        self._turns: dict[str, asyncio.Lock] = {}

    def _now(self) -> list[int]:
        """The extra script argument: the given clock's reading, or none (Redis's TIME)."""
        return [] if self._clock is None else [self._clock()]

    async def try_take(self, bucket: Bucket, tokens: float) -> int:
        """Take `tokens` if the bucket has them: 0, else the milliseconds to wait first."""
        args = [bucket.rate, bucket.burst, tokens, _IDLE_TTL_MS, *self._now()]
        wait = await self._take(keys=[bucket.key], args=args)
        return int(wait)

    async def take(self, bucket: Bucket, tokens: float) -> float:
        """Take `tokens`, waiting until the bucket has them (after this process's earlier
        takers of the bucket); returns the seconds the bucket made it sleep."""
        slept = 0.0
        async with self._turns.setdefault(bucket.key, asyncio.Lock()):
            for _ in itertools.count():  # the bucket says how long until the next try
                wait = await self.try_take(bucket, tokens)
                if wait <= 0:
                    break
                await self._sleep(wait / 1000)
                slept += wait / 1000
        return slept

    async def pause(self, bucket: Bucket, seconds: float) -> None:
        """Give out nothing for `seconds` (Telegram's `retry_after` on a 429)."""
        args = [math.ceil(seconds * 1000), _IDLE_TTL_MS, *self._now()]
        await self._pause(keys=[bucket.key], args=args)
