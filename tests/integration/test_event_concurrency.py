"""Concurrent answers to one event (on PostgreSQL when HELPLINE_TEST_DATABASE_URL points at
it): the event's row lock takes them one at a time, so yes never exceeds capacity and the
waitlist is numbered without gaps or repeats."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import InvitationRow
from helpline.event_actions import create_event, invite_event
from helpline.rsvp import take
from routing.access import ADMIN
from routing.event_rules import Draft
from tests.conftest import FrozenClock
from tests.unit.rota_fixtures import oslo

pytestmark = pytest.mark.integration

HOMES = ("hansen", "johansen", "haugen", "nilsen", "olsen", "larsen", "kristiansen")


async def test_concurrent_answers_never_exceed_capacity(
    services: Services, clock: FrozenClock
) -> None:
    clock.now = oslo(2026, 11, 30, 12)
    await load_text(services, demo_text())
    loaded = await services.organisation()
    assert loaded is not None
    draft = Draft("fagdag", "Fagdag", oslo(2026, 12, 10, 9), oslo(2026, 12, 10, 15), "Sandvika", 3)
    event_id = await create_event(
        services, loaded, draft, "kommune:asker,kommune:baerum", ADMIN, "test"
    )
    assert await invite_event(services, loaded, event_id, None, ADMIN, "test") == len(HOMES)

    async def answer(home: str, people: int) -> None:
        async with services.sessions() as session, session.begin():
            taken = await take(
                session, loaded, services.settings, event_id, home, True, people, "sms", clock.now
            )
            assert taken is not None

    for _round in range(2):  # the second round: the same answers again, and changes
        await asyncio.gather(*(answer(home, 1 + i % 2) for i, home in enumerate(HOMES)))
        async with services.sessions() as session:
            rows = list(
                await session.scalars(
                    select(InvitationRow).where(InvitationRow.event_id == event_id)
                )
            )
        assert sum(r.people for r in rows if r.answer == "yes") <= 3
        waiting = sorted(r.queue for r in rows if r.answer == "waitlist" and r.queue is not None)
        assert len(set(waiting)) == len(waiting) == sum(1 for r in rows if r.answer == "waitlist")
        assert {r.answer for r in rows} <= {"yes", "waitlist"}
