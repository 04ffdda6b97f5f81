"""The message benchmark's pure parts: who writes on which channel, judging answers, the
figures and its options. No servers are started and nothing is timed here."""

from __future__ import annotations

import pytest

from bench.escalation.org import BenchHome
from bench.harness import Answer, Stores
from bench.messages import (
    FIRST_CHAT,
    P99_TARGET_MS,
    Options,
    Run,
    _outcome,
    judge,
    main,
    writers_of,
)

HOMES = [BenchHome(f"bench-{i:04d}", f"+479600000{i}", "asker", "+4767000001") for i in range(4)]


def test_every_second_home_writes_on_telegram() -> None:
    writers = writers_of(HOMES)
    assert [w.channel for w in writers] == ["sms", "telegram", "sms", "telegram"]
    assert [w.chat for w in writers] == [None, FIRST_CHAT + 1, None, FIRST_CHAT + 3]


@pytest.mark.parametrize(
    ("index", "answer", "kind"),
    [
        (0, Answer(200, b'<?xml version="1.0"?><Response />', 0.01), "ok"),
        (0, Answer(200, b"{}", 0.01), "not TwiML"),
        (1, Answer(200, b"{}", 0.01), "ok"),
        (1, Answer(500, b"boom", 0.01), "HTTP 500"),
        (1, Answer(0, b"refused", 0.01, "ClientConnectorError"), "ClientConnectorError"),
    ],
)
def test_answers_are_judged_by_channel(index: int, answer: Answer, kind: str) -> None:
    assert judge(writers_of(HOMES)[index], answer) == kind


def _run(seconds: float) -> Run:
    run = Run(wall_s=1.0)
    for channel in ("sms", "telegram"):
        for phase in ("open", "follow-up"):
            for _ in range(10):
                run.record((channel, phase), seconds, "ok", "")
    return run


def test_the_p99_target_is_per_channel_and_stored_counts_are_checked() -> None:
    runs = {"service": _run(0.2), "baseline": _run(0.01), "service warm-up": Run()}
    outcome = _outcome(Options(10, 5, Stores()), runs, (110, 220), "1.00, 1.00, 1.00")
    by_key = {f.key: f for f in outcome.figures}
    assert by_key["service_sms_p99_ms"].ok is False
    assert by_key["service_telegram_p99_ms"].target == f"<= {P99_TARGET_MS:g} ms"
    assert by_key["baseline_sms_p99_ms"].ok is None
    assert by_key["contacts"].ok and by_key["messages"].ok
    assert outcome.failures == 0 and outcome.requests == 80


def test_a_failed_request_counts() -> None:
    run = _run(0.01)
    run.record(("sms", "open"), 0.01, "HTTP 500", "boom")
    assert run.failures == 1 and run.first_error.startswith("sms open: HTTP 500")


def test_too_few_conversations_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--conversations", "1"])
    assert "at least 2" in capsys.readouterr().err
