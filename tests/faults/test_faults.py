"""The service whole under faults: `helpline serve` and `helpline worker` on PostgreSQL
and Redis through fault proxies, calls and messages flowing throughout, every webhook
delivered twice at once; each test counts what went in and what came out."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.db.models import ContactRow, OutboxRow
from helpline.simulator.forms import call_params, random_sid
from routing.call_plan import CallPlan
from routing.delivery import SENDING_TIMEOUT
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID
from tests.faults.audit import SENT, audit, conversations, wait_until
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
    ended = await rig.post("/twilio/status", call_ended())
    # Not a 500: the status is not stored, and the answer says so (Twilio may retry).
    assert [answer.status for answer in ended] == [503] * len(ended), ended
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


def call_ended() -> dict[str, str]:
    """Twilio's status callback for a call that ended after 42 s."""
    form = call_params(random_sid("CA"), "+4798765432", "+4767000001", FAKE_ACCOUNT_SID)
    return {**form, "CallStatus": "completed", "CallDuration": "42"}


async def rig_routes_by_rota(rig: Rig) -> bool:
    """One more call: routed by the rota?"""
    outcome = await rig.call()
    if outcome == "fallback":
        rig.tally.by_fallback -= 1  # a probe, not one of the calls counted
        rig.tally.calls -= 1
    return outcome == "rota"


REDIS_CUT_S = 30.0
DEADLINE_S = 15


@pytest.fixture
async def deadline_rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    async with fault_rig(*stores, tmp_path, homes=200, deadline_s=DEADLINE_S, twice=True) as rig:
        yield rig


async def test_redis_cut_for_30_s_loses_and_doubles_nothing(deadline_rig: Rig) -> None:
    rig = deadline_rig
    await rig.traffic(seconds=2)
    rig.redis.set_mode("cut")
    before = len(rig.tally.messages)
    await rig.traffic(seconds=REDIS_CUT_S)
    during = len(rig.tally.messages) - before
    assert await rig.readyz() == 503
    rig.redis.set_mode("pass")
    # Every deadline that fell due meanwhile fires once Redis is back (by the job or
    # the sweep), and the conversations opened last escalate on time.
    escalated = await wait_until(lambda: all_escalated(rig), timeout_s=120, every_s=1.0)
    assert await rig.readyz() == 200
    counts = await audit(rig)
    print(counts)
    assert escalated, counts
    assert during >= 20
    assert counts.by_rota == counts.calls_made  # calls never needed Redis
    assert counts.notifications_out >= 2 * counts.messages_in  # the first, and a deadline's
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def all_escalated(rig: Rig) -> bool:
    """Whether every conversation notified its chain's second step."""
    stored = await conversations(rig)
    return len(stored) == len(rig.tally.messages) and all(c.notified_steps >= 2 for c in stored)


async def test_a_web_process_killed_mid_call_continues_the_call_after_restart(rig: Rig) -> None:
    await rig.traffic(seconds=2)
    call_sid = random_sid("CA")
    form = {**call_params(call_sid, "+4798765432", "+4767000001", FAKE_ACCOUNT_SID)}
    first = await rig.post("/twilio/voice", {**form, "CallStatus": "ringing"})
    rang, action = dial_of(first[0].text)
    await rig.kill_serve()
    dialled = {**form, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    refused = await rig.post(action, dialled)  # Twilio's first try meets the dead process
    assert {answer.status for answer in refused} == {0}
    await rig.start_serve()
    retried = await rig.post(action, dialled)  # and its retry, the restarted one
    again = await rig.post(action, dialled)  # a retry of the retry: the same answer
    plan = await frozen_chain(rig, call_sid)
    assert rang == plan[0]
    assert {dial_of(answer.text)[0] for answer in [*retried, *again]} == {plan[1]}
    await rig.traffic(seconds=2)
    counts = await audit(rig)
    print(counts)
    assert counts.by_rota == counts.calls_made
    assert (counts.lost, counts.doubled) == (0, 0), counts


def dial_of(twiml: str) -> tuple[str, str]:
    """The number a TwiML answer rings and the path of its `<Dial action>`."""
    root = ET.fromstring(twiml)
    dial, number = root.find("Dial"), root.find("Dial/Number")
    assert dial is not None and number is not None, twiml
    return number.text or "", urlsplit(dial.get("action", "")).path + "?" + urlsplit(
        dial.get("action", "")
    ).query


async def frozen_chain(rig: Rig, call_sid: str) -> list[str]:
    """The phones of the call's frozen dial plan, as stored when it came in."""
    engine = create_async_engine(rig.database_url)
    try:
        async with engine.connect() as connection:
            plan = await connection.scalar(
                select(ContactRow.plan).where(ContactRow.call_sid == call_sid)
            )
    finally:
        await engine.dispose()
    assert plan is not None
    return [step.phone for step in CallPlan.from_json(plan).steps]


@pytest.fixture
async def outbox_rig(stores: tuple[str, str], tmp_path: Path) -> AsyncIterator[Rig]:
    async with fault_rig(*stores, tmp_path, homes=200, deadline_s=5, twice=True) as rig:
        yield rig


async def test_a_worker_killed_while_sending_sends_each_at_least_once_records_once(
    outbox_rig: Rig,
) -> None:
    rig = outbox_rig
    await rig.traffic(seconds=3)
    rig.twilio.delay_next(5.0, count=100_000)  # Twilio slow: the worker's sends in flight
    in_flight = await wait_until(lambda: holding(rig, 2), timeout_s=30, every_s=0.05)
    assert in_flight, "no escalation was being sent"
    await rig.kill_worker()
    rig.twilio.release()
    await rig.start_worker()
    # The rows the dead worker left `sending` are tried again after SENDING_TIMEOUT
    # (5 min): make them that old, as if the wait had passed, for the minute sweep.
    left = await age_sending(rig, SENDING_TIMEOUT + timedelta(seconds=1))
    settled = await wait_until(lambda: all_sent(rig), timeout_s=90, every_s=1.0)
    counts = await audit(rig, at_least_once=True)
    print(counts, f"left sending by the kill: {left}, sent again: {counts.resent}")
    assert settled, counts
    assert left >= 1
    assert (counts.lost, counts.doubled) == (0, 0), counts


async def holding(rig: Rig, count: int) -> bool:
    return rig.twilio.holding >= count


async def age_sending(rig: Rig, age: timedelta) -> int:
    """Make every row left `sending` look claimed `age` ago; how many there were."""
    engine = create_async_engine(rig.database_url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(
                update(OutboxRow)
                .where(OutboxRow.status == "sending")
                .values(claimed_at=datetime.now(UTC) - age)
            )
    finally:
        await engine.dispose()
    return int(result.rowcount)


async def all_sent(rig: Rig) -> bool:
    """Whether every conversation reached its second step and every notice was sent."""
    stored = await conversations(rig)
    notices = [n for c in stored for n in c.notices]
    return (
        await all_escalated(rig)
        and bool(notices)
        and all(status in SENT for _to, status, _sid in notices)
    )
