"""What a staff member's command does to a conversation: tables of commands, senders and
stored states, with the outcome written out by hand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing import buttons
from routing import message_texts as say
from routing.callers import Directory
from routing.conversations import Conversation
from routing.effects import CancelDeadline, Logged, Outcome, Outgoing
from routing.ports import Party
from routing.replies import (
    DEFAULT_CATEGORIES,
    Bare,
    Close,
    ParseError,
    Reply,
    StaffCommand,
    Stop,
    Take,
    UnknownCategory,
)
from routing.staff_commands import (
    StaffSender,
    button_command,
    category_buttons,
    involved,
    named_contact,
    on_staff_command,
    read_staff_text,
    staff_by_phone,
    staff_on_telegram,
)
from tests.unit.message_fixtures import (
    DEADLINE,
    HANSEN_SMS,
    KARI,
    KARI_CHAT,
    KARI_SMS,
    NINA,
    OLA,
    OLA_SMS,
    at,
    hansen,
)
from tests.unit.rota_fixtures import DUTY_PHONE, FALLBACK, NAME, ORG, PHONE

KARI_WRITES = StaffSender("kari", KARI.phone, KARI.name, KARI_SMS)
OLA_WRITES = StaffSender("ola", OLA.phone, OLA.name, OLA_SMS)
DUTY_WRITES = StaffSender(None, DUTY_PHONE, "Barnevernvakta Vest", Party("sms", DUTY_PHONE))
NOW = at(4)
NO_CHATS: dict[str, str] = {}


def decide(
    command: StaffCommand,
    staff: StaffSender,
    *found: Conversation,
    chats: dict[str, str] = NO_CHATS,
) -> Outcome:
    return on_staff_command(command, staff, found, chats, NOW)


def help_to(staff: StaffSender, text: str, contact_id: int | None = None) -> Outcome:
    return Outcome(contact_id, messages=(Outgoing(staff.reply_to, text, "help", contact_id),))


def taken_by(staff: StaffSender, conversation: Conversation) -> Conversation:
    state = replace(
        conversation.state, taken_at=at(2), taken_phone=staff.phone, taken_by=staff.name
    )
    return replace(conversation, state=state)


def taken_notice(taker: str) -> str:
    return say.taken_notice("K7", "Familien Hansen", "Asker", taker)


# -- #K7 JA -----------------------------------------------------------------------------------


def test_the_primary_takes_it_and_their_deadline_job_is_cancelled() -> None:
    outcome = decide(Take("K7"), KARI_WRITES, hansen())
    assert outcome == Outcome(
        7,
        replace(hansen().state, taken_at=NOW, taken_phone=KARI.phone, taken_by=KARI.name),
        messages=(Outgoing(KARI_SMS, say.taken_by_you("K7"), "help", 7),),
        after=(CancelDeadline(7, 0, at(0) + DEADLINE),),
    )


def test_the_backup_takes_it_after_an_escalation_and_the_primary_is_told() -> None:
    escalated = hansen(notified=2, last=10)
    outcome = decide(Take("K7"), OLA_WRITES, escalated)
    assert [(m.party, m.kind, m.body) for m in outcome.messages] == [
        (KARI_SMS, "taken", taken_notice(OLA.name)),
        (OLA_SMS, "help", say.taken_by_you("K7")),
    ]
    assert outcome.after == (CancelDeadline(7, 1, at(20)),)
    assert outcome.state is not None and outcome.state.taken_phone == OLA.phone


def test_the_others_are_told_on_telegram_when_they_linked_it() -> None:
    outcome = decide(Take("K7"), OLA_WRITES, hansen(notified=2, last=10), chats={"kari": "5001"})
    assert outcome.messages[0] == Outgoing(KARI_CHAT, taken_notice(OLA.name), "taken", 7)


def test_taking_it_again_changes_nothing_but_tells_the_others_again() -> None:
    mine = taken_by(OLA_WRITES, hansen(notified=2, last=10))
    outcome = decide(Take("K7"), OLA_WRITES, mine)
    assert outcome.state == mine.state and outcome.after == ()
    assert [m.kind for m in outcome.messages] == ["taken", "help"]


def test_the_taker_is_not_told_of_their_own_take_on_another_phone() -> None:
    kari_on_duty = replace(NINA, person="kari", name=KARI.name)
    both = replace(
        hansen(notified=3, last=20),
        plan=replace(hansen().plan, steps=(KARI, OLA, kari_on_duty, FALLBACK)),
    )
    outcome = decide(Take("K7"), KARI_WRITES, both)
    assert [(m.party, m.kind) for m in outcome.messages] == [(OLA_SMS, "taken"), (KARI_SMS, "help")]


# -- who may act ---------------------------------------------------------------------------------

INVOLVED = [
    pytest.param(hansen(), KARI_WRITES, True, id="primary-notified"),
    pytest.param(hansen(), OLA_WRITES, False, id="backup-not-notified-yet"),
    pytest.param(hansen(notified=2, last=10), OLA_WRITES, True, id="backup-after-escalation"),
    pytest.param(hansen(notified=3, last=20), DUTY_WRITES, True, id="duty-phone-by-phone"),
    pytest.param(hansen(exhausted_at=at(40)), OLA_WRITES, True, id="exhausted-all-in-chain"),
    pytest.param(
        taken_by(KARI_WRITES, hansen(notified=2, last=10)), OLA_WRITES, False, id="taken-by-another"
    ),
    pytest.param(
        taken_by(OLA_WRITES, hansen(notified=2, last=10)), OLA_WRITES, True, id="taken-by-them"
    ),
    pytest.param(
        hansen(), replace(KARI_WRITES, phone="+4799999999"), True, id="same-person-other-phone"
    ),
    pytest.param(
        hansen(), StaffSender("per", "+4791234569", "Per Berg", KARI_SMS), False, id="someone-else"
    ),
]


@pytest.mark.parametrize(("conversation", "staff", "expected"), INVOLVED)
def test_involved(conversation: Conversation, staff: StaffSender, expected: bool) -> None:
    assert involved(conversation, staff) is expected


def test_a_conversation_they_may_not_act_on_is_an_unknown_code() -> None:
    assert decide(Take("K7"), OLA_WRITES, hansen()) == help_to(OLA_WRITES, say.unknown_code("K7"))
    assert decide(Take("K7"), OLA_WRITES) == help_to(OLA_WRITES, say.unknown_code("K7"))
    assert decide(Reply("K8", "Hei"), KARI_WRITES, hansen()) == help_to(
        KARI_WRITES, say.unknown_code("K8")
    )


# -- #K7 tekst -------------------------------------------------------------------------------


def test_an_answer_takes_it_and_is_relayed_and_logged() -> None:
    outcome = decide(Reply("K7", "Jeg ringer deg nå"), KARI_WRITES, hansen())
    assert outcome == Outcome(
        7,
        replace(
            hansen().state,
            taken_at=NOW,
            taken_phone=KARI.phone,
            taken_by=KARI.name,
            first_reply_at=NOW,
            outcome="answered",
        ),
        logged=(Logged("out", "sms", "staff", KARI.name, "Jeg ringer deg nå"),),
        messages=(
            Outgoing(HANSEN_SMS, say.relayed_reply(KARI.name, "Jeg ringer deg nå"), "reply", 7),
        ),
        after=(CancelDeadline(7, 0, at(10)),),
    )


def test_a_second_answer_keeps_the_first_answer_time_and_tells_nobody_it_is_taken() -> None:
    answered = replace(taken_by(OLA_WRITES, hansen(notified=2, last=10)))
    answered = replace(
        answered, state=replace(answered.state, first_reply_at=at(3), outcome="answered")
    )
    outcome = decide(Reply("K7", "Er du der?"), OLA_WRITES, answered)
    assert outcome.state == answered.state
    assert [m.kind for m in outcome.messages] == ["reply"] and outcome.after == ()


def test_an_answer_to_a_closed_or_flood_conversation_is_not_relayed() -> None:
    closed = hansen(closed_at=at(2))
    assert decide(Reply("K7", "Hei"), KARI_WRITES, closed) == help_to(
        KARI_WRITES, say.unknown_code("K7")
    )
    flood = hansen(flood=True)
    assert decide(Reply("K7", "Hei"), KARI_WRITES, flood) == help_to(
        KARI_WRITES, say.flood_no_reply("K7"), 7
    )


# -- #K7 LUKK kategori -----------------------------------------------------------------------


def test_closing_takes_it_closes_it_and_tells_nobody_else() -> None:
    outcome = decide(Close("K7", "skole"), OLA_WRITES, hansen(notified=2, last=10))
    assert outcome == Outcome(
        7,
        replace(
            hansen(notified=2, last=10).state,
            taken_at=NOW,
            taken_phone=OLA.phone,
            taken_by=OLA.name,
            closed_at=NOW,
            category="skole",
            outcome="closed",
        ),
        messages=(Outgoing(OLA_SMS, say.closed_confirmation("K7", "skole"), "help", 7),),
        after=(CancelDeadline(7, 1, at(20)),),
    )


def test_closing_an_answered_conversation_keeps_its_outcome_and_closing_twice_nothing() -> None:
    answered = taken_by(KARI_WRITES, hansen())
    answered = replace(
        answered, state=replace(answered.state, first_reply_at=at(3), outcome="answered")
    )
    closed = decide(Close("K7", "helse"), KARI_WRITES, answered).state
    assert closed is not None
    assert (closed.outcome, closed.closed_at, closed.category) == ("answered", NOW, "helse")
    again = decide(Close("K7", "annet"), KARI_WRITES, replace(answered, state=closed))
    assert again.state == closed and again.after == ()


# -- text without a code, and garbage ---------------------------------------------------------


def test_a_bare_text_goes_to_the_only_open_conversation_of_the_sender() -> None:
    other = replace(hansen(), id=8, foster_home=None)
    not_theirs = taken_by(OLA_WRITES, other)
    outcome = decide(Bare("Hei"), KARI_WRITES, hansen(), not_theirs)
    assert outcome == decide(Reply("K7", "Hei"), KARI_WRITES, hansen())


def test_a_bare_text_with_several_or_no_open_conversations_gets_help() -> None:
    other = replace(hansen(), id=8, foster_home=None)
    assert decide(Bare("Hei"), KARI_WRITES, hansen(), other) == help_to(
        KARI_WRITES, say.several_open([("K7", "Familien Hansen"), ("K8", None)])
    )
    assert decide(Bare("Hei"), KARI_WRITES) == help_to(KARI_WRITES, say.no_open())
    assert decide(Bare("Hei"), KARI_WRITES, hansen(closed_at=at(2))) == help_to(
        KARI_WRITES, say.no_open()
    )


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (ParseError("K7", "skriv en tekst"), "skriv en tekst"),
        (UnknownCategory("K7", "hobby", DEFAULT_CATEGORIES),
         say.unknown_category("K7", "hobby", DEFAULT_CATEGORIES)),
        (Stop(), say.missing_code()),
    ],
    ids=["parse-error", "unknown-category", "stop"],
)  # fmt: skip
def test_anything_else_gets_a_help_text_and_changes_nothing(
    command: StaffCommand, expected: str
) -> None:
    assert decide(command, KARI_WRITES, hansen()) == help_to(KARI_WRITES, expected)


# -- reading texts and buttons ---------------------------------------------------------------

READ = [
    pytest.param("#K7 JA", None, Take("K7"), id="take"),
    pytest.param("Jeg ringer deg", None, Bare("Jeg ringer deg"), id="bare"),
    pytest.param("Jeg ringer deg", 7, Reply("K7", "Jeg ringer deg"), id="telegram-reply"),
    pytest.param("#K8 LUKK skole", 7, Close("K8", "skole"), id="a-code-wins-over-the-reply"),
]


@pytest.mark.parametrize(("text", "replied_to", "expected"), READ)
def test_read_staff_text(text: str, replied_to: int | None, expected: StaffCommand) -> None:
    assert read_staff_text(text, DEFAULT_CATEGORIES, replied_to) == expected


def test_buttons_are_the_commands_they_stand_for() -> None:
    assert button_command(buttons.Take(7), DEFAULT_CATEGORIES) == Take("K7")
    assert button_command(buttons.Category(7, 1), DEFAULT_CATEGORIES) == Close("K7", "skole")
    shown = category_buttons(7, DEFAULT_CATEGORIES)
    assert [b.label for b in shown] == list(DEFAULT_CATEGORIES)
    assert buttons.parse_button(shown[1].data, len(DEFAULT_CATEGORIES)) == buttons.Category(7, 1)


def test_named_contact() -> None:
    commands = (Take("K7"), Reply("K12", "x"), Close("K3", "skole"), Bare("x"), Stop())
    assert [named_contact(c) for c in commands] == [7, 12, 3, None, None]


def test_who_writes_from_a_phone_or_a_linked_chat() -> None:
    directory = Directory(ORG)
    assert staff_by_phone(directory, PHONE["kari"]) == StaffSender(
        "kari", PHONE["kari"], NAME["kari"], Party("sms", PHONE["kari"])
    )
    assert staff_by_phone(directory, DUTY_PHONE) == StaffSender(
        None, DUTY_PHONE, "Barnevernvakta Vest", Party("sms", DUTY_PHONE)
    )
    assert staff_by_phone(directory, "+4798765432") is None  # a foster parent
    assert staff_on_telegram(directory, "kari", 5001) == StaffSender(
        "kari", PHONE["kari"], NAME["kari"], Party("telegram", "5001")
    )
    assert staff_on_telegram(directory, "left-the-register", 5001) is None
