"""Who hears of a conversation, and on which channel."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rota.model import ChainEntry
from routing import buttons
from routing import message_texts as say
from routing.conversations import Conversation
from routing.effects import Outgoing
from routing.ports import Button, Party
from routing.recipients import (
    alert_audience,
    followup_targets,
    foster_party,
    notification,
    party_for,
    staff_buttons,
)
from tests.unit.message_fixtures import KARI, KARI_CHAT, KARI_SMS, NINA, OLA, OLA_SMS, hansen
from tests.unit.rota_fixtures import DUTY_PHONE, FALLBACK, FALLBACK_PHONE

CHATS = {"kari": "5001", "nina": "5003"}

PARTIES = [
    pytest.param(KARI, CHATS, KARI_CHAT, id="linked-person-on-telegram"),
    pytest.param(OLA, CHATS, OLA_SMS, id="unlinked-person-by-sms"),
    pytest.param(KARI, {}, KARI_SMS, id="no-links-at-all"),
    # Nina carries the duty phone: her entry is hers, so her own chat reaches her.
    pytest.param(NINA, CHATS, Party("telegram", "5003"), id="duty-phone-of-a-linked-person"),
    pytest.param(replace(NINA, person=None), CHATS, Party("sms", DUTY_PHONE), id="team-phone"),
    pytest.param(FALLBACK, CHATS, Party("sms", FALLBACK_PHONE), id="fallback"),
]


@pytest.mark.parametrize(("entry", "chats", "expected"), PARTIES)
def test_party_for(entry: ChainEntry, chats: dict[str, str], expected: Party) -> None:
    assert party_for(entry, chats) == expected


@pytest.mark.parametrize(
    ("channel", "chat_id", "expected"),
    [
        ("sms", None, Party("sms", "+4798765432")),
        ("telegram", 4001, Party("telegram", "4001")),
        ("telegram", None, Party("sms", "+4798765432")),  # no chat stored: the phone
        ("sms", 4001, Party("sms", "+4798765432")),  # wrote by SMS: answered by SMS
    ],
)
def test_the_foster_parent_reads_answers_where_they_wrote(
    channel: str, chat_id: int | None, expected: Party
) -> None:
    assert foster_party(channel, chat_id, "+4798765432") == expected


def test_a_notification_carries_buttons_on_telegram_only() -> None:
    def text(telegram: bool) -> str:
        return "telegram" if telegram else "sms"

    assert notification(7, KARI, CHATS, text) == Outgoing(
        KARI_CHAT, "telegram", "notify", 7, staff_buttons(7)
    )
    assert notification(7, OLA, CHATS, text) == Outgoing(OLA_SMS, "sms", "notify", 7)
    take, close = Button(say.TAKE_BUTTON, "take:7"), Button(say.CLOSE_BUTTON, "close:7")
    assert staff_buttons(7) == (take, close)
    parsed = [buttons.parse_button(b.data, 7) for b in staff_buttons(7)]
    assert parsed == [buttons.Take(7), buttons.Close(7)]


def taken(conversation: Conversation, phone: str) -> Conversation:
    return replace(conversation, state=replace(conversation.state, taken_phone=phone))


TARGETS = [
    pytest.param(hansen(), [KARI], id="the-primary"),
    pytest.param(hansen(notified=3, last=20), [KARI, OLA, NINA], id="everyone-notified"),
    pytest.param(taken(hansen(notified=3, last=20), OLA.phone), [OLA], id="the-taker-only"),
    pytest.param(taken(hansen(), "+4799999999"), [], id="taker-outside-the-plan"),
    pytest.param(hansen(notified=0), [], id="nobody-notified-yet"),
]


@pytest.mark.parametrize(("conversation", "expected"), TARGETS)
def test_followup_targets(conversation: Conversation, expected: list[ChainEntry]) -> None:
    assert followup_targets(conversation) == expected


def test_the_alert_goes_to_everyone_once_and_to_the_coordinators() -> None:
    nina_again = replace(NINA, role="primary")  # the duty phone twice in one chain
    audience = alert_audience(
        (KARI, OLA, NINA, nina_again, FALLBACK), CHATS, ("+4791112222", OLA.phone)
    )
    assert audience == [
        Party("sms", FALLBACK_PHONE),
        Party("sms", "+4791112222"),
        OLA_SMS,
        KARI_CHAT,
        Party("telegram", "5003"),
    ]
