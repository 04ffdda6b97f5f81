"""The paced lane: group and info messages, sent at the pace of each sending number.

Help never comes here: it is delivered at once by `helpline.outbox` right after the
transaction that decided it, unpaced, and nothing here can hold it up.

Sending runs as saq jobs in `LANES` lanes. A lane's job claims a batch of due rows (about
two seconds' worth, `helpline.paced_rows.claim`), sends them concurrently, each after
taking its tokens (`helpline.pacing`: SMS segments per sending number, messages for the
bot), records the outcomes, and enqueues the lane's next job. Every job refreshes its
lane's heartbeat in Redis; a lane whose heartbeat lapsed (its worker died) is started
again by the next job of another lane, or by the watch every worker keeps (`watch`:
held rows whose time came are released, and lanes started when rows are due), so a killed
worker stops the lanes it was running for a few seconds at most. saq hands a burst of
jobs to one worker's waiting slots before the other's, so all lanes often run in one.

Exactly once, across crashes: a claim older than `LEASE` goes back to the queue. Before a
message is handed to the vendor its row is marked in flight in Redis; a re-claimed row so
marked may have gone out. For SMS, Twilio's message list says whether it did (it also
calls back, and the callback finds the row); Telegram can not tell, so such a row is
given up (`failed`) rather than sent twice. Rows that never got that far are sent again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import time
from datetime import timedelta

from saq import Job

from helpline import metrics, optout
from helpline.bootstrap import Services
from helpline.paced_rows import (
    Claimed,
    claim,
    finish,
    finish_in,
    has_due,
    recover_stuck,
    release_held,
)
from helpline.pacing import TELEGRAM_BUCKET, Bucket, sms_bucket
from helpline.refusals import apply_refusal
from rota.model import HelplineConfig, QuietHours
from rota.phones import mask_phone
from rota.wallclock import OSLO, zone
from routing.classes import (
    HoldUntil,
    MsgClass,
    OptedOut,
    SendSilently,
    decide,
    is_msg_class,
    opt_out_scopes,
)
from routing.ports import Button, ChannelError, Sent
from routing.segments import segments

log = logging.getLogger(__name__)

LANES = 4
LANE_TTL_MS = 1_000  # a lane whose job has not beaten for this long is revived
WATCH_S = 0.25  # how often each worker looks for due rows that no lane is sending
MAX_ATTEMPTS = 10
INFLIGHT_TTL_S = 24 * 3600
JOB_TIMEOUT_S = 120
_LANE_KEY = "sender:lane:{}"
_INFLIGHT_KEY = "outbox:inflight:{}"
DEFAULT_QUIET = HelplineConfig(fallback_phone="").quiet_hours


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 5 * 2 ** max(0, attempts - 1)))


class PacedSender:
    """One process's sender over the services: claims, paces, sends, records."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.pacer = services.pacer

    def batch_size(self) -> int:
        """Rows a lane claims at once: about two seconds of the SMS rate, split by lane, so
        that while one lane's batch ends and the next is claimed, the others have rows
        waiting for every token that comes free."""
        return max(4, math.ceil(2 * self.services.settings.sms_rate / LANES))

    async def run_batch(self) -> int:
        """Claim a batch and send it; how many rows were claimed."""
        now = self.services.clock()
        rows = await claim(self.services.sessions, now, self.batch_size())
        if not rows:
            return 0
        quiet, tz, network, numberless = await self._org()
        opted = await self._opted_out(rows, network, numberless)
        results = await asyncio.gather(
            *(self._one(row, quiet, tz, network, opted) for row in rows), return_exceptions=True
        )
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):  # the claim's lease takes it back
                log.error("outbox %d not sent: %s", row.id, type(result).__name__)
        return len(rows)

    async def _org(self) -> tuple[QuietHours, str, str | None, frozenset[str]]:
        """Quiet hours, time zone, network number and the groups without a number of
        their own (whose messages the network number carries)."""
        loaded = await self.services.organisation()
        if loaded is None:
            return DEFAULT_QUIET, OSLO, None, frozenset()
        config = loaded.org.helpline
        numberless = frozenset(g.id for g in loaded.org.groups if not g.number)
        return config.quiet_hours, config.timezone, config.network_number, numberless

    async def _opted_out(
        self, rows: list[Claimed], network: str | None, numberless: frozenset[str]
    ) -> set[int]:
        """The ids of the batch's rows whose recipient has stopped their scope by now."""
        out: set[int] = set()
        async with self.services.sessions() as session:
            for row in rows:
                scopes = _scopes(row, network, numberless)
                if await optout.is_opted_out(session, row.channel, row.to, scopes):
                    out.add(row.id)
        return out

    async def _one(
        self,
        row: Claimed,
        quiet: QuietHours,
        tz: str,
        network: str | None,
        opted: set[int],
    ) -> None:
        now = self.services.clock()
        decision = decide(_msg_class(row), row.channel, row.id in opted, quiet, now, zone(tz))
        if isinstance(decision, OptedOut):
            await finish(self.services.sessions, row.id, "opted_out")
            return
        if isinstance(decision, HoldUntil):
            await finish(self.services.sessions, row.id, "held", not_before=decision.until)
            return
        silent = isinstance(decision, SendSilently) or row.disable_notification
        if row.attempts > 1 and await self._maybe_sent(row):
            return
        await self.pacer.take(self._bucket(row), self._tokens(row))
        try:
            await self.services.redis.set(_INFLIGHT_KEY.format(row.id), 1, ex=INFLIGHT_TTL_S)
        except Exception as error:  # not marked, not sent: try again later
            log.warning("outbox %d not marked in flight (%s): later", row.id, type(error).__name__)
            await finish(self.services.sessions, row.id, "queued", not_before=now + _backoff(1))
            return
        await self._send(row, silent)

    async def _maybe_sent(self, row: Claimed) -> bool:
        """A row claimed again: did an earlier attempt hand it over? True when that is
        settled here (found at the vendor, or given up as unknowable)."""
        try:
            marked = await self.services.redis.exists(_INFLIGHT_KEY.format(row.id))
        except Exception:  # no way to tell: assume it may have gone out
            marked = 1
        if not marked:
            return False
        sms = self.services.outbox.sms
        if row.channel == "sms" and sms is not None:
            found = await sms.find_sent(
                to=row.to, from_=row.sender, body=row.body, since=row.created_at
            )
            if found is None:
                return False
            await finish(self.services.sessions, row.id, "sent", provider_id=found)
            log.info(
                "outbox %d to %s was sent before a crash: not again", row.id, mask_phone(row.to)
            )
            return True
        if row.channel == "telegram" and self.services.telegram is not None:
            await finish(self.services.sessions, row.id, "failed")
            log.warning(
                "outbox %d to a Telegram chat may have gone out before a crash: not sent again",
                row.id,
            )
            return True
        return False

    def _bucket(self, row: Claimed) -> Bucket:
        if row.channel == "sms":
            return sms_bucket(row.sender, self.services.settings.sms_rate)
        return TELEGRAM_BUCKET

    def _tokens(self, row: Claimed) -> int:
        if row.channel != "sms":
            return 1
        return row.segments or segments(row.body).count

    async def _send(self, row: Claimed, silent: bool) -> None:
        services = self.services
        try:
            sent = await self._deliver(row, silent)
        except ChannelError as error:
            metrics.paced_send(row.channel, row.msg_class, "refused")
            await self._refused(row, error)
            return
        if sent is None:
            await finish(services.sessions, row.id, "sandbox")
        else:
            await finish(services.sessions, row.id, "sent", provider_id=sent.provider_id)
        metrics.paced_send(row.channel, row.msg_class, "sandbox" if sent is None else "sent")
        await self._unmark(row.id)

    async def _deliver(self, row: Claimed, silent: bool) -> Sent | None:
        """Hand the row to its channel; None in sandbox mode (no credentials)."""
        if row.channel == "sms":
            sms = self.services.outbox.sms
            if sms is None:
                return None
            return await sms.send_sms(to=row.to, from_=row.sender, body=row.body)
        bot = self.services.telegram
        if bot is None:
            return None
        buttons = [Button(label, data) for label, data in json.loads(row.buttons or "[]")]
        return await bot.send_text(
            chat_id=int(row.to), text=row.body, buttons=buttons, disable_notification=silent
        )

    async def _refused(self, row: Claimed, error: ChannelError) -> None:
        services = self.services
        now = services.clock()
        if error.retry_after is not None and row.channel == "telegram":
            await self.pacer.pause(TELEGRAM_BUCKET, error.retry_after)
        retry = error.retryable and row.attempts < MAX_ATTEMPTS
        wait = timedelta(seconds=error.retry_after) if error.retry_after else _backoff(row.attempts)
        async with services.sessions() as session, session.begin():
            await apply_refusal(session, row.channel, row.to, error, now)
            if retry:
                await finish_in(session, row.id, "queued", not_before=now + wait)
            else:
                await finish_in(session, row.id, "failed", error_code=error.code)
        if error.code is not None:  # the vendor answered: it was not sent
            await self._unmark(row.id)
        where = mask_phone(row.to) if row.channel == "sms" else "a Telegram chat"
        log.warning(
            "%s %d to %s not sent (%s): %s",
            row.channel,
            row.id,
            where,
            "will retry" if retry else "gave up",
            error,
        )

    async def _unmark(self, row_id: int) -> None:
        try:
            await self.services.redis.delete(_INFLIGHT_KEY.format(row_id))
        except Exception as error:  # a stale mark only costs a lookup at the vendor
            log.warning("in-flight mark of outbox %d not cleared: %s", row_id, type(error).__name__)


