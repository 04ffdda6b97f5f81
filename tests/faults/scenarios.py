"""The faults the run injects, each a coroutine on a running `Rig` that returns what it
saw; `tests/faults` asserts on it, `bench.faults` runs them longer, one after another."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update

from helpline.db.models import ContactRow, OutboxRow
from helpline.simulator.forms import call_params, random_sid
from routing.call_plan import CallPlan
from routing.delivery import SENDING_TIMEOUT
from tests.fakes.twilio_api import FAKE_ACCOUNT_SID
from tests.faults.audit import SENT, conversations, wait_until
from tests.faults.rig import Rig

#: How long after Redis returns every deadline that fell due must have fired: the
#: deadline job, or the every-minute sweep for a job Redis never got.
ESCALATED_WITHIN_S = 120.0


async def calls_only(rig: Rig, seconds: float, every_s: float = 0.3) -> list[str]:
    """A call every `every_s` for `seconds`; how each was answered."""
    outcomes = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.monotonic()
        outcomes.append(await rig.call())
        await asyncio.sleep(max(0.0, every_s - (time.monotonic() - started)))
    return outcomes


# --- Redis cut -------------------------------------------------------------------------


@dataclass
class RedisCut:
    messages_during: int = 0
    ready_during: int = 0
    ready_after: int = 0
    escalated: bool = False  # every conversation reached its second step afterwards


async def redis_cut(rig: Rig, seconds: float) -> RedisCut:
    """Cut Redis for `seconds` with traffic flowing, restore it, wait for the deadlines."""
    seen = RedisCut()
    rig.redis.set_mode("cut")
    before = len(rig.tally.messages)
    await rig.traffic(seconds=seconds)
    seen.messages_during = len(rig.tally.messages) - before
    seen.ready_during = await rig.readyz()
    rig.redis.set_mode("pass")
    seen.escalated = await wait_until(lambda: all_escalated(rig), ESCALATED_WITHIN_S, 1.0)
    seen.ready_after = await rig.readyz()
    return seen


async def all_escalated(rig: Rig) -> bool:
    """Whether every conversation notified its chain's second step."""
    stored = await conversations(rig)
    return len(stored) == len(rig.tally.messages) and all(c.notified_steps >= 2 for c in stored)


# --- database blackholed ---------------------------------------------------------------


@dataclass
class Blackhole:
    calls_during: list[str] = field(default_factory=list)
    ready_during: int = 0
    status_answers: list[int] = field(default_factory=list)
    back: bool = False  # a call routed by the rota again, without a restart
    ready_after: int = 0


async def database_blackhole(rig: Rig, seconds: float) -> Blackhole:
    """Blackhole PostgreSQL for `seconds` with calls coming in, and a call's status
    callback; restore it and wait for a call routed by the rota."""
    seen = Blackhole()
    rig.pg.set_mode("blackhole")
    seen.calls_during = await calls_only(rig, seconds)
    seen.ready_during = await rig.readyz()
    seen.status_answers = [answer.status for answer in await rig.post("/twilio/status", ended())]
    rig.pg.set_mode("pass")
    seen.back = await wait_until(lambda: routes_by_rota(rig), timeout_s=30)
    seen.ready_after = await rig.readyz()
    return seen


def ended() -> dict[str, str]:
    """Twilio's status callback for a call that ended after 42 s."""
    form = call_params(random_sid("CA"), "+4798765432", "+4767000001", FAKE_ACCOUNT_SID)
    return {**form, "CallStatus": "completed", "CallDuration": "42"}


async def routes_by_rota(rig: Rig) -> bool:
    """One more call: routed by the rota? (A probe answered by the fallback is not
    counted: it is the outage's, not a call after it.)"""
    outcome = await rig.call()
    if outcome == "fallback":
        rig.tally.by_fallback -= 1
        rig.tally.calls -= 1
    return outcome == "rota"


# --- a web process killed mid-call -----------------------------------------------------


@dataclass
class WebKill:
    chain: list[str] = field(default_factory=list)  # the call's frozen chain, as stored
    rang_first: str = ""
    refused: list[int] = field(default_factory=list)  # statuses while the process was dead
    rang_next: list[str] = field(default_factory=list)  # the retry and its retry


async def web_kill(rig: Rig) -> WebKill:
    """A call rings its first step; the web process is SIGKILLed; Twilio's dial-ended
    callback meets the dead process, then (retried) a restarted one, twice."""
    seen = WebKill()
    call_sid = random_sid("CA")
    form = call_params(call_sid, "+4798765432", "+4767000001", FAKE_ACCOUNT_SID)
    first = await rig.post("/twilio/voice", {**form, "CallStatus": "ringing"})
    seen.rang_first, action = dial_of(first[0].text)
    await rig.kill_serve()
    dialled = {**form, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    seen.refused = [answer.status for answer in await rig.post(action, dialled)]
    await rig.start_serve()
    for _ in range(2):
        seen.rang_next += [dial_of(a.text)[0] for a in await rig.post(action, dialled)]
    seen.chain = await frozen_chain(rig, call_sid)
    return seen


def dial_of(twiml: str) -> tuple[str, str]:
    """The number a TwiML answer rings and the path (with query) of its `<Dial action>`."""
    root = ET.fromstring(twiml)
    dial, number = root.find("Dial"), root.find("Dial/Number")
    if dial is None or number is None:
        return "", ""
    action = urlsplit(dial.get("action", ""))
    return number.text or "", f"{action.path}?{action.query}"


async def frozen_chain(rig: Rig, call_sid: str) -> list[str]:
    """The phones of the call's frozen dial plan, as stored when it came in."""
    async with rig.reader.connect() as connection:
        plan = await connection.scalar(
            select(ContactRow.plan).where(ContactRow.call_sid == call_sid)
        )
    return [step.phone for step in CallPlan.from_json(plan).steps] if plan else []


# --- a worker killed while sending -----------------------------------------------------


@dataclass
class WorkerKill:
    in_flight: bool = False  # escalations were being sent when the worker died
    left_sending: int = 0  # rows the dead worker left `sending`
    settled: bool = False  # afterwards every conversation escalated and every row was sent


async def worker_kill(rig: Rig) -> WorkerKill:
    """With Twilio slow to answer, SIGKILL the worker while it sends escalations, start
    another, and wait until every notification row is sent."""
    seen = WorkerKill()
    rig.twilio.delay_next(5.0, count=100_000)  # the worker's sends stay in flight
    seen.in_flight = await wait_until(lambda: holding(rig, 2), timeout_s=30, every_s=0.05)
    await rig.kill_worker()
    rig.twilio.release()
    await rig.start_worker()
    # Rows the dead worker left `sending` are tried again after SENDING_TIMEOUT (5 min):
    # make them that old, as if the wait had passed, for the every-minute outbox sweep.
    seen.left_sending = await age_sending(rig, SENDING_TIMEOUT + timedelta(seconds=1))
    seen.settled = await wait_until(lambda: all_sent(rig), timeout_s=90, every_s=1.0)
    return seen


async def holding(rig: Rig, count: int) -> bool:
    return rig.twilio.holding >= count


async def age_sending(rig: Rig, age: timedelta) -> int:
    """Make every row left `sending` look claimed `age` ago; how many there were."""
    async with rig.reader.begin() as connection:
        result = await connection.execute(
            update(OutboxRow)
            .where(OutboxRow.status == "sending")
            .values(claimed_at=datetime.now(UTC) - age)
        )
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
