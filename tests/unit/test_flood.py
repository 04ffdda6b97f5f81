"""Flood control decisions, as tables: windows, notify-or-batch, the unknown-number cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing import message_texts as mt
from routing.flood import (
    BatchAt,
    Notice,
    NotifyNow,
    Pending,
    floods,
    follow_up,
    notice,
    window_at,
)
from tests.unit.test_message_texts import ENGLISH, NORWEGIAN

MINUTE = timedelta(minutes=1)
T = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a whole minute and a whole hour
W0 = window_at(T, MINUTE)
OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("instant", "span", "start", "end"),
    [
        (T, MINUTE, T, T + MINUTE),  # the start belongs to the window
        (T + timedelta(seconds=59.999), MINUTE, T, T + MINUTE),
        (T + MINUTE, MINUTE, T + MINUTE, T + 2 * MINUTE),  # the end does not
        (T + timedelta(minutes=29), timedelta(hours=1), T, T + timedelta(hours=1)),
        (
            T + timedelta(seconds=7),
            timedelta(seconds=5),
            T + timedelta(seconds=5),
            T + timedelta(seconds=10),
        ),
        # Any zone names the same window: they are slices of UTC time, DST or not.
        (
            datetime(2026, 10, 25, 2, 30, tzinfo=UTC).astimezone(OSLO),
            timedelta(hours=1),
            datetime(2026, 10, 25, 2, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 3, 0, tzinfo=UTC),
        ),
    ],
)
def test_window_at(instant: datetime, span: timedelta, start: datetime, end: datetime) -> None:
    window = window_at(instant, span)
    assert (window.start, window.end) == (start, end)
    assert window.index == int(start.timestamp() // span.total_seconds())


def test_window_at_refuses_naive_instants_and_empty_spans() -> None:
    with pytest.raises(ValueError, match="naive"):
        window_at(datetime(2026, 11, 23, 9, 0), MINUTE)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="positive"):
        window_at(T, timedelta(0))


@pytest.mark.parametrize(
    ("claimed", "mark", "received", "decision"),
    [
        (None, T, T + timedelta(seconds=5), NotifyNow()),  # Redis down: fail open
        (True, T, T + timedelta(seconds=5), NotifyNow()),  # the window's first: now
        (False, T, T + timedelta(seconds=5), BatchAt(W0.end, W0)),  # told already: batch
        (False, None, T + timedelta(seconds=5), NotifyNow()),  # no mark: opened before
        (False, T, T, NotifyNow()),  # at the mark: a batch would never read it
        (False, T + timedelta(seconds=9), T + timedelta(seconds=5), NotifyNow()),  # a slow clock
    ],
)
def test_follow_up_notifies_now_or_batches(
    claimed: bool | None, mark: datetime | None, received: datetime, decision: object
) -> None:
    assert follow_up(claimed, W0, mark, received) == decision


@pytest.mark.parametrize(
    ("count", "cap", "flooded"),
    [
        (1, 10, False),
        (10, 10, False),
        (11, 10, True),
        (500, 10, True),
        (None, 10, False),
        (2, 1, True),
    ],
)
def test_floods_over_the_cap_only(count: int | None, cap: int, flooded: bool) -> None:
    assert floods(count, cap) is flooded


def test_floods_needs_a_positive_cap() -> None:
    with pytest.raises(ValueError):
        floods(1, 0)


@pytest.mark.parametrize(
    ("pending", "mark", "expected"),
    [
        ([], T, None),
        ([Pending(T + MINUTE, "b"), Pending(T, "a")], None, Notice(("a", "b"), T + MINUTE)),
        ([Pending(T, "a")], T + MINUTE, Notice(("a",), T + MINUTE)),  # the mark never goes back
        ([Pending(T, "x"), Pending(T, "y")], T, Notice(("x", "y"), T)),  # ties keep their order
    ],
)
def test_notice_tells_everything_pending_oldest_first(
    pending: list[Pending], mark: datetime | None, expected: Notice | None
) -> None:
    assert notice(pending, mark) == expected


def test_a_batch_notice_counts_and_quotes_the_messages() -> None:
    text = mt.follow_up_batch("Familien Hansen", "Asker", ["Hei", "Det haster", "Ring meg"], "K7")
    assert text == (
        "3 nye meldinger fra Familien Hansen (Asker) i #K7:\n«Hei»\n«Det haster»\n«Ring meg»\n"
        "Svar med #K7 din tekst."
    )
    assert mt.follow_up_batch(None, "Asker", ["Hei"], "K8") == mt.follow_up(
        None, "Asker", "Hei", "K8"
    )


def test_a_long_batch_notice_fits_in_one_sms_and_says_how_many_are_left_out() -> None:
    bodies = [f"{i}: " + "æ" * 300 for i in range(30)]
    text = mt.follow_up_batch("Familien Hansen", "Asker", bodies, "K7")
    assert len(text) <= 1600 and text.startswith("30 nye meldinger")
    quoted = text.count("«")
    assert quoted < 30 and f"… og {30 - quoted} til. Les alle i kontaktloggen." in text
    assert len(mt.follow_up_batch(None, None, ["x" * 5000, "y"], "K7")) <= 1600


FLOOD_TEXTS = {
    "batch": mt.follow_up_batch("Familien Hansen", "Asker", ["Hei", "Ring meg"], "K7"),
    "flood_notification": mt.flood_notification("Asker", "Hei", "K9"),
    "flood_notification_telegram": mt.flood_notification("Asker", "Hei", "K9", telegram=True),
    "flood_alert": mt.flood_alert("Asker", "K9", 10),
    "flood_no_reply": mt.flood_no_reply("K9"),
}


@pytest.mark.parametrize("name", sorted(FLOOD_TEXTS))
def test_flood_texts_are_norwegian_and_complete(name: str) -> None:
    text = FLOOD_TEXTS[name]
    assert NORWEGIAN.search(text) and not ENGLISH.search(text), text
    assert "{" not in text and "None" not in text


def test_the_flood_texts_say_where_and_how_many() -> None:
    assert "Over 10 nye henvendelser fra ukjente numre til Asker" in FLOOD_TEXTS["flood_alert"]
    assert "#K9" in FLOOD_TEXTS["flood_alert"] and "kontaktloggen" in FLOOD_TEXTS["flood_alert"]
    assert "«Hei»" in FLOOD_TEXTS["flood_notification"]
    assert "ikke sendt" in FLOOD_TEXTS["flood_no_reply"]
