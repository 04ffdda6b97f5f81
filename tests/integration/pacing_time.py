"""Simulated time for the token buckets (`helpline.pacing.Pacer(redis, clock, sleep)`):
pacing checked to the millisecond on a real Redis, without waiting and without the
machine's load in the figures."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable


class SimulatedTime:
    """Milliseconds that move only when a pacer sleeps.

    A pacer reads it (`__call__`) once per script call, in place of Redis's TIME; its
    `sleep` moves the clock to the sleeper's wake-up instead of waiting. So the clock
    stands still while a script runs or a message is on its way, and every grant has an
    exact instant: 80 tokens at 20 a second take 4,000 ms, not "about four seconds".

    `takers`: how many pacers (processes) take from the same bucket at once. The clock
    moves only when that many are asleep, and then to the earliest wake-up, as real time
    would: no script can then see an instant earlier than one another script already saw.
    A taker that has finished says so with `leave`. With one taker (one process's pacer,
    whose takers of a bucket go in turn) a sleep moves the clock at once.

    `settle`, when a test sets it, is awaited before the clock moves: a test stamping
    what reached a fake in simulated time waits there until the messages granted at this
    instant have arrived (see `granted`)."""

    def __init__(self, start_ms: int = 1_000_000, takers: int = 1) -> None:
        self.start_ms = start_ms
        self.now_ms = start_ms
        self.reads = 0
        self.sleeps = 0
        self.settle: Callable[[], Awaitable[None]] | None = None
        self._takers = takers
        self._asleep: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> int:
        self.reads += 1
        return self.now_ms

    def seconds(self) -> float:
        """Now, in simulated seconds (what the fakes stamp their arrivals with)."""
        return self.now_ms / 1000

    @property
    def elapsed_ms(self) -> int:
        return self.now_ms - self.start_ms

    @property
    def granted(self) -> int:
        """How many takes succeeded so far, when one pacer takes from one bucket: a pacer
        reads the clock once per script call and sleeps after each refusal, so the calls
        not followed by a sleep are the grants."""
        return self.reads - self.sleeps

    async def sleep(self, seconds: float) -> None:
        """The pacer's sleep: wake when the clock reaches now + `seconds`."""
        self.sleeps += 1
        wake = self.now_ms + round(seconds * 1000)  # the pacer sleeps whole milliseconds
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._asleep, (wake, next(self._order), woken))
        await self._advance()
        await woken

    async def leave(self) -> None:
        """One taker has finished: the others no longer wait for it to sleep."""
        self._takers -= 1
        await self._advance()

    async def _advance(self) -> None:
        self._asleep = [sleeper for sleeper in self._asleep if not sleeper[2].done()]
        heapq.heapify(self._asleep)  # without the sleepers that were cancelled
        if not self._asleep or len(self._asleep) < self._takers:
            return
        if self.settle is not None:
            await self.settle()
            if not self._asleep:  # another sleeper's turn woke them meanwhile
                return
        wake, _, woken = heapq.heappop(self._asleep)
        self.now_ms = max(self.now_ms, wake)
        if not woken.done():
            woken.set_result(None)
