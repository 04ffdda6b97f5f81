"""The contact statistics' query: the metadata of the contacts in a period and scope, as
`routing.statistics.ContactFact`s for the pure aggregation; and the contacts behind one
bar or cell, for the list the charts link to.

The scope rule is the contact log's (`Scope.list_kommuner`): a kommune outside the
reader's scope gives no contacts, exactly as one without contacts; an admin without a
kommune counts every contact, those with no kommune included. A call escalated when more
than one number was rung; a message conversation when its deadline passed to a later
step, or when every step was passed without an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpline.db.models import AttemptRow, ContactRow
from routing.access import Scope
from routing.statistics import ContactFact


@dataclass(frozen=True, slots=True)
class StatisticsFilter:
    """Contacts that started in [start, end) of `kommune` (None: all the scope sees)."""

    kommune: str | None
    start: datetime
    end: datetime

    def describe(self) -> str:
        """As the access log records it."""
        return (
            f"kommune={self.kommune or '*'}&from={self.start.isoformat()}&to={self.end.isoformat()}"
        )


async def contact_facts(
    session: AsyncSession, where: StatisticsFilter, scope: Scope
) -> list[ContactFact]:
    """The facts of every contact in the filter and scope, oldest first."""
    attempts = (
        select(AttemptRow.contact_id, func.count().label("rung"))
        .group_by(AttemptRow.contact_id)
        .subquery()
    )
    query = (
        select(ContactRow, func.coalesce(attempts.c.rung, 0))
        .outerjoin(attempts, attempts.c.contact_id == ContactRow.id)
        .where(ContactRow.started_at >= where.start, ContactRow.started_at < where.end)
        .order_by(ContactRow.started_at, ContactRow.id)
    )
    kommuner = scope.list_kommuner(where.kommune)
    if kommuner is not None:
        if not kommuner:
            return []
        query = query.where(ContactRow.kommune_id.in_(sorted(kommuner)))
    rows = await session.execute(query)
    return [_fact(row, rung) for row, rung in rows]


def _fact(row: ContactRow, rung: int) -> ContactFact:
    answered = row.answered_at
    if row.channel == "voice":
        escalated = rung > 1
    else:
        escalated = row.notified_steps > 1 or row.exhausted_at is not None
    return ContactFact(
        id=row.id,
        channel=row.channel,
        kommune=row.kommune_id,
        started_at=row.started_at,
        seconds_to_answer=int((answered - row.started_at).total_seconds()) if answered else None,
        outcome=row.outcome,
        escalated=escalated,
    )


async def contact_rows(session: AsyncSession, ids: list[int]) -> list[ContactRow]:
    """The contacts of `ids`, newest first (the caller has checked them against the
    scope, through `contact_facts`)."""
    if not ids:
        return []
    rows = await session.scalars(
        select(ContactRow)
        .where(ContactRow.id.in_(ids))
        .order_by(ContactRow.started_at.desc(), ContactRow.id.desc())
    )
    return list(rows)
