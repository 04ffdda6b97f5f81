"""Counting a fault run: what was sent in, what the database stored and what the fake
Twilio received, with every message lost or doubled named."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from helpline.db.models import ContactRow, OutboxRow
from routing.conversations import MessagePlan
from tests.faults.rig import Rig

SENT = frozenset({"sent", "delivered"})


@dataclass
class Conversation:
    """One stored SMS conversation: who wrote, its frozen chain's phones, how many steps
    were notified, and its notification rows (to, status, provider id)."""

    contact_id: int
    caller: str
    chain: list[str]
    notified_steps: int
    notices: list[tuple[str, str, str | None]] = field(default_factory=list)

    def rows_to(self, phone: str) -> list[tuple[str, str, str | None]]:
        return [notice for notice in self.notices if notice[0] == phone]


@dataclass
class Counts:
    """The fault run's counts; `problems` names each message lost or doubled."""

    calls_made: int = 0
    by_rota: int = 0
    by_fallback: int = 0
    split: int = 0  # a call delivered twice at once, one copy by the rota, one by the fallback
    messages_in: int = 0
    notifications_out: int = 0
    escalations: int = 0
    lost: int = 0
    doubled: int = 0
    resent: int = 0  # sent to Twilio more than once, recorded once (at least once)
    problems: list[str] = field(default_factory=list)

    def row(self) -> dict[str, int]:
        """The counts table, in the issue's order."""
        return {
            "calls made": self.calls_made,
            "answered by rota": self.by_rota,
            "answered by fallback": self.by_fallback,
            "answered split (twice: one each)": self.split,
            "messages in": self.messages_in,
            "notifications out": self.notifications_out,
            "escalations": self.escalations,
            "lost": self.lost,
            "doubled": self.doubled,
        }

    def __str__(self) -> str:
        table = "  ".join(f"{k}={v}" for k, v in self.row().items())
        return table + "".join(f"\n  {p}" for p in self.problems[:20])


async def conversations(rig: Rig) -> list[Conversation]:
    """Every SMS conversation stored, with its notification rows."""
    async with rig.reader.connect() as connection:
        contacts = await connection.execute(
            select(
                ContactRow.id,
                ContactRow.caller,
                ContactRow.message_plan,
                ContactRow.notified_steps,
            ).where(ContactRow.channel == "sms")
        )
        found = {
            cid: Conversation(cid, caller, _chain(plan), steps)
            for cid, caller, plan, steps in contacts
        }
        rows = await connection.execute(
            select(
                OutboxRow.contact_id, OutboxRow.to, OutboxRow.status, OutboxRow.provider_id
            ).where(OutboxRow.kind == "notify")
        )
        for contact_id, to, status, provider_id in rows:
            if contact_id in found:
                found[contact_id].notices.append((to, status, provider_id))
    return list(found.values())


def _chain(plan: str | None) -> list[str]:
    return [step.phone for step in MessagePlan.from_json(plan).steps] if plan else []


async def audit(rig: Rig, *, at_least_once: bool = False, settle_s: float = 15.0) -> Counts:
    """Count the run (see `count`), again for up to `settle_s` while something looks
    lost: escalations go on during the audit, and a notice just written is not yet sent."""
    end = time.monotonic() + settle_s
    while True:
        counts = await count(rig, at_least_once=at_least_once)
        if counts.lost == 0 or time.monotonic() > end:
            return counts
        await asyncio.sleep(1.0)


async def count(rig: Rig, *, at_least_once: bool = False) -> Counts:
    """Count the run. A message is lost when it is not stored once, or its first staff
    member was not notified (a row sent and received by the fake); doubled when it is
    stored twice, or a step is recorded twice, or (unless `at_least_once`) Twilio got
    the same notification twice."""
    tally = rig.tally
    counts = Counts(tally.calls, tally.by_rota, tally.by_fallback, tally.split, len(tally.messages))
    counts.lost += len(tally.unanswered) + len(tally.refused)
    counts.problems += [f"call not answered: {why}" for why in tally.unanswered]
    counts.problems += [f"message refused: {why}" for why in tally.refused]
    by_caller: dict[str, list[Conversation]] = {}
    for conversation in await conversations(rig):
        by_caller.setdefault(conversation.caller, []).append(conversation)
    received = {m.sid for m in rig.twilio.messages if m.accepted}
    for home in tally.messages:
        stored = by_caller.get(home.phone, [])
        if len(stored) != 1:
            counts.lost += not stored
            counts.doubled += len(stored) > 1
            counts.problems.append(f"{home.id}: {len(stored)} conversations stored")
            continue
        _count_notices(stored[0], home.id, received, counts)
    sent = Counter((m.form.get("To"), m.form.get("Body")) for m in rig.twilio.messages)
    twice = sum(n - 1 for n in sent.values() if n > 1)
    if at_least_once:
        counts.resent = twice
    elif twice:
        counts.doubled += twice
        counts.problems.append(f"{twice} messages sent to Twilio more than once")
    return counts


def _count_notices(
    conversation: Conversation, home: str, received: set[str | None], counts: Counts
) -> None:
    for step, phone in enumerate(conversation.chain[: max(1, conversation.notified_steps)]):
        rows = conversation.rows_to(phone)
        out = [r for r in rows if r[1] in SENT and r[2] in received]
        if len(rows) > 1:
            counts.doubled += 1
            counts.problems.append(f"{home}: step {step + 1} recorded {len(rows)} times")
        elif not out:
            counts.lost += 1
            states = [r[1] for r in rows] or ["no row"]
            counts.problems.append(f"{home}: step {step + 1} not notified ({', '.join(states)})")
        else:
            counts.notifications_out += 1
            counts.escalations += step > 0


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout_s: float, every_s: float = 0.5
) -> bool:
    """Poll `check` until it holds (True) or `timeout_s` passed (False)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if await check():
            return True
        await asyncio.sleep(every_s)
    return await check()
