"""Broadcasts: an info message to an audience, from the command line or the API.

The audience is read and resolved by `routing.audience`, each recipient's fate decided by
`routing.classes` (opted out, held by quiet hours or until `--at`, or queued), and the
recipients are written as outbox rows of class `info` in one transaction with the
broadcast, so a broadcast is stored whole or not at all. The paced lane
(`helpline.sender`) sends them; `show` counts them by state and channel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import optout, sender
from helpline.bootstrap import LoadedOrg, Services
from helpline.db.models import BroadcastRow, OutboxRow
from helpline.paced_rows import NewRow, insert_rows
from helpline.telegram_links import all_links
from rota.model import Organisation
from rota.wallclock import utc, zone
from routing.access import Scope
from routing.audience import (
    AudienceError,
    Recipient,
    Target,
    info_sender,
    parse_audience,
    resolve,
)
from routing.audience import unreachable as unreachable_targets
from routing.broadcasts import TextError, body_for, check_text
from routing.classes import NETWORK_SCOPE, Decision, decide_at, outbox_status
from routing.ports import Button
from routing.quiet import in_quiet_hours

#: The states `show` counts, always all of them.
STATES = (
    "held",
    "opted_out",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "sandbox",
)
CHANNELS = ("sms", "telegram")
PAST_GRACE = timedelta(minutes=1)
LONGEST_AHEAD = timedelta(days=365)

Problem = Literal["invalid", "not_found", "time"]


class BroadcastError(ValueError):
    """A broadcast that cannot be made as asked: `problem` says what kind (a malformed
    request, an audience that is unknown or out of scope, or an impossible time)."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Planned:
    """One recipient's outbox row to be."""

    recipient: Recipient
    sender: str
    body: str
    decision: Decision
    buttons: tuple[Button, ...] = ()

    @property
    def status(self) -> str:
        return outbox_status(self.decision)


#: What one recipient reads, and the Telegram buttons under it.
Message = Callable[[Recipient], tuple[str, tuple[Button, ...]]]


@dataclass
class Plan:
    """A broadcast worked out and not yet stored (a dry run stops here)."""

    audience: str
    text: str
    send_at: datetime
    quiet: bool  # send_at falls in quiet hours: everything not opted out waits for their end
    timezone: str = "Europe/Oslo"
    rows: list[Planned] = field(default_factory=list)

    def local_send_at(self) -> str:
        """When it goes out, in the organisation's wall-clock time (ISO 8601)."""
        return self.send_at.astimezone(zone(self.timezone)).isoformat()

    def counts(self) -> dict[str, int]:
        """What a dry run shows: recipients, opted out, on Telegram and by SMS (of those
        not opted out), and how many quiet hours hold."""
        reached = [row for row in self.rows if row.status != "opted_out"]
        channels = Counter(row.recipient.channel for row in reached)
        return {
            "recipients": len(self.rows),
            "opted_out": len(self.rows) - len(reached),
            "telegram": channels["telegram"],
            "sms": channels["sms"],
            "held_by_quiet_hours": len(reached) if self.quiet else 0,
        }


async def plan(
    session: AsyncSession,
    loaded: LoadedOrg | None,
    audience: str,
    text: str,
    send_at: datetime | None,
    now: datetime,
    scope: Scope,
) -> Plan:
    """Work out who gets what, or `BroadcastError`. Nothing is stored."""
    try:
        targets = parse_audience(audience)
        check_text(text)
    except (AudienceError, TextError) as error:
        raise BroadcastError("invalid", str(error)) from None
    if loaded is None:
        raise BroadcastError("not_found", "no organisation is loaded: nobody to send to")
    org = loaded.org
    missing = unreachable_targets(targets, org, scope.allows)
    if missing:
        raise BroadcastError("not_found", f"no {', '.join(map(str, missing))}")
    at = _send_at(send_at, now)
    recipients = resolve(targets, org, await all_links(session))
    return await plan_for(
        session, org, targets, recipients, text, at, now, lambda r: (body_for(r.channel, text), ())
    )


