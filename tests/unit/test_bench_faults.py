"""The fault run's report: lost and doubled carry their target, and fail the run."""

from __future__ import annotations

from bench.faults import failed, figures
from tests.faults.audit import Counts


def test_lost_and_doubled_have_a_target_of_zero() -> None:
    counts = Counts(calls_made=10, by_rota=8, by_fallback=2, messages_in=5, notifications_out=5)
    shown = {f.label: f for f in figures(counts)}
    assert shown["lost"].target == "0" and shown["lost"].ok is True
    assert shown["doubled"].ok is True
    assert shown["calls made"].value == 10 and shown["calls made"].ok is None
    assert not failed(counts, {"a check": True, "rows left sending": 3})


def test_a_loss_a_double_or_a_failed_check_fails_the_run() -> None:
    assert failed(Counts(lost=1), {})
    assert failed(Counts(doubled=1), {})
    assert failed(Counts(), {"blackhole: every call to the fallback": False})
    assert figures(Counts(doubled=2))[-1].ok is False
