"""Capacity, the waitlist, offers and reminders: the pure core, with named instants."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rota.wallclock import zone
from routing.invitation_texts import EventText, confirmation, invitation, invitation_fits
from routing.invitations import (
    Closed,
    Coming,
    Due,
    EventFacts,
    NoRoomForMore,
    NotComing,
    Reply,
    TooMany,
    Waitlisted,
    answer,
    day_before_at,
    due_reminders,
    expired,
    next_due,
    offers,
    yes_people,
)
from routing.segments import segments
from tests.unit.rota_fixtures import oslo

TZ = zone("Europe/Oslo")
NOW = oslo(2026, 11, 30, 12)
INVITED = oslo(2026, 11, 30, 9)
EVENT = EventFacts(12, oslo(2026, 12, 10, 18), oslo(2026, 12, 10, 20), 2, oslo(2026, 12, 6), False)
CLAIM = timedelta(hours=24)


def homes(*names: str) -> list[Reply]:
    return [Reply(name, INVITED) for name in names]


def play(event: EventFacts, replies: list[Reply], *answers: tuple[str, bool, int]) -> list[Reply]:
    """Answers in order, each stored as the service stores it."""
    queue = 0
    for home, yes, people in answers:
        queue += 1
        decided = answer(event, replies, home, yes, people, NOW, queue)
        if decided.reply is not None:
            replies = [decided.reply if r.home == home else r for r in replies]
    return replies


def test_yes_until_full_then_the_waitlist_in_order() -> None:
    replies = homes("a", "b", "c", "d")
    replies = play(EVENT, replies, ("a", True, 1), ("b", True, 1))
    third = answer(EVENT, replies, "c", True, 1, NOW, 3)
    assert third.outcome == Waitlisted(1, 1, False)
    replies = play(EVENT, replies, ("c", True, 1), ("d", True, 1))
    assert [(r.home, r.answer) for r in replies] == [
        ("a", "yes"), ("b", "yes"), ("c", "waitlist"), ("d", "waitlist"),
    ]  # fmt: skip
    no = answer(EVENT, replies, "b", False, 0, NOW, 5)
    assert no.outcome == NotComing(False) and no.frees


def test_offers_go_in_order_and_the_head_is_never_passed() -> None:
    replies = play(EVENT, homes("a", "b", "c", "d"), ("a", True, 2), ("c", True, 2), ("d", True, 1))
    replies = play(EVENT, replies, ("a", True, 1))  # one place free; the head needs two
    assert offers(EVENT, replies, NOW, NOW, CLAIM, lambda _h: True) == []
    replies = play(EVENT, replies, ("a", False, 0))
    [made] = offers(EVENT, replies, NOW, NOW, CLAIM, lambda _h: True)
    assert (made.home, made.people, made.until) == ("c", 2, NOW + CLAIM)
    unreachable = offers(EVENT, replies, NOW, NOW, CLAIM, lambda h: h != "c")
    assert [o.home for o in unreachable] == ["d"]  # a home that said STOPP keeps its place


def test_an_offer_holds_its_places_and_expires() -> None:
    replies = play(EVENT, homes("a", "b", "c"), ("a", True, 2), ("b", True, 1), ("c", True, 1))
    replies = play(EVENT, replies, ("a", True, 1))
    [made] = offers(EVENT, replies, NOW, NOW, CLAIM, lambda _h: True)
    replies = [replace(r, offer_until=made.until) if r.home == made.home else r for r in replies]
    assert offers(EVENT, replies, NOW, NOW, CLAIM, lambda _h: True) == []  # held already
    assert expired(replies, NOW + CLAIM - timedelta(seconds=1)) == []
    assert [r.home for r in expired(replies, NOW + CLAIM)] == ["b"]
    claimed = answer(EVENT, replies, "b", True, 1, NOW + timedelta(hours=1), 9)
    assert claimed.outcome == Coming(1, False)


@pytest.mark.parametrize(
    ("send_at", "until"),
    [
        (oslo(2026, 12, 9, 12), oslo(2026, 12, 10, 12)),  # a full day
        (oslo(2026, 12, 10, 8), oslo(2026, 12, 10, 16)),  # two hours before the start
        (oslo(2026, 12, 10, 16), None),  # too late for an offer
    ],
)
def test_the_claim_window_ends_two_hours_before_the_start(
    send_at: datetime, until: datetime | None
) -> None:
    replies = play(EVENT, homes("a", "b", "c"), ("a", True, 1), ("b", True, 1), ("c", True, 1))
    replies = [replace(r, answer="no", people=0) if r.home == "a" else r for r in replies]
    made = offers(EVENT, replies, send_at, send_at, CLAIM, lambda _h: True)
    assert [o.until for o in made] == ([until] if until else [])


@pytest.mark.parametrize(
    ("asked", "outcome"),
    [(3, TooMany(2)), (2, Coming(2, False))],
)
def test_more_than_capacity_is_refused(asked: int, outcome: object) -> None:
    assert answer(EVENT, homes("a"), "a", True, asked, NOW, 1).outcome == outcome


def test_more_for_a_home_that_has_places_does_not_pass_the_line() -> None:
    event = replace(EVENT, capacity=3)
    replies = play(event, homes("a", "b"), ("a", True, 1), ("b", True, 3))
    assert answer(event, replies, "a", True, 2, NOW, 9).outcome == NoRoomForMore(1)


def test_late_and_closed() -> None:
    late = answer(EVENT, homes("a"), "a", True, 1, oslo(2026, 12, 7, 9), 1)
    assert late.outcome == Coming(1, True)
    begun = answer(EVENT, homes("a"), "a", False, 0, EVENT.starts, 1)
    assert begun.outcome == Closed("over") and begun.reply is None
    cancelled = answer(replace(EVENT, cancelled=True), homes("a"), "a", True, 1, NOW, 1)
    assert cancelled.outcome == Closed("cancelled")


@given(
    st.lists(st.tuples(st.sampled_from("abcdefgh"), st.booleans(), st.integers(1, 4)), max_size=40),
    st.integers(1, 6),
)
def test_yes_never_exceeds_capacity(script: list[tuple[str, bool, int]], capacity: int) -> None:
    event = replace(EVENT, capacity=capacity)
    replies = homes(*"abcdefgh")
    for queue, (home, yes, people) in enumerate(script, start=1):
        decided = answer(event, replies, home, yes, people, NOW, queue)
        if decided.reply is not None:
            replies = [decided.reply if r.home == home else r for r in replies]
        assert yes_people(replies) <= capacity
        for made in offers(event, replies, NOW, NOW, CLAIM, lambda _h: True):
            replies = [replace(r, offer_until=made.until) if r.home == made.home else r
                       for r in replies]  # fmt: skip
        held = sum(r.people for r in replies if r.holds_offer(NOW))
        assert yes_people(replies) + held <= capacity


def test_reminders_are_due_once_and_at_their_times() -> None:
    event = replace(EVENT, capacity=None)
    replies = play(event, homes("a", "b"), ("a", True, 1))
    before = oslo(2026, 12, 3, 23, 59)
    assert due_reminders(event, replies, set(), before, time(12), TZ) == []
    at = oslo(2026, 12, 4)  # 48 h before the deadline (the end of 5 December)
    assert due_reminders(event, replies, set(), at, time(12), TZ) == [Due("no_answer", "b")]
    assert due_reminders(event, replies, {("no_answer", "b")}, at, time(12), TZ) == []
    assert day_before_at(event, time(12), TZ) == oslo(2026, 12, 9, 12)
    day_before = oslo(2026, 12, 9, 12)
    assert Due("day_before", "a") in due_reminders(event, replies, set(), day_before, time(12), TZ)
    assert next_due(event, replies, NOW, time(12), TZ) == at


def text(title: str = "Nettverkstreff i Asker", place: str = "Asker kulturhus") -> EventText:
    return EventText(12, title, EVENT.starts, EVENT.ends, place, EVENT.rsvp_by, TZ)


def test_the_invitation_reads_and_fits_two_segments() -> None:
    body = invitation(text(), "sms", "https://fosterhjemstelefonen.no/svar/" + "x" * 32)
    assert body.startswith(
        "Invitasjon: Nettverkstreff i Asker, torsdag 10. desember kl. 18:00-20:00, Asker "
        "kulturhus. Svar JA 12 eller NEI 12 innen lørdag 5. desember."
    )
    assert segments(body).encoding == "gsm7" and segments(body).count == 2
    assert invitation_fits(text(), "https://fosterhjemstelefonen.no/svar/")
    assert not invitation_fits(text("Fagdag " * 14, "Storsalen " * 9), "https://x.no/svar/")
    assert not invitation_fits(text("Kafé ☕ for fosterforeldre"), "https://x.no/svar/")


def test_the_waitlist_confirmation_tells_the_position() -> None:
    told = confirmation(text(), Waitlisted(2, 1, False), "sms")
    assert "Du står som nr. 2 på ventelisten" in told


def test_an_offer_does_not_grow_with_the_answer() -> None:
    """Found by `test_yes_never_exceeds_capacity`: a home holding an offer for 2 places
    that answers JA 3 kept its offer, now for 3, beyond the capacity. It keeps its place
    in line, and the offer lapses."""
    event = replace(EVENT, capacity=5)
    replies = play(event, homes("a", "b", "d"), ("a", True, 2), ("b", True, 2), ("d", True, 2))
    replies = play(event, replies, ("a", True, 1))
    [made] = offers(event, replies, NOW, NOW, CLAIM, lambda _h: True)
    assert (made.home, made.people) == ("d", 2)
    replies = [replace(r, offer_until=made.until) if r.home == "d" else r for r in replies]
    decided = answer(event, replies, "d", True, 3, NOW, 9)
    assert decided.outcome == Waitlisted(1, 3, False, already=True)
    assert decided.reply is not None and decided.reply.offer_until is None and decided.frees
