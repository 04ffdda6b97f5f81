"""Which channel reaches a person or a foster home. Pure.

Telegram when they linked an account and have not blocked the bot; otherwise SMS. A
Telegram "bot was blocked by the user" (403) marks the link blocked, so help falls back to
SMS at once, until they write to the bot again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from routing.ports import Party


@dataclass(frozen=True, slots=True)
class TelegramLink:
    """A linked Telegram chat, and whether its user has blocked the bot."""

    chat_id: int
    blocked: bool = False


def help_party(phone: str, link: TelegramLink | None) -> Party:
    """Where a help message to someone with this phone (and maybe a link) goes."""
    if link is not None and not link.blocked:
        return Party("telegram", str(link.chat_id))
    return Party("sms", phone)


def parties(phones: Sequence[str], link: TelegramLink | None) -> tuple[Party, ...]:
    """Where a message to a foster home (or a person) goes: its Telegram chat, or else
    each of its phones by SMS."""
    if link is not None and not link.blocked:
        return (Party("telegram", str(link.chat_id)),)
    return tuple(Party("sms", phone) for phone in dict.fromkeys(phones))
