"""Contacts for the statistics' tests: rows as the webhooks store them (calls with their
attempts, message conversations with their steps), at named instants across two months
and both demo kommuner: an unknown caller on Asker's line (Asker's, no foster home) and
one on no kommune's line (no kommune: an admin's only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from helpline.bootstrap import Services
from helpline.db.models import AttemptRow, ContactRow
from rota.phones import mask_phone


@dataclass(frozen=True)
class Seed:
    channel: str
    kommune: str | None
    home: tuple[str, str] | None  # (id, name)
    caller: str
    started_at: datetime
    answer_after: int | None  # seconds until staff took it
    outcome: str
    rung: int = 0  # numbers rung (calls)
    notified_steps: int = 1  # steps notified (messages)


P_HANSEN, P_JOHANSEN, P_OLSEN = "+4798765432", "+4792345678", "+4797000001"
HANSEN = ("hansen", "Familien Hansen")
JOHANSEN = ("johansen", "Familien Johansen")
OLSEN = ("olsen", "Familien Olsen")


def at(month: int, day: int, hour: int, minute: int) -> datetime:
    """An instant of 2026, in UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


#: Instants in UTC; Oslo is UTC+1 in November and December, UTC+2 until 25 October.
SEEDS = (
    Seed("voice", "asker", HANSEN, P_HANSEN, at(11, 23, 9, 0), 15, "answered", 1),
    Seed("voice", "asker", JOHANSEN, P_JOHANSEN, at(11, 23, 9, 40), None, "voicemail", 4),
    Seed("voice", "asker", HANSEN, P_HANSEN, at(11, 24, 2, 5), 40, "answered", 2),
    Seed("sms", "asker", HANSEN, P_HANSEN, at(11, 30, 13, 0), 120, "closed"),
    Seed("sms", "asker", JOHANSEN, P_JOHANSEN, at(11, 29, 22, 30), 900, "answered", 0, 2),
    Seed("telegram", "asker", HANSEN, P_HANSEN, at(10, 5, 16, 0), 60, "closed"),
    Seed("sms", "asker", None, "+4790000001", at(10, 31, 23, 30), None, "abandoned", 0, 4),
    Seed("voice", "baerum", OLSEN, P_OLSEN, at(11, 23, 9, 10), 5, "answered", 1),
    Seed("sms", "baerum", OLSEN, P_OLSEN, at(11, 25, 8, 0), None, "in_progress"),
    Seed("voice", None, None, "+4790000002", at(11, 26, 11, 0), None, "abandoned", 1),
)  # fmt: skip


async def seed_contacts(services: Services, seeds: tuple[Seed, ...] = SEEDS) -> list[int]:
    """Store the contacts; their ids, in the order of `seeds`."""
    ids = []
    async with services.sessions() as session, session.begin():
        for n, seed in enumerate(seeds):
            answered = (
                seed.started_at + timedelta(seconds=seed.answer_after)
                if seed.answer_after is not None
                else None
            )
            row = ContactRow(
                channel=seed.channel,
                kommune_id=seed.kommune,
                kommune_name={"asker": "Asker", "baerum": "Bærum"}.get(seed.kommune or ""),
                foster_home_id=seed.home[0] if seed.home else None,
                foster_home_name=seed.home[1] if seed.home else None,
                caller=seed.caller,
                caller_masked=mask_phone(seed.caller),
                helpline_number="+4767000001" if seed.kommune != "baerum" else "+4767000002",
                call_sid=f"CA-stats-{n}" if seed.channel == "voice" else None,
                started_at=seed.started_at,
                answered_at=answered,
                answered_by="Ola Berg" if answered else None,
                outcome=seed.outcome,
                plan="[]",
                message_plan=None if seed.channel == "voice" else "{}",
                notified_steps=0 if seed.channel == "voice" else seed.notified_steps,
                closed_at=answered if seed.outcome == "closed" else None,
            )
            session.add(row)
            await session.flush()
            ids.append(row.id)
            for step in range(seed.rung):
                last = step == seed.rung - 1
                session.add(
                    AttemptRow(
                        contact_id=row.id,
                        step=step,
                        role=("primary", "backup", "barnevernvakt", "fallback")[step],
                        name=f"Vakt {step}",
                        phone=f"+479100000{step}",
                        started_at=seed.started_at,
                        outcome="accepted" if last and answered else "no-answer",
                    )
                )
    return ids
