"""Flood control: when to tell staff about follow-ups, and when unknown numbers flood.

Nothing here drops a message: every inbound message is stored and answered by the service;
these decisions only say whether staff hear of it now or in the next batch notice, and
whether a new unknown number gets its own conversation or joins the line's flood
conversation. The service keeps the counters in Redis (shared by every web process) and
passes what they said; `None` means Redis could not be asked, and then the answer is
always the one that notifies (fail open).

Windows are fixed slices of time (`span` long, counted from the Unix epoch), so every
process agrees which window an instant belongs to without asking anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Window:
    """One slice of time: number `index` of length `end - start` since the epoch."""

    index: int
    start: datetime
    end: datetime


def window_at(instant: datetime, span: timedelta) -> Window:
    """The window of length `span` that holds `instant` (start included, end not)."""
    if instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant.isoformat()}: pass an aware one")
    if span <= timedelta(0):
        raise ValueError("a window needs a positive span")
    index = (instant - EPOCH) // span
    start = EPOCH + index * span
    return Window(index, start, start + span)


@dataclass(frozen=True, slots=True)
class NotifyNow:
    """Tell staff now, with every follow-up not yet told."""


@dataclass(frozen=True, slots=True)
class BatchAt:
    """Staff were told in this window already: one batch notice at `due_at` (its end)."""

    due_at: datetime
    window: Window


FollowUpDecision = NotifyNow | BatchAt


def follow_up(
    claimed: bool | None, window: Window, notified_up_to: datetime | None, received_at: datetime
) -> FollowUpDecision:
    """A follow-up arrived at `received_at`, in `window`: notify now, or batch it?

    `claimed` is whether this message was the first to claim the conversation's window in
    Redis (None: Redis is down). `notified_up_to` is the stored mark: staff have been told
    of every follow-up received up to it. A batch notice reads the messages after the
    mark, so a message at or before it, or in a conversation without one (opened before
    flood control), is notified now, like one whose window is new or whose counter
    could not be asked."""
    if claimed is None or claimed:
        return NotifyNow()
    if notified_up_to is None or received_at <= notified_up_to:
        return NotifyNow()
    return BatchAt(window.end, window)


def floods(opened_this_hour: int | None, cap: int) -> bool:
    """Does a new conversation from an unknown number go to the line's flood conversation?

    `opened_this_hour` counts new conversations from unknown numbers on this helpline
    number in this clock hour, this one included (None: Redis is down, so it does not)."""
    if cap < 1:
        raise ValueError("the cap on new conversations from unknown numbers must be positive")
    return opened_this_hour is not None and opened_this_hour > cap


@dataclass(frozen=True, slots=True)
class Pending:
    """A follow-up staff have not been told about yet."""

    received_at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Tell staff about `bodies` (oldest first); afterwards the mark is `notified_up_to`."""

    bodies: tuple[str, ...]
    notified_up_to: datetime


def notice(pending: Sequence[Pending], notified_up_to: datetime | None) -> Notice | None:
    """The one notice for the follow-ups not yet told, or None when there are none.

    The mark only moves forward: to the newest message told, or stays where it was."""
    if not pending:
        return None
    ordered = sorted(pending, key=lambda p: p.received_at)
    newest = ordered[-1].received_at
    mark = newest if notified_up_to is None else max(newest, notified_up_to)
    return Notice(tuple(p.body for p in ordered), mark)


def after_lost_mark(notice: Notice, current_body: str | None) -> Notice | None:
    """Another run moved the mark first, so it told the pending follow-ups: tell none of
    them twice, but still the message being handled now (`current_body`), never dropped."""
    if current_body is None:
        return None
    return Notice((current_body,), notice.notified_up_to)
