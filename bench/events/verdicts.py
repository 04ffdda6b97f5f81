"""What the event benchmark checks, over what it observed. Pure (no service library)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

_POSITION = re.compile(r"Du står som nr\. ([0-9]+) på ventelisten")


def told_position(text: str) -> int | None:
    """The waitlist position a confirmation told, if it told one (a first placing)."""
    match = _POSITION.search(text)
    return int(match[1]) if match else None


def order_holds(told: Mapping[str, int], queue: Mapping[str, int]) -> bool:
    """First come first served: homes told an earlier position stand earlier in the line
    (by their stored queue number), for every pair still waiting."""
    waiting = sorted((home for home in told if home in queue), key=lambda h: told[h])
    numbers = [queue[home] for home in waiting]
    return all(a < b for a, b in zip(numbers, numbers[1:], strict=False))


def duplicates(items: Iterable[str]) -> int:
    """How many items occur more than once (each extra occurrence counts)."""
    return sum(n - 1 for n in Counter(items).values() if n > 1)


def peak(samples: Sequence[int]) -> int:
    return max(samples, default=0)
