"""Invitations to events: capacity, the waitlist, offers and reminders. Pure: the time and
every home's answer are handed in, a decision comes back.

* Capacity counts people. An answer that fits is `yes`; one that does not goes on the
  waitlist, first come first served (`queue`, a number from the event's counter, orders it).
* Places free up when a yes becomes a no, when a yes comes down in people, when capacity
  is raised, or when an offer expires. The first on the waitlist then gets an offer whose
  places are held for it until `offer_until`; the head of the waitlist is never passed
  over for a smaller answer behind it (that keeps the order). A home that cannot be
  reached (it said STOPP) gets no offer and keeps its place.
* An offer that was not claimed in time expires: the home leaves the waitlist
  (`expired`) and the next one gets an offer.
* Reminders: homes without an answer 48 h before the answer deadline; homes coming, the
  day before at the configured local time. Each once per (event, kind, home).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Literal, TypeGuard
from zoneinfo import ZoneInfo

from rota.wallclock import local_instant

AnswerState = Literal["yes", "no", "waitlist", "expired"]
ANSWER_STATES: tuple[AnswerState, ...] = ("yes", "no", "waitlist", "expired")
Channel = Literal["sms", "telegram", "link"]

NO_ANSWER_REMINDER = timedelta(hours=48)  # before the answer deadline
OFFER_MARGIN = timedelta(hours=2)  # an offer always ends this long before the start
ReminderKind = Literal["no_answer", "day_before"]


def is_answer(text: str) -> TypeGuard[AnswerState]:
    return text in ANSWER_STATES


@dataclass(frozen=True, slots=True)
class EventFacts:
    """An event as the decisions need it."""

    id: int
    starts: datetime
    ends: datetime
    capacity: int | None  # None: no limit
    rsvp_by: datetime
    cancelled: bool


@dataclass(frozen=True, slots=True)
class Reply:
    """One invited home and where its answer stands."""

    home: str
    invited_at: datetime
    answer: AnswerState | None = None
    people: int = 0
    queue: int | None = None  # place in line while on the waitlist (lower is earlier)
    offer_until: datetime | None = None  # an offer holds places for it until then
    answered_at: datetime | None = None

    def holds_offer(self, now: datetime) -> bool:
        return self.answer == "waitlist" and self.offer_until is not None and now < self.offer_until


# -- answering ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coming:
    """Yes, `people` coming; `changed`: it was yes already with another number."""

    people: int
    late: bool
    changed: bool = False


@dataclass(frozen=True, slots=True)
class Waitlisted:
    """On the waitlist as number `position`; `already`: it was there before."""

    position: int
    people: int
    late: bool
    already: bool = False


@dataclass(frozen=True, slots=True)
class NotComing:
    late: bool


@dataclass(frozen=True, slots=True)
class NoRoomForMore:
    """It was yes with `kept` people; more do not fit, so the yes stands as it was."""

    kept: int


@dataclass(frozen=True, slots=True)
class TooMany:
    """More people than the event has places at all."""

    capacity: int


@dataclass(frozen=True, slots=True)
class Closed:
    """The event was cancelled, or has begun: no answers are taken."""

    why: Literal["cancelled", "over"]


Outcome = Coming | Waitlisted | NotComing | NoRoomForMore | TooMany | Closed


@dataclass(frozen=True, slots=True)
class Answered:
    """What an answer does: the home's reply to store (None: unchanged) and what it is told.
    `frees`: places may have come free, so offers are to be looked at."""

    reply: Reply | None
    outcome: Outcome
    frees: bool = False


def yes_people(replies: Sequence[Reply], but: str | None = None) -> int:
    """People coming, leaving out home `but`."""
    return sum(r.people for r in replies if r.answer == "yes" and r.home != but)


def held_by_offers(replies: Sequence[Reply], now: datetime, but: str | None = None) -> int:
    """Places held for waitlisted homes with an offer standing, leaving out `but`."""
    return sum(r.people for r in replies if r.holds_offer(now) and r.home != but)


def free_places(replies: Sequence[Reply], capacity: int | None, now: datetime) -> int | None:
    """Places neither taken nor held by an offer; None: no limit."""
    if capacity is None:
        return None
    return max(0, capacity - yes_people(replies) - held_by_offers(replies, now))


def position(replies: Sequence[Reply], home: str) -> int:
    """A waitlisted home's place in line (1 is next)."""
    line = waitlist(replies)
    return next(i for i, r in enumerate(line, start=1) if r.home == home)


