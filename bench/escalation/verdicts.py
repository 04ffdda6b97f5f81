"""How each conversation escalated: verdicts from what the service stored, and their summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.escalation.org import BENCH_HOME_PREFIX
from bench.figures import percentile


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one conversation's first deadline went."""

    contact_id: int
    due: float  # epoch seconds: started_at + deadline
    escalations: int  # step-2 notifications seen
    escalated_at: float | None  # created_at of the first of them

    @property
    def lateness(self) -> float | None:
        return None if self.escalated_at is None else self.escalated_at - self.due


def judge_conversation(
    contact_id: int,
    started_at: float,
    deadline_s: float,
    second_phone: str,
    notifications: Sequence[tuple[float, str]],
) -> Verdict:
    """The verdict on one conversation from its "notify" rows (created_at, to): the
    escalation is a notification to the second person of its chain."""
    to_second = sorted(at for at, to in notifications if to == second_phone)
    return Verdict(
        contact_id,
        started_at + deadline_s,
        len(to_second),
        to_second[0] if to_second else None,
    )


@dataclass(frozen=True, slots=True)
class Summary:
    """Lateness quantiles (s) of the escalated conversations, and the counts."""

    conversations: int
    once: int
    missing: int
    doubled: int
    early: int
    p50: float
    p90: float
    p99: float
    max: float


def summarise(verdicts: Sequence[Verdict]) -> Summary:
    """Quantiles over the conversations that escalated, and how many did not once."""
    late = sorted(v.lateness for v in verdicts if v.lateness is not None)
    nan = float("nan")

    def q(values: Sequence[float], at: float) -> float:
        return percentile(values, at) if values else nan

    return Summary(
        conversations=len(verdicts),
        once=sum(v.escalations == 1 for v in verdicts),
        missing=sum(v.escalations == 0 for v in verdicts),
        doubled=sum(v.escalations > 1 for v in verdicts),
        early=sum(1 for x in late if x < 0),
        p50=q(late, 0.5),
        p90=q(late, 0.9),
        p99=q(late, 0.99),
        max=late[-1] if late else nan,
    )


def verdicts(stored: Stored, deadline_s: float) -> list[Verdict]:
    """One verdict per stored conversation."""
    return [
        judge_conversation(c, started, deadline_s, second, stored.notifications[c])
        for c, (started, second) in sorted(stored.contacts.items())
    ]


# --- reading the database ----------------------------------------------------------------


@dataclass
class Stored:
    """What the service stored for the benchmark's conversations."""

    contacts: dict[int, tuple[float, str]]  # id -> (started_at epoch, second phone)
    homes: dict[int, str]  # id -> the foster home that wrote
    notifications: dict[int, list[tuple[float, str]]]  # id -> [(created_at, to)]
    moved: int  # "moved" notices: a shift change reassigned conversations mid-run


class Reader:
    """Reads contacts and "notify" rows with the service's own models."""

    def __init__(self, database_url: str) -> None:
        from helpline.db.engine import make_engine

        self.engine = make_engine(database_url)

    async def escalated(self) -> int:
        """Conversations with two or more "notify" rows (a cheap progress count)."""
        from sqlalchemy import func, select

        from helpline.db.models import OutboxRow

        many = (
            select(OutboxRow.contact_id)
            .where(OutboxRow.kind == "notify")
            .group_by(OutboxRow.contact_id)
            .having(func.count() >= 2)
            .subquery()
        )
        async with self.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(many)) or 0)

    async def read(self) -> Stored:
        from sqlalchemy import func, select

        from helpline.db.models import ContactRow, OutboxRow
        from routing.conversations import MessagePlan

        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        ContactRow.id,
                        ContactRow.started_at,
                        ContactRow.message_plan,
                        ContactRow.foster_home_id,
                    ).where(ContactRow.foster_home_id.like(f"{BENCH_HOME_PREFIX}%"))
                )
            ).all()
            notify = (
                await connection.execute(
                    select(OutboxRow.contact_id, OutboxRow.created_at, OutboxRow.to).where(
                        OutboxRow.kind == "notify"
                    )
                )
            ).all()
            moved = await connection.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == "moved")
            )
        contacts: dict[int, tuple[float, str]] = {}
        homes: dict[int, str] = {}
        for contact_id, started_at, plan, home in rows:
            homes[contact_id] = home or ""
            steps = MessagePlan.from_json(plan).steps if plan else ()
            contacts[contact_id] = (
                started_at.timestamp(),
                steps[1].phone if len(steps) > 1 else "",
            )
        notifications: dict[int, list[tuple[float, str]]] = {c: [] for c in contacts}
        for owner, created_at, to in notify:
            if owner is not None and owner in notifications:
                notifications[owner].append((created_at.timestamp(), to))
        return Stored(contacts, homes, notifications, int(moved or 0))

    async def close(self) -> None:
        await self.engine.dispose()
