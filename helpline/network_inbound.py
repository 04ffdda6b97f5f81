"""Texts to the network: an SMS to the network number or a group's own number, and a
Telegram message with a group context (a reply to a group message, `#G<n>`, `/grupper`).

The decisions are `routing.group_messages`'; this module loads, stores and sends. A relay
is stored in `group_messages` and written as `group` rows for the paced lane, each decided
by `routing.classes.decide` (opted out, held by quiet hours for SMS, silent on Telegram);
answers to the writer (not a member, which group, muted) are help and go at once.

An SMS to a kommune's helpline number never comes here: it is help, whatever it says.

**The one dispatch point.** Every text to the network goes through `SMS_STEPS` (SMS) in
order, and the first step that takes it wins. Keywords (STOPP, START, HJELP, INFO) belong
first, then answers to invitations (JA/NEI), then the group message, which takes
everything. A step is `async (work, text) -> bool`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select

from helpline import groups, keywords, optout, rsvp
from helpline.db.models import GroupMessageRow, OutboxRow
from helpline.messages import MessageWork
from helpline.paced_rows import NewRow, insert_rows
from helpline.telegram_links import all_links
from rota.model import Group
from rota.wallclock import zone
from routing import group_texts as say
from routing.callers import Directory
from routing.classes import decide, opt_out_scopes, outbox_status
from routing.effects import Outgoing, StartPacedLanes
from routing.group_messages import (
    ANSWER_KIND,
    ChooseGroup,
    Decision,
    Empty,
    ListGroups,
    NetworkInfo,
    NotMember,
    Relay,
    Writer,
    helpline_number,
    read_sms,
    read_telegram,
    relay_recipients,
    relay_sender,
    writer_by_phone,
)
from routing.keywords import line_of
from routing.ports import Party

log = logging.getLogger(__name__)

RELAY_KIND = "group"


@dataclass(frozen=True, slots=True)
class NetworkText:
    """One inbound text: its channel, the writer's address (a phone, or a Telegram chat
    id), the number written to ("" on Telegram), who wrote, and the text."""

    channel: str
    address: str
    dialled: str
    writer: Writer
    body: str


Step = Callable[[MessageWork, NetworkText], Awaitable[bool]]


async def from_sms(work: MessageWork, sender: str, dialled: str, body: str) -> None:
    """An SMS to the network number or a group's number: the first step that takes it."""
    text = NetworkText("sms", sender, dialled, writer_by_phone(work.loaded.directory, sender), body)
    for step in SMS_STEPS:
        if await step(work, text):
            return


async def group_sms(work: MessageWork, text: NetworkText) -> bool:
    """The last step: a group message, or the answer saying why it is not one."""
    decision = read_sms(work.loaded.directory, text.writer, text.dialled, text.body)
    await carry_out(work, text, decision)
    return True


async def keyword_sms(work: MessageWork, text: NetworkText) -> bool:
    """The first step: STOPP, START, HJELP or INFO (`helpline.keywords`)."""
    line = line_of(work.loaded.directory, text.dialled, text.body)
    return line is not None and await keywords.on_network_line(work, line, text.address, text.body)


async def answer_sms(work: MessageWork, text: NetworkText) -> bool:
    """The second step: an answer to an invitation, `JA 12` (`helpline.rsvp`)."""
    return await rsvp.answer_by_sms(work, text.address, text.dialled, text.body)


#: The steps of an SMS to the network, in order (see the module's docstring).
SMS_STEPS: tuple[Step, ...] = (keyword_sms, answer_sms, group_sms)


async def from_telegram(
    work: MessageWork, kind: str, target_id: str, chat_id: int, body: str, replied: int | None
) -> bool:
    """A linked account's Telegram text (`replied`: the bot's message it replies to);
    False when it has no group context, and goes to on-duty staff as before."""
    directory = work.loaded.directory
    writer = Writer(
        home=directory.homes.get(target_id) if kind == "foster_home" else None,
        person=directory.people.get(target_id) if kind == "person" else None,
    )
    group_id = await _replied_group(work, chat_id, replied) if replied is not None else None
    decision = read_telegram(directory, writer, body, group_id)
    if not isinstance(decision, Relay | Empty | ChooseGroup | ListGroups | NotMember):
        return False
    await carry_out(work, NetworkText("telegram", str(chat_id), "", writer, body), decision)
    return True