def _msg_class(row: Claimed) -> MsgClass:
    """The row's class; a paced row is group or info, anything else counts as info."""
    return row.msg_class if is_msg_class(row.msg_class) and row.msg_class != "help" else "info"


def _scopes(row: Claimed, network: str | None, numberless: frozenset[str]) -> tuple[str, ...]:
    """A group message goes via the network when it is sent from the network number, or
    its group has no number of its own: on Telegram (sent by the bot) as by SMS, the
    network's STOPP stops it."""
    via_network = row.sender == network or row.group_id in numberless
    return opt_out_scopes(_msg_class(row), row.group_id, via_network=via_network)


# -- lanes and jobs -----------------------------------------------------------------------


async def kick(services: Services) -> int:
    """Start every lane that is not running; how many were started. Redis trouble is
    logged: the minute sweep kicks again."""
    started = 0
    try:
        for lane in range(LANES):
            if await services.redis.set(_LANE_KEY.format(lane), "kick", nx=True, px=LANE_TTL_MS):
                await _enqueue(services, lane, time.time_ns())
                started += 1
    except Exception as error:  # the every-minute sweep kicks the lanes again
        log.error("could not start the sending lanes: %s", type(error).__name__)
    return started


async def _enqueue(services: Services, lane: int, seq: int) -> None:
    await services.queue.enqueue(
        Job(
            function="send_queued",
            kwargs={"lane": lane, "seq": seq},
            key=f"send:{lane}:{seq}",
            timeout=JOB_TIMEOUT_S,
            retries=1,
        )
    )


