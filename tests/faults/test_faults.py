"""The service whole under faults: `helpline serve` and `helpline worker` on PostgreSQL
and Redis through fault proxies, calls and messages flowing throughout, every webhook
delivered twice at once; each test counts what went in and what came out (printed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.faults import scenarios
from tests.faults.audit import audit
from tests.faults.rig import Rig, fault_rig

pytestmark = pytest.mark.faults

REDIS_CUT_S = 30.0
BLACKHOLE_S = 10.0
SLOW_S = 0.02  # each way, per chunk: a far database


@pytest.fixture
async def rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    async with fault_rig(*stores, tmp_path, homes=200, twice=True) as running:
        yield running


@pytest.fixture
async def deadline_rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    """Deadlines short enough to fall due during the fault."""
    async with fault_rig(*stores, tmp_path, homes=200, deadline_s=10, twice=True) as running:
        yield running


async def test_every_webhook_twice_at_once_gives_one_contact_and_one_notification(
    rig: Rig,
) -> None:
    await rig.traffic(seconds=2, every_s=0.3)
    rig.pg.set_mode("slow", latency=SLOW_S)  # a slow database, and Redis's connections reset
    rig.redis.set_mode("reset")
    await rig.traffic(seconds=1, every_s=0.3)
    rig.redis.set_mode("pass")
    await rig.traffic(seconds=2, every_s=0.3)
    rig.pg.set_mode("pass")
    await rig.traffic(seconds=2, every_s=0.3)
    counts = await audit(rig)
    print(counts)
    assert counts.calls_made >= 10 and counts.by_rota == counts.calls_made
    assert counts.messages_in >= 10
    assert counts.notifications_out == counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def test_redis_cut_for_30_s_loses_and_doubles_nothing(deadline_rig: Rig) -> None:
    rig = deadline_rig
    await rig.traffic(seconds=2)
    seen = await scenarios.redis_cut(rig, REDIS_CUT_S)
    counts = await audit(rig)
    print(counts, seen)
    assert seen.messages_during >= 20
    assert (seen.ready_during, seen.ready_after) == (503, 200)
    # Every deadline that fell due meanwhile fired once Redis was back.
    assert seen.escalated, counts
    assert counts.by_rota == counts.calls_made  # calls never needed Redis
    assert counts.escalations >= counts.messages_in
    assert counts.notifications_out >= 2 * counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def test_database_blackholed_calls_dial_the_fallback_at_once_then_the_rota(
    rig: Rig,
) -> None:
    await rig.traffic(seconds=3)
    assert await rig.readyz() == 200
    seen = await scenarios.database_blackhole(rig, BLACKHOLE_S)
    await rig.traffic(seconds=3)
    counts = await audit(rig)
    print(counts, seen)
    # Answered within 3 s (`CALL_ANSWER_S`: else "unanswered"), by the fallback.
    assert seen.calls_during and set(seen.calls_during) == {"fallback"}, rig.tally.unanswered
    assert seen.ready_during == 503
    # Not a 500: the status is not stored, and the answer says so (Twilio may retry).
    assert set(seen.status_answers) == {503}
    assert seen.back, "no call routed by the rota within 30 s of the database's return"
    assert seen.ready_after == 200
    assert counts.by_fallback == len(seen.calls_during)
    # Just after the outage, under load, the twin of a call may time out waiting for the
    # first copy's transaction and answer the fallback: answered, counted apart.
    assert counts.by_rota + counts.split == counts.calls_made - counts.by_fallback
    assert counts.notifications_out == counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def test_a_web_process_killed_mid_call_continues_the_call_after_restart(rig: Rig) -> None:
    await rig.traffic(seconds=2)
    seen = await scenarios.web_kill(rig)
    await rig.traffic(seconds=2)
    counts = await audit(rig)
    print(counts, seen)
    assert set(seen.refused) == {0}  # no process to answer
    assert len(seen.chain) >= 2 and seen.rang_first == seen.chain[0]
    assert set(seen.rang_next) == {seen.chain[1]}  # the same call, its frozen chain
    assert counts.by_rota == counts.calls_made
    assert (counts.lost, counts.doubled) == (0, 0), counts


@pytest.fixture
async def outbox_rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    async with fault_rig(*stores, tmp_path, homes=200, deadline_s=5, twice=True) as running:
        yield running


async def test_a_worker_killed_while_sending_sends_each_at_least_once_records_once(
    outbox_rig: Rig,
) -> None:
    rig = outbox_rig
    await rig.traffic(seconds=3)
    seen = await scenarios.worker_kill(rig)
    counts = await audit(rig, at_least_once=True)
    print(counts, seen, f"sent again: {counts.resent}")
    assert seen.in_flight, "no escalation was being sent"
    assert seen.left_sending >= 1
    assert seen.settled, counts
    assert counts.escalations >= counts.messages_in
    assert (counts.lost, counts.doubled) == (0, 0), counts
