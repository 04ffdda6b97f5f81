"""The event benchmark's verdicts: the waitlist order check and the duplicate count."""

from __future__ import annotations

from bench.events.verdicts import duplicates, order_holds, peak, told_position


def test_the_position_a_confirmation_told() -> None:
    told = "Det er fullt på Fagdag. Du står som nr. 12 på ventelisten (1 person)."
    assert told_position(told) == 12
    assert told_position("Du står fortsatt som nr. 3 på ventelisten til Fagdag") is None
    assert told_position("Takk! Dere er påmeldt") is None


def test_order_holds_only_when_earlier_told_stand_earlier() -> None:
    told = {"a": 1, "b": 2, "c": 3}
    assert order_holds(told, {"a": 10, "b": 14, "c": 20})
    assert order_holds(told, {"a": 10, "c": 20})  # b left the line
    assert not order_holds(told, {"a": 14, "b": 10, "c": 20})


def test_duplicates_and_peak() -> None:
    assert duplicates(["a", "b", "a", "a"]) == 2 and duplicates([]) == 0
    assert peak([3, 9, 4]) == 9 and peak([]) == 0
