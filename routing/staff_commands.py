"""What a staff member's message does to a conversation: the one place to read it.

Staff write to the helpline number or the bot (`routing.replies` has the grammar), or tap
a button under a notification (`routing.buttons`); either way the service loads the
conversations the command is about and `on_staff_command` decides:

* `#K7 tekst` (or a bare text, or a Telegram reply to a notification): take K7 if nobody
  has, tell the others it is taken, relay the text to the foster parent;
* `#K7 JA`: take K7, tell the others, confirm to the taker;
* `#K7 LUKK kategori`: take K7 if nobody has, close it with the category, confirm;
* anything else: a help text, and nothing changes.

A staff member may act only on a conversation they were notified of, or took.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from routing import buttons
from routing import message_texts as say
from routing.callers import Directory
from routing.conversations import (
    Closed,
    Conversation,
    ConversationState,
    Replied,
    Taken,
    advance,
    due_at,
    notified,
    taken_notices,
)
from routing.effects import AfterCommit, CancelDeadline, Logged, Outcome, Outgoing, help_text
from routing.ports import Button, Party
from routing.recipients import TelegramChats, party_for
from routing.replies import (
    Bare,
    Close,
    ParseError,
    Reply,
    StaffCommand,
    Take,
    UnknownCategory,
    code_contact_id,
    parse_staff,
    short_code,
)

NO_JOBS: tuple[AfterCommit, ...] = ()


@dataclass(frozen=True, slots=True)
class StaffSender:
    """The staff member who sent a message: by person id when known, always by phone.

    (Not `rota.engine.Staff`, a team's (primary, backup) pair at an instant.)"""

    person: str | None
    phone: str
    name: str
    reply_to: Party  # where answers to them go (the channel they wrote from)


def staff_by_phone(directory: Directory, phone: str) -> StaffSender | None:
    """Who writes from `phone`, if staff: a person by their own phone, or whoever carries
    a team's duty phone (then by phone only, named as the team)."""
    person = directory.people_by_phone.get(phone)
    if person is not None:
        return StaffSender(person.id, phone, person.name, Party("sms", phone))
    team = directory.teams_by_duty_phone.get(phone)
    if team is not None:
        return StaffSender(None, phone, team.name, Party("sms", phone))
    return None


def staff_on_telegram(directory: Directory, person_id: str, chat_id: int) -> StaffSender | None:
    """The person whose linked Telegram chat `chat_id` writes, if they are still staff."""
    person = directory.people.get(person_id)
    if person is None:
        return None
    return StaffSender(person.id, person.phone, person.name, Party("telegram", str(chat_id)))


def read_staff_text(text: str, categories: Sequence[str], replied_to: int | None) -> StaffCommand:
    """A staff member's text as a command; a bare text that replies (in Telegram) to the
    notification of conversation `replied_to` answers that conversation."""
    command = parse_staff(text, categories)
    if replied_to is not None and isinstance(command, Bare):
        return Reply(short_code(replied_to), command.text)
    return command


def button_command(
    choice: buttons.Take | buttons.Category, categories: Sequence[str]
) -> StaffCommand:
    """A tap on a notification's button, as the command it stands for (`parse_button`
    has checked the category index)."""
    code = short_code(choice.contact_id)
    if isinstance(choice, buttons.Take):
        return Take(code)
    return Close(code, categories[choice.index])


def category_buttons(contact_id: int, categories: Sequence[str]) -> tuple[Button, ...]:
    """The buttons that replace «Lukk» under a notification: one per category."""
    return tuple(Button(c, buttons.Category(contact_id, i).data) for i, c in enumerate(categories))


def named_contact(command: StaffCommand) -> int | None:
    """The conversation id a command's code names, if it names one."""
    if isinstance(command, Reply | Take | Close):
        return code_contact_id(command.code)
    return None


def involved(conversation: Conversation, staff: StaffSender) -> bool:
    """Is `staff` the one who took it, or (nobody has) one of those notified? Once the
    chain is exhausted everyone in it was alerted, so everyone in it may act."""
    plan, state = conversation.plan, conversation.state
    if state.taken_phone is not None:
        return state.taken_phone == staff.phone
    steps = notified(plan, state) if state.exhausted_at is None else plan.steps
    return any(e.phone == staff.phone or (staff.person and e.person == staff.person) for e in steps)


def on_staff_command(
    command: StaffCommand,
    staff: StaffSender,
    found: Sequence[Conversation],
    chats: TelegramChats,
    now: datetime,
) -> Outcome:
    """What `command` from `staff` does at `now`.

    `found` holds the conversation the command's code names (none when there is no such
    message conversation), or for a bare text every open conversation that may be the
    sender's; `chats` the Telegram chats of the people in their plans."""
    match command:
        case Reply(code=code, text=text):
            return _reply(staff, code, text, _named(found, code, staff), chats, now)
        case Take(code=code):
            return _take_command(staff, code, _named(found, code, staff), chats, now)
        case Close(code=code, category=category):
            return _close(staff, code, category, _named(found, code, staff), now)
        case UnknownCategory():
            return help_text(staff.reply_to, command.help)
        case ParseError(help=help_message):
            return help_text(staff.reply_to, help_message)
        case Bare(text=text):
            return _bare(staff, text, found, chats, now)
    return help_text(staff.reply_to, say.missing_code())  # Stop(): nothing to relay


def _named(found: Sequence[Conversation], code: str, staff: StaffSender) -> Conversation | None:
    contact_id = code_contact_id(code)
    return next((c for c in found if c.id == contact_id and involved(c, staff)), None)


def _bare(
    staff: StaffSender,
    text: str,
    found: Sequence[Conversation],
    chats: TelegramChats,
    now: datetime,
) -> Outcome:
    mine = [c for c in found if c.state.closed_at is None and involved(c, staff)]
    if len(mine) == 1:
        return _reply(staff, mine[0].code, text, mine[0], chats, now)
    if mine:
        listing = [(c.code, c.foster_home) for c in mine]
        return help_text(staff.reply_to, say.several_open(listing))
    return help_text(staff.reply_to, say.no_open())


def _reply(
    staff: StaffSender,
    code: str,
    text: str,
    conversation: Conversation | None,
    chats: TelegramChats,
    now: datetime,
) -> Outcome:
    if conversation is None or conversation.state.closed_at is not None:
        return help_text(staff.reply_to, say.unknown_code(code))
    if conversation.flood:  # many senders: an answer to one of them would be a guess
        return help_text(staff.reply_to, say.flood_no_reply(code), conversation.id)
    state, after = _take(conversation, staff, now)
    first = conversation.state.taken_at is None
    told = _taken_notices(conversation, staff, chats) if first else ()
    party = conversation.foster
    relayed = Outgoing(party, say.relayed_reply(staff.name, text), "reply", conversation.id)
    return Outcome(
        conversation.id,
        advance(state, Replied(), now),
        logged=(Logged("out", party.channel, "staff", staff.name, text),),
        messages=(*told, relayed),
        after=after,
    )


def _take_command(
    staff: StaffSender,
    code: str,
    conversation: Conversation | None,
    chats: TelegramChats,
    now: datetime,
) -> Outcome:
    if conversation is None:
        return help_text(staff.reply_to, say.unknown_code(code))
    state, after = _take(conversation, staff, now)
    confirm = Outgoing(staff.reply_to, say.taken_by_you(code), "help", conversation.id)
    told = _taken_notices(conversation, staff, chats)  # again if they take it again
    return Outcome(conversation.id, state, messages=(*told, confirm), after=after)


def _close(
    staff: StaffSender, code: str, category: str, conversation: Conversation | None, now: datetime
) -> Outcome:
    if conversation is None:
        return help_text(staff.reply_to, say.unknown_code(code))
    state, after = conversation.state, NO_JOBS
    if state.closed_at is None:
        state, after = _take(conversation, staff, now)
        state = advance(state, Closed(category), now)
    confirm = Outgoing(
        staff.reply_to, say.closed_confirmation(code, category), "help", conversation.id
    )
    return Outcome(conversation.id, state, messages=(confirm,), after=after)


def _take(
    conversation: Conversation, staff: StaffSender, now: datetime
) -> tuple[ConversationState, tuple[AfterCommit, ...]]:
    """Take it if nobody has: the state, and the deadline job to cancel."""
    state = conversation.state
    if state.taken_at is not None:
        return state, NO_JOBS
    taken = advance(state, Taken(staff.phone, staff.name), now)
    if not state.notified_steps:
        return taken, NO_JOBS
    due = due_at(conversation.plan, state)
    return taken, (CancelDeadline(conversation.id, state.notified_steps - 1, due),)


def _taken_notices(
    conversation: Conversation, staff: StaffSender, chats: TelegramChats
) -> tuple[Outgoing, ...]:
    """Tell everyone else notified that `staff` took it (the taker's other phones not)."""
    notice = say.taken_notice(
        conversation.code, conversation.foster_home, conversation.kommune, staff.name
    )
    return tuple(
        Outgoing(party_for(entry, chats), notice, "taken", conversation.id)
        for entry in taken_notices(conversation.plan, conversation.state, staff.phone)
        if staff.person is None or entry.person != staff.person
    )
