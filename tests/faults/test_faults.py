"""The service whole under faults: `helpline serve` and `helpline worker` on PostgreSQL
and Redis through fault proxies, calls and messages flowing throughout, every webhook
delivered twice at once; each test counts what went in and what came out."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults.audit import audit, wait_until
from tests.faults.rig import Rig, fault_rig

pytestmark = pytest.mark.faults


@pytest.fixture
async def rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    async with fault_rig(*stores, tmp_path, homes=200, twice=True) as running:
        yield running


async def test_every_webhook_twice_at_once_gives_one_contact_and_one_notification(
    rig: Rig,
) -> None:
    await rig.traffic(seconds=6, every_s=0.3)
    counts = await audit(rig)
    print(counts)
    assert counts.calls_made >= 10 and counts.by_rota == counts.calls_made
    assert counts.messages_in >= 10
    assert counts.notifications_out == counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def calls_only(rig: Rig, seconds: float, every_s: float = 0.3) -> list[str]:
    """A call every `every_s` for `seconds`; how each was answered."""
    outcomes = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        outcomes.append(await rig.call())
        await asyncio.sleep(max(0.0, every_s - (time.monotonic() - started)))
    return outcomes


async def test_database_blackholed_calls_dial_the_fallback_at_once_then_the_rota(
    rig: Rig,
) -> None:
    await rig.traffic(seconds=3)
    assert await rig.readyz() == 200
    rig.pg.set_mode("blackhole")
    during = await calls_only(rig, seconds=10)
    assert await rig.readyz() == 503
    assert during and set(during) == {"fallback"}, rig.tally.unanswered[:3]
    rig.pg.set_mode("pass")
    back = await wait_until(lambda: rig_routes_by_rota(rig), timeout_s=30)
    assert back, "no call routed by rota within 30 s of the database's return"
    assert await rig.readyz() == 200
    await rig.traffic(seconds=3)
    counts = await audit(rig)
    print(counts)
    assert counts.by_fallback == len(during)
    assert counts.by_rota == counts.calls_made - counts.by_fallback
    assert counts.notifications_out == counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def rig_routes_by_rota(rig: Rig) -> bool:
    """One more call: routed by the rota?"""
    outcome = await rig.call()
    if outcome == "fallback":
        rig.tally.by_fallback -= 1  # a probe, not one of the calls counted
        rig.tally.calls -= 1
    return outcome == "rota"
