"""STOPP, START and HJELP, stored and answered: by SMS on the network's numbers, and as
Telegram commands and buttons.

`routing.keywords` decides (is it a keyword, which scope, what to answer); this module
stores the opt-out or opt-in (`helpline.optout`, idempotent) and queues the answer as
help, in the transaction of the webhook that is processed once, so a retried webhook
stores and answers once. Answers by SMS come from the number that was written to.
Nothing here is logged with a body, an unmasked number or a group's id (which may carry
a foster home's name).
"""

from __future__ import annotations

import logging

from helpline import optout
from helpline.db.models import TelegramLinkRow
from helpline.messages import MessageWork
from rota.phones import e164_or_none, mask_phone, readable_phone
from routing.buttons import UNKNOWN_CHOICE, StopScope
from routing.classes import NETWORK_SCOPE
from routing.effects import AnswerButton, EditButtons, Outgoing
from routing.keywords import (
    TELEGRAM_STARTED,
    TELEGRAM_STOP_PROMPT,
    Command,
    Helpline,
    Keyword,
    Line,
    chosen,
    helpline_for,
    parse_keyword,
    sms_reply,
    stop_options,
    telegram_groups,
    telegram_help,
    telegram_stopped,
)
from routing.ports import Button, Party

log = logging.getLogger(__name__)


def _kind(line: Line) -> str:
    return "network" if line.group is None else "group"


async def on_network_line(conv: MessageWork, line: Line, sender: str, body: str) -> bool:
    """An SMS to the network number or a group's own number: a keyword is stored and
    answered. Whether it was taken: False for any other message (a group message, say)."""
    if e164_or_none(sender) != sender:  # "anonymous" or a sender id: nobody to store or answer
        log.warning(
            "SMS to the %s line from a sender that is no phone number: ignored", _kind(line)
        )
        return True
    keyword = parse_keyword(body)
    if keyword is None:
        return False
    changed = await _store(conv, "sms", sender, line.scope, keyword)
    log.info(
        "keyword %s on the %s line from %s (%s)",
        keyword,
        _kind(line),
        mask_phone(sender),
        "stored" if changed else "as it was",
    )
    _answer(conv, line, sender, sms_reply(keyword, line, _helpline(conv, line, sender)), "keyword")
    return True


async def _store(conv: MessageWork, channel: str, address: str, scope: str, kw: Keyword) -> bool:
    if kw == "stop":
        return await optout.stop(conv.session, channel, address, scope, "keyword", conv.now)
    if kw == "start":
        return await optout.start(conv.session, channel, address, scope)
    return False


def _helpline(conv: MessageWork, line: Line, sender: str) -> Helpline:
    default = conv.services.settings.default_kommune
    return helpline_for(conv.loaded.directory, line, sender, default)


def _answer(conv: MessageWork, line: Line, to: str, text: str, kind: str) -> None:
    """Queue `text` to `to` as help, from the line's own number."""
    row = conv.services.outbox.queue(
        conv.session,
        channel="sms",
        to=to,
        sender=line.number,
        body=text,
        contact_id=None,
        kind=kind,
    )
    conv.effects.rows.append(row)


# -- Telegram ------------------------------------------------------------------------------


async def on_telegram_command(
    conv: MessageWork, command: Command, chat_id: int, link: TelegramLinkRow
) -> None:
    """`/stopp`, `/start` (without a token) or `/hjelp` from a linked chat: `/stopp`
    offers a button per scope, `/start` lifts every stop of the chat, `/hjelp` explains."""
    chat = Party("telegram", str(chat_id))
    if command.keyword == "stop":
        groups = telegram_groups(conv.loaded.directory, link.kind, link.target_id)
        buttons = tuple(Button(o.label, o.data) for o in stop_options(groups))
        conv.send(Outgoing(chat, TELEGRAM_STOP_PROMPT, "keyword", None, buttons), None)
        return
    if command.keyword == "start":
        lifted = await optout.start_all(conv.session, "telegram", str(chat_id))
        log.info("Telegram /start lifted %d stop(s)", lifted)
        conv.send(Outgoing(chat, TELEGRAM_STARTED, "keyword", None), None)
        return
    text = telegram_help(link.kind, _home_helpline(conv, link))
    conv.send(Outgoing(chat, text, "keyword", None), None)


def _home_helpline(conv: MessageWork, link: TelegramLinkRow) -> str | None:
    """A foster home's kommune's helpline number, readable (None for staff)."""
    directory = conv.loaded.directory
    home = directory.homes.get(link.target_id) if link.kind == "foster_home" else None
    kommune = directory.kommuner.get(home.kommune) if home is not None else None
    return readable_phone(kommune.numbers[0]) if kommune and kommune.numbers else None


async def on_stop_button(
    conv: MessageWork,
    choice: StopScope,
    query_id: str,
    chat_id: int,
    message_id: int,
    link: TelegramLinkRow,
) -> None:
    """A tap on a `/stopp` button: store that stop, take the buttons away, confirm. A
    button for a scope the chat no longer has is "Ukjent valg." and changes nothing."""
    groups = telegram_groups(conv.loaded.directory, link.kind, link.target_id)
    option = chosen(choice, stop_options(groups))
    if option is None:
        conv.effects.after.append(AnswerButton(query_id, UNKNOWN_CHOICE))
        return
    changed = await optout.stop(
        conv.session, "telegram", str(chat_id), option.scope, "keyword", conv.now
    )
    scope = "network" if option.scope == NETWORK_SCOPE else "group"
    log.info("Telegram stop of a %s scope (%s)", scope, "stored" if changed else "as it was")
    conv.effects.after.append(AnswerButton(query_id, ""))
    conv.effects.after.append(EditButtons(chat_id, message_id, ()))
    text = telegram_stopped(option)
    conv.send(Outgoing(Party("telegram", str(chat_id)), text, "keyword", None), None)
