"""The inbox's core: who sees a conversation, who may act, the order, the waits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.access import ADMIN, Scope
from routing.conversations import Conversation
from routing.inbox import (
    InboxItem,
    MessageTime,
    Viewer,
    ordered,
    refusal,
    sees,
    version,
    waited_text,
)
from routing.replies import Reply, Take
from routing.staff_commands import StaffSender
from tests.unit.message_fixtures import KARI, OLA, OLA_SMS, at, hansen

ASKER_KOORDINATOR = Scope("koordinator", frozenset({"asker"}))
BAERUM_KOORDINATOR = Scope("koordinator", frozenset({"baerum"}))
ASKER_VAKT = Scope("vakt", frozenset({"asker"}))


def item(
    conversation: Conversation, *messages: MessageTime, kommune: str | None = "asker"
) -> InboxItem:
    return InboxItem(conversation, kommune, "sms", at(0), messages)


def viewer(entry_person: str, phone: str, scope: Scope) -> Viewer:
    return Viewer(entry_person, phone, scope)


def foster(minutes: int) -> MessageTime:
    return MessageTime("in", "foster_parent", at(minutes))


def staff(minutes: int) -> MessageTime:
    return MessageTime("out", "staff", at(minutes))


@pytest.mark.parametrize(
    ("who", "notified", "seen"),
    [
        (viewer("kari", KARI.phone, ASKER_VAKT), 1, True),  # notified first
        (viewer("ola", OLA.phone, ASKER_VAKT), 1, False),  # backup, not told yet
        (viewer("ola", OLA.phone, ASKER_VAKT), 2, True),  # told after the deadline
        (viewer("ola", "+4700000000", ASKER_VAKT), 2, True),  # by person, any phone
        (viewer("per", "+4791234569", ASKER_KOORDINATOR), 1, True),  # Asker's koordinator
        (viewer("marte", "+4793345012", BAERUM_KOORDINATOR), 1, False),
        (viewer("siri", "+4791110000", ADMIN), 1, True),
    ],
)  # fmt: skip
def test_who_sees_a_conversation(who: Viewer, notified: int, seen: bool) -> None:
    assert sees(item(hansen(notified)), who) is seen


def test_everyone_in_an_exhausted_chain_sees_it() -> None:
    assert sees(item(hansen(4, exhausted_at=at(40))), viewer("ola", OLA.phone, ASKER_VAKT))


def test_the_one_who_took_it_still_sees_it_and_a_koordinator_without_kommune_does_not() -> None:
    taken = hansen(1)
    taken = replace(taken, state=replace(taken.state, taken_at=at(2), taken_phone="+4799999999"))
    assert sees(item(taken), viewer("x", "+4799999999", ASKER_VAKT))
    assert not sees(item(hansen(1), kommune=None), viewer("per", "+1", ASKER_KOORDINATOR))
    assert sees(item(hansen(1), kommune=None), viewer("siri", "+2", ADMIN))


def test_refusals() -> None:
    kari = StaffSender("kari", KARI.phone, KARI.name, OLA_SMS)
    ola = StaffSender("ola", OLA.phone, OLA.name, OLA_SMS)
    assert refusal(hansen(1), kari, Take("K7")) is None
    assert refusal(hansen(1), ola, Take("K7")) == "not_involved"
    assert refusal(hansen(1, closed_at=at(5)), kari, Take("K7")) == "closed"
    assert refusal(hansen(1, flood=True), kari, Reply("K7", "hei")) == "flood"
    assert refusal(hansen(1, flood=True), kari, Take("K7")) is None


@pytest.mark.parametrize(
    ("messages", "since"),
    [
        ((foster(0),), at(0)),
        ((foster(0), foster(3)), at(0)),  # the first unanswered one counts
        ((foster(0), staff(4)), None),
        ((foster(0), staff(4), foster(9), foster(11)), at(9)),  # a follow-up waits again
        ((foster(0), MessageTime("out", "system", at(1))), at(0)),  # a receipt is no answer
    ],
)  # fmt: skip
def test_how_long_the_foster_parent_has_waited(
    messages: tuple[MessageTime, ...], since: object
) -> None:
    assert item(hansen(1), *messages).waiting_since == since


def test_the_order_urgent_then_longest_waiting_then_answered() -> None:
    def numbered(n: int, *messages: MessageTime, urgent: bool = False) -> InboxItem:
        base = hansen(1)
        return item(replace(base, id=n, state=replace(base.state, urgent=urgent)), *messages)

    answered = numbered(1, foster(0), staff(1))
    late = numbered(2, foster(5))
    early = numbered(3, foster(2))
    urgent = numbered(4, foster(8), urgent=True)
    assert [i.conversation.id for i in ordered([answered, late, early, urgent])] == [4, 3, 2, 1]


def test_the_version_changes_with_a_message_not_with_the_clock() -> None:
    one = [item(hansen(1), foster(0))]
    assert version(one) == version([item(hansen(1), foster(0))])
    assert version(one) != version([item(hansen(1), foster(0), foster(1))])
    assert version(one) != version([item(hansen(2), foster(0))])
    assert version([]) != version(one)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "under 1 min"), (59, "under 1 min"), (60, "1 min"), (3599, "59 min"), (3600, "1 t"),
     (3900, "1 t 5 min"), (86400, "1 d"), (97200, "1 d 3 t"), (-5, "under 1 min")],
)  # fmt: skip
def test_waited_text(seconds: float, text: str) -> None:
    assert waited_text(seconds) == text
