"""Message classes: what may hold an outgoing message back. Pure.

* `help` answers a person's own call for help or keeps the helpline working (conversation
  notices and relays, escalations, voicemail notices, link and login codes). It is never
  held by quiet hours, never stopped by an opt-out, never queued behind the others.
* `group`: relays between the members of a group. In quiet hours SMS recipients get it
  when they end; Telegram recipients at once, without a notification sound.
* `info`: broadcasts, invitations, reminders. Paced; held through quiet hours.

`group` and `info` are stopped by STOPP for their scope (`opt_out_scopes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeGuard
from zoneinfo import ZoneInfo

from rota.model import QuietHours
from routing.quiet import end_of_quiet

MsgClass = Literal["help", "group", "info"]
MSG_CLASSES: tuple[MsgClass, ...] = ("help", "group", "info")
NETWORK_SCOPE = "network"


def is_msg_class(text: str) -> TypeGuard[MsgClass]:
    return text in MSG_CLASSES


@dataclass(frozen=True, slots=True)
class SendNow:
    """Send it now, with the usual notification."""


@dataclass(frozen=True, slots=True)
class SendSilently:
    """Send it now without a notification sound (Telegram's `disable_notification`)."""


@dataclass(frozen=True, slots=True)
class HoldUntil:
    """Keep it until `until` (the end of quiet hours, or the time it was scheduled for)."""

    until: datetime


@dataclass(frozen=True, slots=True)
class OptedOut:
    """The recipient said STOPP for this message's scope: never send it."""


Decision = SendNow | SendSilently | HoldUntil | OptedOut


def decide(
    msg_class: MsgClass,
    channel: str,
    opted_out: bool,
    quiet: QuietHours,
    now: datetime,
    tz: ZoneInfo | None = None,
) -> Decision:
    """What to do with a message of `msg_class` to a recipient on `channel` ("sms" or
    "telegram") at `now`; `opted_out`: has the recipient stopped this message's scope?"""
    if msg_class == "help":
        return SendNow()
    if opted_out:
        return OptedOut()
    end = end_of_quiet(now, quiet, tz)
    if end is None:
        return SendNow()
    if msg_class == "group" and channel == "telegram":
        return SendSilently()
    return HoldUntil(end)


def decide_at(
    msg_class: MsgClass,
    channel: str,
    opted_out: bool,
    quiet: QuietHours,
    send_at: datetime,
    now: datetime,
    tz: ZoneInfo | None = None,
) -> Decision:
    """`decide` for a message scheduled for `send_at`: one due later than `now` is held
    until then, or until the end of the quiet hours `send_at` falls in."""
    if send_at <= now or msg_class == "help":
        return decide(msg_class, channel, opted_out, quiet, now, tz)
    decision = decide(msg_class, channel, opted_out, quiet, send_at, tz)
    if isinstance(decision, SendNow | SendSilently):
        return HoldUntil(send_at)
    return decision


def outbox_status(decision: Decision) -> str:
    """The outbox state a new group or info row starts in under `decision`."""
    match decision:
        case HoldUntil():
            return "held"
        case OptedOut():
            return "opted_out"
        case _:
            return "queued"


def group_scope(group_id: str) -> str:
    """The opt-out scope of one group's messages: STOPP to its own number."""
    return f"group:{group_id}"


def opt_out_scopes(msg_class: MsgClass, group_id: str | None, via_network: bool) -> tuple[str, ...]:
    """The opt-out scopes that stop a message: STOPP to the network number stops every info
    message and the group messages sent from it; STOPP to a group's own number stops that
    group's messages. Help is never stopped."""
    if msg_class == "help":
        return ()
    if msg_class == "info" or group_id is None:
        return (NETWORK_SCOPE,)
    own = group_scope(group_id)
    return (own, NETWORK_SCOPE) if via_network else (own,)
