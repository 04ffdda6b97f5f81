"""Who hears of a conversation, and on which channel.

Staff are reached on Telegram when they have linked it, else by SMS; the foster parent
reads answers on the channel they wrote from. The service passes the Telegram chats it
found (`TelegramChats`: person id to chat id), so these choices are plain functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rota.model import ChainEntry
from routing import buttons
from routing import message_texts as say
from routing.conversations import Conversation, notified
from routing.effects import Outgoing
from routing.ports import Button, Party

#: The Telegram chat of every person who linked one, by person id.
TelegramChats = Mapping[str, str]


def party_for(entry: ChainEntry, chats: TelegramChats) -> Party:
    """A staff member's preferred channel: Telegram if their person linked it, else SMS
    to the entry's phone (a duty phone is always SMS: it belongs to no person)."""
    chat = chats.get(entry.person) if entry.person is not None else None
    return Party("telegram", chat) if chat is not None else Party("sms", entry.phone)


def foster_party(channel: str, telegram_chat_id: int | None, caller: str) -> Party:
    """The foster parent reads answers on the channel they wrote from."""
    if channel == "telegram" and telegram_chat_id is not None:
        return Party("telegram", str(telegram_chat_id))
    return Party("sms", caller)


def staff_buttons(contact_id: int) -> tuple[Button, ...]:
    """The inline buttons under a staff notification in Telegram: take it, close it."""
    return (
        Button(say.TAKE_BUTTON, buttons.Take(contact_id).data),
        Button(say.CLOSE_BUTTON, buttons.Close(contact_id).data),
    )


def notification(
    contact_id: int, entry: ChainEntry, chats: TelegramChats, text_for: Callable[[bool], str]
) -> Outgoing:
    """Notify one chain entry in the words `text_for(telegram)` gives; on Telegram the
    notification carries the take and close buttons."""
    party = party_for(entry, chats)
    telegram = party.channel == "telegram"
    extra = staff_buttons(contact_id) if telegram else ()
    return Outgoing(party, text_for(telegram), "notify", contact_id, extra)


def followup_targets(conversation: Conversation) -> list[ChainEntry]:
    """Who hears of follow-ups: the one who took it, else everyone notified, once each."""
    plan, state = conversation.plan, conversation.state
    if state.taken_phone:
        return [e for e in plan.steps if e.phone == state.taken_phone][:1]
    seen: dict[str, ChainEntry] = {}
    for entry in notified(plan, state):
        seen.setdefault(entry.phone, entry)
    return list(seen.values())


def alert_audience(
    entries: Iterable[ChainEntry], chats: TelegramChats, coordinators: Iterable[str]
) -> list[Party]:
    """Who gets the "nobody took it" alert: everyone in the chain, each once on their
    channel, and the coordinators by SMS; in a stable order (channel, then address)."""
    parties = {party_for(entry, chats) for entry in entries}
    parties |= {Party("sms", phone) for phone in coordinators}
    return sorted(parties, key=lambda party: (party.channel, party.to))