def waitlist(replies: Sequence[Reply]) -> list[Reply]:
    """The waitlist in order."""
    waiting = [r for r in replies if r.answer == "waitlist"]
    return sorted(waiting, key=lambda r: (r.queue if r.queue is not None else 0, r.home))


def answer(
    event: EventFacts,
    replies: Sequence[Reply],
    home: str,
    yes: bool,
    people: int,
    now: datetime,
    queue: int,
) -> Answered:
    """Home `home` answers yes (with `people`) or no at `now`; `queue` is the next number
    of the event's counter, used if the home joins the waitlist."""
    current = next(r for r in replies if r.home == home)
    if event.cancelled:
        return Answered(None, Closed("cancelled"))
    if now >= event.starts:
        return Answered(None, Closed("over"))
    late = now > event.rsvp_by
    if not yes:
        if current.answer == "no":
            return Answered(None, NotComing(late))
        frees = current.answer == "yes" or current.holds_offer(now)
        reply = replace(
            current, answer="no", people=0, queue=None, offer_until=None, answered_at=now
        )
        return Answered(reply, NotComing(late), frees)
    if event.capacity is None:
        changed = current.answer == "yes" and current.people != people
        if current.answer == "yes" and not changed:
            return Answered(None, Coming(people, late))
        reply = replace(current, answer="yes", people=people, queue=None, answered_at=now)
        return Answered(reply, Coming(people, late, changed), frees=False)
    if people > event.capacity:
        return Answered(None, TooMany(event.capacity))
    return _yes_within(event.capacity, replies, current, people, now, queue, late)


def _yes_within(
    capacity: int,
    replies: Sequence[Reply],
    current: Reply,
    people: int,
    now: datetime,
    queue: int,
    late: bool,
) -> Answered:
    if current.answer == "yes":
        if people == current.people:
            return Answered(None, Coming(people, late))
        if people < current.people:
            reply = replace(current, people=people, answered_at=now)
            return Answered(reply, Coming(people, late, changed=True), frees=True)
        room = capacity - yes_people(replies, current.home) - held_by_offers(replies, now)
        waiting = any(not r.holds_offer(now) for r in waitlist(replies))
        if people > room or waiting:  # more places for one who has some: after the line
            return Answered(None, NoRoomForMore(current.people))
        reply = replace(current, people=people, answered_at=now)
        return Answered(reply, Coming(people, late, changed=True))
    room = capacity - yes_people(replies) - held_by_offers(replies, now, but=current.home)
    ahead = [r for r in waitlist(replies) if r.home != current.home and not r.holds_offer(now)]
    if current.answer == "waitlist" and current.queue is not None:
        ahead = [r for r in ahead if r.queue is not None and r.queue < current.queue]
    claims = current.holds_offer(now)
    if people <= room and (claims or not ahead):
        reply = replace(
            current, answer="yes", people=people, queue=None, offer_until=None, answered_at=now
        )
        return Answered(reply, Coming(people, late))
    if current.answer == "waitlist":
        keeps = replace(current, people=people)
        lapses = claims and people > current.people  # an offer holds only what it offered
        if lapses:
            keeps = replace(keeps, offer_until=None)
        if keeps == current:
            return Answered(None, Waitlisted(position(replies, current.home), people, late, True))
        updated = [keeps if r.home == current.home else r for r in replies]
        frees = people < current.people or lapses  # a smaller answer may now fit
        return Answered(
            keeps, Waitlisted(position(updated, current.home), people, late, True), frees
        )
    reply = replace(
        current, answer="waitlist", people=people, queue=queue, offer_until=None, answered_at=now
    )
    updated = [reply if r.home == current.home else r for r in replies]
    return Answered(reply, Waitlisted(position(updated, current.home), people, late))