async def _replied_group(work: MessageWork, chat_id: int, message_id: int) -> str | None:
    """The group of the group message (or welcome) a Telegram reply answers."""
    return await work.session.scalar(
        select(OutboxRow.group_id)
        .where(
            OutboxRow.channel == "telegram",
            OutboxRow.to == str(chat_id),
            OutboxRow.provider_id == str(message_id),
            OutboxRow.group_id.is_not(None),
        )
        .limit(1)
    )


async def carry_out(work: MessageWork, text: NetworkText, decision: Decision) -> None:
    """Relay, or answer the writer."""
    directory = work.loaded.directory
    writer = text.writer
    own_kommune = writer.home.kommune if writer.home else None
    match decision:
        case Relay(group, body):
            await relay(work, text, group, body)
        case Empty(group):
            _answer(work, text, say.empty(group))
        case ChooseGroup(mine):
            _answer(work, text, say.choose_group(mine, helpline_number(directory, own_kommune)))
        case ListGroups(mine):
            _answer(work, text, say.group_list(mine))
        case NotMember(group):
            _answer(work, text, say.not_member(group, helpline_number(directory, group.kommune)))
        case NetworkInfo():
            _answer(work, text, say.network_info(helpline_number(directory, own_kommune)))
        case _:  # NotGroup never reaches here: `from_telegram` hands it back
            raise ValueError(f"not a decision to carry out here: {decision!r}")


def _answer(work: MessageWork, text: NetworkText, body: str) -> None:
    """A help text to the writer, from the number they wrote to (or the bot)."""
    party = Party(text.channel, text.address)
    work.send(Outgoing(party, body, ANSWER_KIND, None), None, text.dialled or None)


async def relay(work: MessageWork, text: NetworkText, group: Group, body: str) -> None:
    """Store the message; relay it to the group, or, from a muted member, tell them once."""
    session, now = work.session, work.now
    home, person = text.writer.home, text.writer.person
    muted = home is not None and await groups.is_muted(session, group.id, home.id)
    session.add(
        GroupMessageRow(
            group_id=group.id,
            foster_home_id=home.id if home else None,
            sender_person_id=person.id if person and not home else None,
            channel=text.channel,
            body=body,
            created_at=now,
            relayed=not muted,
            muted=muted,
        )
    )
    if home is not None and muted:
        if await groups.tell_once(session, group.id, home.id, now):
            helpline = helpline_number(work.loaded.directory, group.kommune)
            _answer(work, text, say.muted(group, helpline))
        return
    rows = await _relay_rows(work, text.writer, group, body)
    await insert_rows(session, rows, now)
    if any(outbox_status(row.decision) == "queued" for row in rows):
        work.effects.after.append(StartPacedLanes())


async def _relay_rows(work: MessageWork, writer: Writer, group: Group, body: str) -> list[NewRow]:
    directory, config = work.loaded.directory, work.loaded.org.helpline
    number = relay_sender(group, config.network_number, helpline_number(directory, group.kommune))
    via_network = group.number is None and number == config.network_number
    recipients = relay_recipients(directory, group, writer, await all_links(work.session))
    stopped = await optout.opted_out(work.session, opt_out_scopes("group", group.id, via_network))
    author = _author(directory, writer, group)
    tz = zone(config.timezone)
    rows = []
    for recipient in recipients:
        channel, to = recipient.channel, recipient.address
        if channel == "sms" and number is None:
            # No group id: ids may carry a foster home's name (a ressursfamilie's hub).
            log.warning("a group relay has no number to send its SMS from")
            continue
        decision = decide(
            "group", channel, (channel, to) in stopped, config.quiet_hours, work.now, tz
        )
        rows.append(
            NewRow(
                channel=channel,
                to=to,
                sender=(number or "") if channel == "sms" else "bot",
                body=say.relay(group, author, body, channel, marked=via_network),
                msg_class="group",
                kind=RELAY_KIND,
                decision=decision,
                group_id=group.id,
            )
        )
    return rows


def _author(directory: Directory, writer: Writer, group: Group) -> str:
    """The writer as the group reads them: the foster home's name, or staff's name."""
    if writer.home is not None:
        return writer.home.name
    assert writer.person is not None, "only members and staff are relayed"
    kommune = directory.kommuner.get(group.kommune)
    return say.staff_label(writer.person.name, kommune.name if kommune else None)
