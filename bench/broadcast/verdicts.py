"""What the broadcast benchmark concludes from what the fakes received. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def busiest_second(arrivals: Sequence[tuple[float, int]]) -> int:
    """The most units (SMS segments, or messages) arriving in any window [t, t + 1 s);
    `arrivals` are (epoch seconds, units)."""
    return busiest_window(arrivals)[0]


def busiest_window(arrivals: Sequence[tuple[float, int]]) -> tuple[int, float]:
    """`busiest_second` and where its window starts (NaN with no arrivals)."""
    ordered = sorted(arrivals)
    most = units = first = 0
    start = float("nan")
    for at, size in ordered:
        units += size
        while at - ordered[first][0] >= 1.0:
            units -= ordered[first][1]
            first += 1
        if units > most:
            most, start = units, ordered[first][0]
    return most, start


def steady_rate(arrivals: Sequence[tuple[float, int]], head: float) -> float:
    """The rate a token bucket sent at: over [first, last] it gives `head` at once (its
    burst when it starts full; the first message when it starts empty, as ours do) and
    then `rate` a second, so rate = (units - head) / (last - first). NaN with too few."""
    if len(arrivals) < 2:
        return float("nan")
    times = sorted(at for at, _ in arrivals)
    span = times[-1] - times[0]
    units = sum(size for _, size in arrivals)
    return (units - head) / span if span > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class Once:
    """How many recipients got the broadcast once, never, or more than once."""

    once: int
    never: int
    more: int
    never_ids: tuple[str, ...] = ()
    more_ids: tuple[str, ...] = ()


def exactly_once(expected: Iterable[str], received: Iterable[str]) -> Once:
    """Each of `expected` should appear once in `received` (and nothing else)."""
    got = Counter(received)
    wanted = list(dict.fromkeys(expected))
    never = [a for a in wanted if got[a] == 0]
    more = [a for a in wanted if got[a] > 1] + [a for a in got if a not in set(wanted)]
    return Once(
        len(wanted) - len(never) - sum(1 for a in wanted if got[a] > 1),
        len(never),
        len(more),
        tuple(never[:10]),
        tuple(more[:10]),
    )
