"""The console benchmark's contacts: a year of finished calls, SMS and Telegram
conversations planned from the national organisation (pure, seeded) and written straight
into the database, as the service leaves them."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from helpline.db.engine import make_engine
from helpline.db.models import AttemptRow, ContactRow
from helpline.settings import DEFAULT_CATEGORIES
from rota.model import Organisation, Person
from rota.phones import mask_phone

_CHANNELS = (("voice", 5), ("sms", 4), ("telegram", 1))
_OUTCOMES = {
    "voice": (("answered", 7), ("voicemail", 2), ("abandoned", 1)),
    "sms": (("answered", 8), ("closed", 2)),
    "telegram": (("answered", 8), ("closed", 2)),
}
_ROLES = ("primary", "backup", "barnevernvakt")
_UNKNOWN_SHARE = 0.1  # contacts from numbers of no foster home
#: The columns only some contacts fill: every row names them all (one executemany).
_OPTIONAL = dict.fromkeys((
    "call_sid", "answered_at", "answered_by", "ended_at", "duration_seconds",
    "first_answer_at", "closed_at", "category", "telegram_chat_id",
))  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlannedContact:
    """A finished contact to store: its `ContactRow` columns and its call attempts'
    `AttemptRow` columns (without the contact's id, which the database gives)."""

    row: dict[str, object]
    attempts: tuple[dict[str, object], ...] = ()


def plan_contacts(
    org: Organisation,
    count: int,
    now: datetime,
    rng: random.Random,
    categories: Sequence[str] = tuple(DEFAULT_CATEGORIES.split(",")),
) -> list[PlannedContact]:
    """`count` finished contacts started in the year before `now`: calls, SMS and Telegram
    conversations from the organisation's foster homes (some from unknown numbers),
    answered, closed, voicemail or abandoned, as the service leaves them."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    kommuner = {k.id: k for k in org.kommuner}
    people = org.people
    planned = []
    for _ in range(count):
        home = rng.choice(org.foster_homes)
        kommune = kommuner[home.kommune]
        channel = _weighted(rng, _CHANNELS)
        outcome = _weighted(rng, _OUTCOMES[channel])
        caller = rng.choice(home.phones)
        if rng.random() < _UNKNOWN_SHARE:
            caller = f"+4748{rng.randrange(10**6):06d}"
            home_id = home_name = None
        else:
            home_id, home_name = home.id, home.name
        started = now - timedelta(seconds=rng.randrange(1, 365 * 24 * 3600))
        row: dict[str, object] = {
            **_OPTIONAL,
            "channel": channel,
            "kommune_id": kommune.id,
            "kommune_name": kommune.name,
            "foster_home_id": home_id,
            "foster_home_name": home_name,
            "caller": caller,
            "caller_masked": mask_phone(caller),
            "helpline_number": kommune.numbers[0]
            if kommune.numbers
            else org.helpline.fallback_phone,
            "started_at": started,
            "outcome": outcome,
            "urgent": rng.random() < 0.05,
            "plan": "[]",  # finished: nothing reads the frozen plan any more
        }
        taker = rng.choice(people)
        answered = started + timedelta(seconds=rng.randrange(5, 600))
        attempts: tuple[dict[str, object], ...] = ()
        if channel == "voice":
            row["call_sid"] = "CA" + uuid.UUID(int=rng.getrandbits(128), version=4).hex
            rung = [rng.choice(people) for _ in range(rng.randint(1, 3))]
            attempts = _attempts(rung, started, outcome == "answered")
            ended = max(started + timedelta(seconds=rng.randrange(20, 1800)), answered)
            row["ended_at"] = ended + timedelta(seconds=10)
            if outcome == "answered":
                row |= {"answered_at": answered, "answered_by": rung[-1].name}
                row["duration_seconds"] = int((ended - answered).total_seconds()) + 10
        else:
            closed = answered + timedelta(seconds=rng.randrange(60, 6 * 3600))
            row |= {"closed_at": closed, "category": rng.choice(categories) if categories else None}
            if channel == "telegram":
                row["telegram_chat_id"] = rng.randrange(10**8, 10**10)
            if outcome == "answered":
                row |= {"answered_at": answered, "answered_by": taker.name}
                row["first_answer_at"] = answered + timedelta(seconds=rng.randrange(5, 120))
        planned.append(PlannedContact(row, attempts))
    return planned


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


def _attempts(
    rung: Sequence[Person], started: datetime, taken: bool
) -> tuple[dict[str, object], ...]:
    """One attempt per person rung, 20 s each; the last accepted when the call was taken."""
    result = []
    for step, person in enumerate(rung):
        at = started + timedelta(seconds=20 * step)
        last = step == len(rung) - 1
        result.append({
            "step": step,
            "role": _ROLES[min(step, len(_ROLES) - 1)],
            "person_id": person.id,
            "name": person.name,
            "phone": person.phone,
            "started_at": at,
            "ended_at": at + timedelta(seconds=20),
            "outcome": "accepted" if taken and last else "no-answer",
        })  # fmt: skip
    return tuple(result)


async def store_contacts(database_url: str, planned: Sequence[PlannedContact]) -> int:
    """Write the planned contacts and their attempts; how many contacts the database has."""
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(planned), 1000):
                chunk = planned[start : start + 1000]
                ids = await connection.scalars(
                    insert(ContactRow).returning(ContactRow.id, sort_by_parameter_order=True),
                    [p.row for p in chunk],
                )
                attempts = [
                    {**a, "contact_id": contact_id}
                    for contact_id, p in zip(ids, chunk, strict=True)
                    for a in p.attempts
                ]
                if attempts:
                    await connection.execute(insert(AttemptRow), attempts)
            count = await connection.scalar(select(func.count()).select_from(ContactRow))
    finally:
        await engine.dispose()
    return int(count or 0)