async def plan_for(
    session: AsyncSession,
    org: Organisation,
    targets: tuple[Target, ...],
    recipients: Sequence[Recipient],
    text: str,
    at: datetime,
    now: datetime,
    message: Message,
) -> Plan:
    """Each recipient's info row to be, at `at`: opted out, held or queued. `message` says
    what each reads (an invitation carries a personal link and buttons)."""
    config = org.helpline
    tz = zone(config.timezone)
    stopped = await optout.opted_out(session, [NETWORK_SCOPE])
    result = Plan(
        ",".join(map(str, targets)),
        text,
        at,
        in_quiet_hours(at, config.quiet_hours, tz),
        config.timezone,
    )
    for recipient in recipients:
        key = (recipient.channel, recipient.address)
        decision = decide_at(
            "info", recipient.channel, key in stopped, config.quiet_hours, at, now, tz
        )
        number = info_sender(org, recipient.kommune) if recipient.channel == "sms" else "bot"
        if number is None:
            raise BroadcastError("not_found", "the organisation has no number to send SMS from")
        body, buttons = message(recipient)
        shown = buttons if recipient.channel == "telegram" else ()
        result.rows.append(Planned(recipient, number, body, decision, shown))
    return result


def _send_at(send_at: datetime | None, now: datetime) -> datetime:
    if send_at is None:
        return utc(now)
    try:
        at = utc(send_at)
    except (ValueError, OverflowError):
        raise BroadcastError("time", "the time is out of range") from None
    if at < now - PAST_GRACE:
        raise BroadcastError("time", f"{at.isoformat()} is in the past")
    if at > now + LONGEST_AHEAD:
        raise BroadcastError("time", f"{at.isoformat()} is more than a year ahead")
    return max(at, utc(now))


async def store(
    session: AsyncSession,
    planned: Plan,
    created_by: str,
    now: datetime,
    kind: str = "broadcast",
    row_kind: str = "broadcast",
) -> int:
    """Store the broadcast (or an invitation's sending: `kind`) and its outbox rows (of
    `row_kind`) in the caller's transaction; its id."""
    broadcast = BroadcastRow(
        created_at=now,
        created_by=created_by,
        audience=planned.audience,
        body=planned.text,
        send_at=planned.send_at,
        sender=None,
        kind=kind,
        status="scheduled" if planned.send_at > now else "sending",
    )
    session.add(broadcast)
    await session.flush()
    await store_rows(session, planned, broadcast.id, row_kind, now)
    return broadcast.id


async def store_rows(
    session: AsyncSession,
    planned: Plan,
    broadcast_id: int | None,
    row_kind: str,
    now: datetime,
) -> None:
    """Store the plan's outbox rows (class `info`) in the caller's transaction."""
    rows = [
        NewRow(
            channel=row.recipient.channel,
            to=row.recipient.address,
            sender=row.sender,
            body=row.body,
            msg_class="info",
            kind=row_kind,
            decision=row.decision,
            broadcast_id=broadcast_id,
            buttons=row.buttons,
        )
        for row in planned.rows
    ]
    await insert_rows(session, rows, now)


async def start(services: Services, planned: Plan) -> None:
    """After the commit: start the sending lanes. Held rows are released by the workers'
    watch when their time comes (`helpline.sender.watch`)."""
    if any(row.status == "queued" for row in planned.rows):
        await sender.kick(services)


async def show(session: AsyncSession, broadcast_id: int, timezone: str) -> dict[str, Any] | None:
    """A broadcast's counts by state and by channel; None when there is no such one."""
    broadcast = await session.get(BroadcastRow, broadcast_id)
    if broadcast is None:
        return None
    rows = await session.execute(
        select(OutboxRow.status, OutboxRow.channel, func.count())
        .where(OutboxRow.broadcast_id == broadcast_id)
        .group_by(OutboxRow.status, OutboxRow.channel)
    )
    states: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for status, channel, count in rows:
        states[status] += count
        channels[channel] += count
    tz = zone(timezone)
    return {
        "id": broadcast.id,
        "audience": broadcast.audience,
        "created_at": broadcast.created_at.astimezone(tz).isoformat(),
        "send_at": broadcast.send_at.astimezone(tz).isoformat(),
        "states": {state: states[state] for state in STATES},
        "channels": {channel: channels[channel] for channel in CHANNELS},
    }
