"""Durable jobs, called as the worker calls them, against a real database."""

from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import ContactRow, OutboxRow
from helpline.jobs import Context, notify_voicemail, sweep_voicemail_notices, watch_coverage
from routing.call_plan import CallPlan, DialStep
from tests.conftest import FrozenClock

pytestmark = pytest.mark.integration


def context(services: Services) -> Context:
    return cast(Context, {"services": services})


async def test_watch_coverage_warns_about_gaps_in_the_coming_two_weeks(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    assert await watch_coverage(context(services)) == 0  # nothing loaded yet
    await load_text(services, demo_text())
    assert await watch_coverage(context(services)) == 0
    holey = demo_text().replace('from = "22:00", to = "08:00"', 'from = "23:00", to = "08:00"')
    await load_text(services, holey)
    gaps = await watch_coverage(context(services))
    assert gaps == 2 * 14  # both kommuner, one hour every night for 14 nights
    assert "coverage gap: kommune asker has nobody on duty" in caplog.text


async def voicemail(services: Services, phones: list[str], outcome: str = "voicemail") -> int:
    plan = CallPlan(tuple(DialStep(i, "primary", f"P{i}", p) for i, p in enumerate(phones)))
    contact = ContactRow(
        channel="voice",
        kommune_id="asker",
        kommune_name="Asker",
        foster_home_id="hansen",
        foster_home_name="Familien Hansen",
        caller="+4798765432",
        caller_masked="x",
        helpline_number="+4767000001",
        call_sid=f"CA-{outcome}",
        started_at=services.clock(),
        outcome=outcome,
        plan=plan.to_json(),
    )
    async with services.sessions() as session, session.begin():
        session.add(contact)
    return contact.id


async def test_voicemail_notices_go_once_to_each_number_however_often_they_run(
    services: Services, clock: FrozenClock
) -> None:
    clock.now = datetime(2026, 11, 24, 2, 5, tzinfo=UTC)  # 03:05 in Oslo
    contact = await voicemail(services, ["+4792000000", "+4746600789", "+4792000000"])
    answered = await voicemail(services, ["+4791234567"], outcome="answered")
    assert await notify_voicemail(context(services), contact_id=contact) == 2
    assert await notify_voicemail(context(services), contact_id=contact) == 0
    assert await notify_voicemail(context(services), contact_id=answered) == 0
    assert await sweep_voicemail_notices(context(services)) == 0
    async with services.sessions() as session:
        rows = list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    assert [row.to for row in rows] == ["+4792000000", "+4746600789"]
    assert "ringte kl. 03:05" in rows[0].body and "Familien Hansen (Asker)" in rows[0].body
