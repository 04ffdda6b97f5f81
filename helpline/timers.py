"""Deadlines on time: a Redis sorted-set timer of our own, beside saq.

saq moves a due job to its queue on a 1 s poll, and a job whose worker was SIGKILLed
stays "active" until saq's sweep (every 60 s, once the job's timeout passed) gives it
back: up to two minutes late. Conversation deadlines ride this timer instead:

* one member per deadline in the sorted set `TIMER_KEY`, scored by the instant it may be
  taken next: its due time when it is added (`add`);
* every worker polls every `poll_s` (or sooner, when the next member falls due sooner);
  one Lua script takes the members that are due, no more than the worker has free
  slots, and re-scores each to now + `lease_s`: a lease, renewed every `renew_s` while
  its handler runs;
* done, the member is removed (and its timings written to the journal, `JOURNAL_KEY`);
  a worker that dies stops renewing, its lease runs out, and the next poll of any worker
  takes the member again; a handler that raises gets it back `retry_s` later, at most
  `attempts` times in all.

The set is a schedule, not the truth. The database decides whether a deadline acts (the
claim in `helpline.messages`): a member taken twice acts once. What Redis lost (an
outage, a flush) `resync` adds back from the database when the timer starts and when
Redis answers again, and the every-minute sweep (`helpline.jobs.sweep_conversations`)
still escalates without any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from helpline import metrics

log = logging.getLogger(__name__)

TIMER_KEY = "helpline:timer"
ATTEMPTS_KEY = "helpline:timer:attempts"
JOURNAL_KEY = "helpline:timer:journal"
JOURNAL_MAXLEN = 100_000  # firings kept (trimmed roughly): about 15 MB at most

# Takes up to ARGV[3] members due at ARGV[1], leases them until ARGV[2], counts the
# attempt; returns [member, score, attempt]... and the next member with its score.
CLAIM = """
local taken = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES',
    'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #taken, 2 do
    redis.call('ZADD', KEYS[1], ARGV[2], taken[i])
    out[#out + 1] = taken[i]
    out[#out + 1] = taken[i + 1]
    out[#out + 1] = redis.call('HINCRBY', KEYS[2], taken[i], 1)
end
return {out, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')}
"""

Handler = Callable[[str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Route:
    """What runs a kind of member (`kind:...`), and its job name in the metrics."""

    job: str
    run: Handler


@dataclass(frozen=True, slots=True)
class Claimed:
    """A member this worker took: the score it had (its due time, or the end of a lease
    that ran out) and the how-manieth time it is taken."""

    member: str
    score: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Firing:
    """One finished run, as the journal keeps it (epoch seconds)."""

    member: str
    due: float  # the score when taken
    claimed: float
    started: float
    done: float
    attempt: int
    worker: str


async def add(redis: aioredis.Redis, member: str, due: float) -> None:
    """Schedule `member` at `due` (epoch seconds); a member already there keeps its score,
    so adding it again never steals a running lease."""
    await redis.zadd(TIMER_KEY, {member: due}, nx=True)


async def add_many(redis: aioredis.Redis, members: Mapping[str, float]) -> None:
    """`add` for many members in one round trip."""
    if members:
        await redis.zadd(TIMER_KEY, dict(members), nx=True)


async def cancel(redis: aioredis.Redis, member: str) -> None:
    """Take `member` off the schedule (a run already under way re-checks the database)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(TIMER_KEY, member)
        pipe.hdel(ATTEMPTS_KEY, member)
        await pipe.execute()


async def journal(
    redis: aioredis.Redis, after: str = "-", page: int = 1000
) -> tuple[list[Firing], str]:
    """The firings recorded after stream id `after` ("-": all kept), and the last id;
    read `page` entries at a time, so a full journal is no one huge reply."""
    firings: list[Firing] = []
    while True:
        entries = cast(
            "list[tuple[bytes, dict[bytes, bytes]]]",
            await redis.xrange(JOURNAL_KEY, min=after if after == "-" else f"({after}", count=page),
        )  # redis-py types a reply of a bytes client loosely
        firings += [_firing(fields) for _, fields in entries]
        if not entries:
            return firings, after
        after = entries[-1][0].decode()


def _firing(fields: Mapping[bytes, bytes]) -> Firing:
    text = {k.decode(): v.decode() for k, v in fields.items()}
    return Firing(
        text["member"],
        float(text["due"]),
        float(text["claimed"]),
        float(text["started"]),
        float(text["done"]),
        int(text["attempt"]),
        text["worker"],
    )


def kind_of(member: str) -> str:
    """The kind of a member: the part before its first colon."""
    return member.partition(":")[0]


def next_wait(now: float, next_score: float | None, poll_s: float) -> float:
    """How long to sleep before the next poll: `poll_s`, or less when the next member
    falls due sooner (never negative)."""
    if next_score is None:
        return poll_s
    return max(0.0, min(poll_s, next_score - now))


@dataclass
class Timer:
    """The polling side: takes due members, runs their routes, keeps their leases."""

    redis: aioredis.Redis
    routes: Mapping[str, Route]
    resync: Callable[[], Awaitable[int]] | None = None
    clock: Callable[[], float] = time.time
    slots: int = 20
    poll_s: float = 0.1
    lease_s: float = 2.0
    renew_s: float = 0.5
    retry_s: float = 2.0
    attempts: int = 5
    command_timeout_s: float = 5.0
    worker: str = field(default_factory=lambda: str(os.getpid()))
    _running: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _freed: asyncio.Event = field(default_factory=asyncio.Event)
    _out_of_sync: bool = True  # resync before the first poll, and after an outage
    _paused: bool = False
    _backlog: bool = False  # the last poll filled every slot: more may be due
    _script: AsyncScript | None = None

    async def claim(self, limit: int) -> tuple[list[Claimed], float | None]:
        """Take up to `limit` due members (leased to this worker), and the score of the
        next member left (None when the set is empty)."""
        now = self.clock()
        if self._script is None:
            self._script = self.redis.register_script(CLAIM)
        call = self._script(
            keys=[TIMER_KEY, ATTEMPTS_KEY], args=[repr(now), repr(now + self.lease_s), limit]
        )
        # A blackholed Redis answers nothing and resets nothing: give up, poll again.
        taken, following = await asyncio.wait_for(call, self.command_timeout_s)
        claimed = [
            Claimed(taken[i].decode(), float(taken[i + 1]), int(taken[i + 2]))
            for i in range(0, len(taken), 3)
        ]
        return claimed, float(following[1]) if following else None

    async def tick(self) -> float | None:
        """One poll: resync if due, take what this worker has room for and start it.
        Returns the next member's score, as `claim` does."""
        if self._out_of_sync and self.resync is not None:
            added = await self.resync()
            log.info("timer: %d deadlines re-read from the database", added)
        self._out_of_sync = False
        self._freed.clear()
        free = self.slots - len(self._running)
        if free <= 0:
            self._backlog = True
            return None
        claimed, following = await self.claim(free)
        for taken in claimed:
            self._start(taken)
        self._backlog = len(claimed) == free
        return following

    def _start(self, taken: Claimed) -> None:
        if taken.attempt > self.attempts:
            log.error("timer: %s given up after %d attempts", taken.member, self.attempts)
            self._running[taken.member] = asyncio.create_task(self._drop(taken.member))
            return
        self._running[taken.member] = asyncio.create_task(self._fire(taken, self.clock()))

    async def _drop(self, member: str) -> None:
        try:
            await cancel(self.redis, member)
        except RedisError:
            pass  # taken again after its lease; given up then
        finally:
            self._done(member)

    async def _fire(self, taken: Claimed, claimed: float) -> None:
        route = self.routes.get(kind_of(taken.member))
        started = self.clock()
        try:
            if route is None:
                raise LookupError(f"no route for {kind_of(taken.member)!r}")
            if taken.attempt == 1:
                metrics.job_started(route.job, taken.score, started)
            await route.run(taken.member)
        except Exception as error:  # given back later; the database sweep is the backstop
            log.error("timer: %s failed (%s), retried later", taken.member, type(error).__name__)
            await self._give_back(taken.member)
        else:
            await self._finish(
                Firing(
                    taken.member,
                    taken.score,
                    claimed,
                    started,
                    self.clock(),
                    taken.attempt,
                    self.worker,
                )
            )
        finally:
            self._done(taken.member)

    async def _give_back(self, member: str) -> None:
        with contextlib.suppress(RedisError):
            await self.redis.zadd(TIMER_KEY, {member: self.clock() + self.retry_s}, xx=True)

    async def _finish(self, firing: Firing) -> None:
        entry = {
            "member": firing.member,
            "due": repr(firing.due),
            "claimed": repr(firing.claimed),
            "started": repr(firing.started),
            "done": repr(firing.done),
            "attempt": str(firing.attempt),
            "worker": firing.worker,
        }
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(TIMER_KEY, firing.member)
                pipe.hdel(ATTEMPTS_KEY, firing.member)
                pipe.xadd(JOURNAL_KEY, entry, maxlen=JOURNAL_MAXLEN, approximate=True)  # type: ignore[arg-type]  # str values
                await pipe.execute()
        except RedisError as error:  # its lease runs out: taken again, it finds nothing due
            log.warning("timer: %s done but not removed: %s", firing.member, type(error).__name__)

    def _done(self, member: str) -> None:
        self._running.pop(member, None)
        self._freed.set()

    async def drain(self) -> None:
        """Wait until the runs under way are done."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def renew(self, members: Iterable[str] | None = None) -> None:
        """Extend the leases of the members this worker runs (only of those still there)."""
        running = list(self._running if members is None else members)
        if running:
            until = self.clock() + self.lease_s
            renewal = self.redis.zadd(TIMER_KEY, dict.fromkeys(running, until), xx=True)
            await asyncio.wait_for(renewal, self.command_timeout_s)

    async def run(self) -> None:
        """Poll until cancelled; Redis trouble is logged once and waited out."""
        renewing = asyncio.create_task(self._renewing(), name="timer-renew")
        try:
            while True:
                try:
                    following = await self.tick()
                except Exception as error:  # Redis or the database away: the sweep covers
                    if not self._paused:
                        log.warning("timer: paused (%s), resyncing when back", type(error).__name__)
                    self._paused = self._out_of_sync = True
                    await asyncio.sleep(max(self.poll_s, 1.0))
                    continue
                if self._paused:
                    log.info("timer: running again")
                self._paused = False
                await self._wait(following)
        finally:
            renewing.cancel()
            tasks = [renewing, *self._running.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _wait(self, following: float | None) -> None:
        if not self._backlog:
            await asyncio.sleep(next_wait(self.clock(), following, self.poll_s))
            return
        with contextlib.suppress(TimeoutError):  # a slot freed since the poll: at once
            await asyncio.wait_for(self._freed.wait(), self.poll_s)

    async def _renewing(self) -> None:
        while True:
            await asyncio.sleep(self.renew_s)
            try:
                await self.renew()
            except (RedisError, TimeoutError):
                pass  # the leases run out; another worker's run finds nothing left to do