# -- offers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Offer:
    """Places held for `home` until `until`."""

    home: str
    people: int
    until: datetime


def offer_deadline(event: EventFacts, send_at: datetime, claim: timedelta) -> datetime | None:
    """When an offer sent at `send_at` ends: after `claim`, but at least `OFFER_MARGIN`
    before the start; None when no such time is left."""
    until = min(send_at + claim, event.starts - OFFER_MARGIN)
    return until if until > send_at else None


def offers(
    event: EventFacts,
    replies: Sequence[Reply],
    now: datetime,
    send_at: datetime,
    claim: timedelta,
    reachable: Callable[[str], bool],
) -> list[Offer]:
    """The offers to make now: while places are free, to the waitlist in order. The head
    that does not fit stops the line; homes that already hold an offer, or cannot be
    reached, are passed. `send_at`: when the offer will go out (after quiet hours)."""
    if event.cancelled or event.capacity is None or now >= event.starts:
        return []
    until = offer_deadline(event, send_at, claim)
    free = free_places(replies, event.capacity, now)
    if until is None or not free:
        return []
    made: list[Offer] = []
    for reply in waitlist(replies):
        if reply.holds_offer(now) or not reachable(reply.home):
            continue
        if reply.people > free:
            break
        made.append(Offer(reply.home, reply.people, until))
        free -= reply.people
        if free == 0:
            break
    return made


def expired(replies: Sequence[Reply], now: datetime) -> list[Reply]:
    """Waitlisted homes whose offer ran out unclaimed."""
    return [
        r
        for r in replies
        if r.answer == "waitlist" and r.offer_until is not None and r.offer_until <= now
    ]


# -- reminders -------------------------------------------------------------------------------


def no_answer_at(event: EventFacts) -> datetime:
    return event.rsvp_by - NO_ANSWER_REMINDER


def day_before_at(event: EventFacts, at: time, tz: ZoneInfo) -> datetime:
    """The day-before reminder's instant: `at` local time on the day before the start."""
    day = event.starts.astimezone(tz).date() - timedelta(days=1)
    return local_instant(day, at, tz)


@dataclass(frozen=True, slots=True)
class Due:
    """A reminder due to a home now."""

    kind: ReminderKind
    home: str


def due_reminders(
    event: EventFacts,
    replies: Sequence[Reply],
    sent: set[tuple[str, str]],
    now: datetime,
    reminder_at: time,
    tz: ZoneInfo,
) -> list[Due]:
    """The reminders due at `now` that were not sent (`sent`: (kind, home) pairs). A home
    invited, or answering yes, after a reminder's time gets none: its answer or its
    confirmation said it all."""
    if event.cancelled or now >= event.starts:
        return []
    due: list[Due] = []
    first = no_answer_at(event)
    if first <= now < event.rsvp_by:
        due += [
            Due("no_answer", r.home)
            for r in replies
            if r.answer is None and r.invited_at < first and ("no_answer", r.home) not in sent
        ]
    second = day_before_at(event, reminder_at, tz)
    if second <= now:
        due += [
            Due("day_before", r.home)
            for r in replies
            if r.answer == "yes"
            and r.answered_at is not None
            and r.answered_at < second
            and ("day_before", r.home) not in sent
        ]
    return due


def next_due(
    event: EventFacts, replies: Sequence[Reply], now: datetime, reminder_at: time, tz: ZoneInfo
) -> datetime | None:
    """The next instant after `now` at which something of this event falls due: a
    reminder's time or an offer's end."""
    if event.cancelled or now >= event.starts:
        return None
    moments = [no_answer_at(event), day_before_at(event, reminder_at, tz)]
    moments += [r.offer_until for r in replies if r.answer == "waitlist" and r.offer_until]
    later = [m for m in moments if m > now]
    return min(later) if later else None