async def _beat(services: Services, key: str, seq: int) -> None:
    """Keep a lane's heartbeat fresh while its batch is sent."""
    for _ in itertools.count():
        await asyncio.sleep(LANE_TTL_MS / 3000)
        await services.redis.set(key, seq, px=LANE_TTL_MS)


async def _recover(services: Services) -> None:
    back = await recover_stuck(services.sessions, services.clock())
    if back:
        log.warning("%d outbox rows of a sender that died are queued again", len(back))


async def watch(services: Services, every: float = WATCH_S) -> None:
    """Until cancelled, in every worker: release held rows whose time came, take back the
    claims of senders that died, and start the lanes when rows are due (a lane that rests
    or died is started again)."""
    for _ in itertools.count():
        try:
            now = services.clock()
            await release_held(services.sessions, now)
            await _recover(services)
            if await has_due(services.sessions, now):
                await kick(services)
        except Exception as error:  # the database or Redis is away: look again later
            log.warning("the sending watch could not look: %s", type(error).__name__)
        await asyncio.sleep(every)


async def run_lane(services: Services, lane: int, seq: int) -> int:
    """One job of a lane: a batch, then the lane's next job (or the lane rests when there
    is nothing to send); returns how many rows were claimed."""
    key = _LANE_KEY.format(lane)
    await services.redis.set(key, seq, px=LANE_TTL_MS)
    await _recover(services)
    beating = asyncio.create_task(_beat(services, key, seq))
    try:
        claimed = await PacedSender(services).run_batch()
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
    log.debug("lane %d sent a batch of %d", lane, claimed)
    if claimed:
        await services.redis.set(key, seq + 1, px=LANE_TTL_MS)
        await _enqueue(services, lane, seq + 1)
        await kick(services)  # revive lanes of a worker that died
        return claimed
    await services.redis.delete(key)
    if await has_due(services.sessions, services.clock()):  # queued while it was resting
        await kick(services)
    return 0
