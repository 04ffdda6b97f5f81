"""Plays an SMS exchange against a running service (`helpline simulate sms`).

A text arrives at a helpline number: the simulator posts `/twilio/sms` as Twilio would,
signed the way Twilio signs it, then reads what the service sent back out (the receipt to
the sender, the notification to whoever is on duty, relayed replies) from its outbox: in
sandbox mode the outbox is the delivery. A `<Message>` in the TwiML answer is sent too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

from helpline.simulator.forms import incoming_sms, random_sid
from helpline.simulator.transcript import Record
from helpline.simulator.webhooks import Endpoint, Stop, Webhooks

SMS_PATH = "/twilio/sms"
#: What Twilio does when an SMS webhook fails: it logs the error and sends nothing back.
WEBHOOK_FAILED_TEXT = "Twilio logs error 11200 and sends the sender nothing"


@dataclass(frozen=True, slots=True)
class Delivered:
    """A message the service sent out: an outbox row, or a `<Message>` in the TwiML."""

    channel: str  # "sms" or "telegram"
    to: str  # a phone number, or a Telegram chat id
    sender: str
    body: str
    kind: str  # the outbox kind ("receipt", "notify", "reply", ...) or "twiml"
    status: str  # the outbox status ("sandbox", "sent", "pending", ...)


class OutboxReader(Protocol):
    """What the service has queued to send, read where the service keeps it."""

    async def mark(self) -> int:
        """A bookmark: everything queued so far is before it."""
        ...

    async def since(self, mark: int) -> list[Delivered]:
        """What was queued after `mark`, in order."""
        ...


@dataclass(slots=True, kw_only=True)
class SmsTranscript(Record):
    """One simulated SMS: what was sent, what the service answered and sent back out."""

    message_sid: str
    sender: str
    to: str
    body: str
    delivered: list[Delivered] = field(default_factory=list)


async def simulate_sms(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    outbox: OutboxReader,
    *,
    sender: str,
    to: str,
    body: str,
    new_sid: Callable[[str], str] = random_sid,
) -> SmsTranscript:
    """Text `body` from `sender` to the helpline number `to` at the service at `endpoint`.

    The messages the service queued while it handled the webhook are read from `outbox`
    (on a busy service, others queued meanwhile show too). An HTTP error or invalid TwiML
    is the transcript's outcome; `ServiceUnreachable` when nothing accepts the connection.
    """
    t = SmsTranscript(message_sid=new_sid("SM"), sender=sender, to=to, body=body)
    t.entries.append(f"sms from {sender} to {to}:")
    t.entries.extend(_quoted(body))
    mark = await outbox.mark()
    replies: list[Delivered] = []
    try:
        replies = await _post(session, endpoint, t)
    except Stop as stop:
        t.outcome, t.error = stop.outcome, stop.message
        t.entries.append(f"APPLICATION ERROR: {stop.message}")
        t.entries.append(f"({WEBHOOK_FAILED_TEXT})")
    t.delivered = [*replies, *await outbox.since(mark)]
    for message in t.delivered:
        t.entries.extend(received(message, sender))
    t.entries.append(f"{len(t.delivered)} message(s) sent back out")
    return t


async def _post(
    session: aiohttp.ClientSession, endpoint: Endpoint, t: SmsTranscript
) -> list[Delivered]:
    """The signed webhook; the `<Message>` replies of its TwiML answer."""
    form = incoming_sms(t.message_sid, t.sender, t.to, t.body, endpoint.account_sid)
    hooks = Webhooks(session, endpoint, t, max_requests=1)
    answer = await hooks.fetch(endpoint.public_url + SMS_PATH, "POST", form)
    replies = []
    for verb in answer.verbs:
        if verb.tag == "Message":
            text = "".join(verb.itertext()).strip()
            replies.append(Delivered("sms", t.sender, t.to, text, "twiml", "sent by Twilio"))
        else:
            t.entries.append(f"(<{verb.tag}> in an SMS answer is not simulated; skipped)")
    return replies


def received(message: Delivered, sender: str) -> list[str]:
    """How the transcript shows a message sent out: who gets it from where, then the text."""
    if message.channel == "sms":
        who = f"{message.to} (the sender)" if message.to == sender else message.to
        head = f"{who} receives an SMS from {message.sender}"
    else:
        head = f"Telegram chat {message.to} receives a message"
    return [f"{head} ({message.kind}, {message.status}):", *_quoted(message.body)]


def _quoted(body: str) -> list[str]:
    return [f"    {line}" for line in body.splitlines()] or ["    (empty)"]
