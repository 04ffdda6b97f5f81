"""The rota engine's one memo: values of a pure function by hashable key, bounded in size."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(dict[K, V]):
    """`memo[key]` is `compute(key)`, computed on first use; when `limit` values are held,
    the next miss forgets them all.

    A dict underneath, so a hit is one dict lookup (the hot path of `on_duty` makes several);
    a miss goes through `__missing__`. Forgetting everything at once keeps every operation
    O(1) where least-recently-used bookkeeping would slow each hit. `compute` must be pure:
    the value for a key never changes, so forgetting it only costs time.
    """

    __slots__ = ("_compute", "_limit")

    def __init__(self, compute: Callable[[K], V], limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a memo holds at least one value, got limit {limit}")
        super().__init__()
        self._compute = compute
        self._limit = limit

    def __missing__(self, key: K) -> V:
        value = self._compute(key)  # first: `compute` may use (and fill) other memos
        if len(self) >= self._limit:
            self.clear()
        self[key] = value
        return value
