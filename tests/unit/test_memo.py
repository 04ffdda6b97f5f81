"""The rota engine's memo: computes a key once, and holds no more than its limit."""

from __future__ import annotations

import pytest

from rota.memo import Memo


def test_a_key_is_computed_once() -> None:
    calls: list[int] = []

    def square(n: int) -> int:
        calls.append(n)
        return n * n

    memo = Memo(square, limit=8)
    assert [memo[3], memo[3], memo[4], memo[3]] == [9, 9, 16, 9]
    assert calls == [3, 4]


def test_it_never_holds_more_than_its_limit() -> None:
    memo: Memo[int, int] = Memo(lambda n: -n, limit=3)
    for n in range(10):
        assert memo[n] == -n
        assert len(memo) <= 3
    assert memo[9] == -9 and 9 in memo  # the newest value survives a reset


def test_a_compute_may_fill_another_memo() -> None:
    inner: Memo[int, int] = Memo(lambda n: n + 1, limit=1)
    outer: Memo[int, int] = Memo(lambda n: inner[n] + inner[n + 1], limit=1)
    assert [outer[1], outer[2], outer[1]] == [5, 7, 5]


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Memo(lambda n: n, limit=0)
