"""Prometheus metrics: the instruments the service moves, and the state read at a scrape.

Instruments are process-wide, on prometheus-client's default registry (beside its
`process_*` and `python_*` metrics: RSS, CPU, open files): request latency by route,
contacts by channel and outcome, escalations, job lateness and paced sends. Counters of
what a transaction stores move only once it commits (`on_commit`): a rolled-back
duplicate of a retried webhook counts nothing. The state (database and Redis health,
the outbox's depth and oldest age per lane) is read at each scrape, every check bounded
by `CHECK_TIMEOUT`, so a scrape answers even when the database is blackholed.

Taushetsplikt: every label value comes from a closed vocabulary (`_known`) or from the
code (a route's canonical path, a job's function name), never from a request, so no
label can carry a number, a name, a token or a message body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, event, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from helpline.bootstrap import Services
from helpline.db.models import OutboxRow

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 1.0  # seconds each scrape-time check may take
CHANNELS = ("voice", "sms", "telegram")
OUTCOMES = ("in_progress", "answered", "voicemail", "abandoned", "closed")
ESCALATION_KINDS = ("next_step", "exhausted", "reassigned")
MSG_CLASSES = ("help", "group", "info")
PACED_RESULTS = ("sent", "sandbox", "refused")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
OTHER = "other"
UNMATCHED_ROUTE = "unmatched"

#: Webhook latency buckets around the call path's targets (15, 25, 60 and 100 ms p99).
LATENCY_BUCKETS = (0.005, 0.01, 0.015, 0.025, 0.05, 0.06, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Job lateness buckets around the escalation promise (p99 within a second).
LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)

REQUEST_SECONDS = Histogram(
    "helpline_http_request_duration_seconds",
    "Time to answer a web request (webhooks, API, feeds), by route and status.",
    ("route", "method", "status"),
    buckets=LATENCY_BUCKETS,
)
CONTACTS = Counter(
    "helpline_contacts",
    "Contacts reaching an outcome, by channel; outcome in_progress counts contacts opened.",
    ("channel", "outcome"),
)
ESCALATIONS = Counter(
    "helpline_escalations",
    "Escalations: next_step (the next in the chain), exhausted (chain ran out: voicemail "
    "or coordinators alerted), reassigned (moved to a new shift).",
    ("channel", "kind"),
)
JOB_LATENESS = Histogram(
    "helpline_job_lateness_seconds",
    "How long after its due time (or its enqueueing, when due at once) a durable job started.",
    ("job",),
    buckets=LATENESS_BUCKETS,
)
PACED_SENDS = Counter(
    "helpline_paced_sends",
    "Paced (group and info) messages handed to a channel, stored in sandbox, or refused.",
    ("channel", "msg_class", "result"),
)


def _known(value: str | None, vocabulary: tuple[str, ...]) -> str:
    return value if value in vocabulary else OTHER


# -- request latency -------------------------------------------------------------------------


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """One answered request; `route` is the route's canonical path (None: no route)."""
    labels = (route or UNMATCHED_ROUTE, _known(method, METHODS), str(status))
    REQUEST_SECONDS.labels(*labels).observe(seconds)


# -- counted on commit -----------------------------------------------------------------------

_PENDING = "helpline.metrics.pending"
_hooked = False


def on_commit(session: AsyncSession, count: Callable[[], None]) -> None:
    """Run `count` once the session's transaction commits; a rollback drops it."""
    _hook_sessions()
    session.info.setdefault(_PENDING, []).append(count)


def _hook_sessions() -> None:
    global _hooked
    if not _hooked:
        event.listen(Session, "after_commit", _committed)
        event.listen(Session, "after_rollback", _rolled_back)
        _hooked = True


def _committed(session: Session) -> None:
    for count in session.info.pop(_PENDING, ()):
        count()


def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def contact_reached(session: AsyncSession, channel: str, outcome: str) -> None:
    """A contact stored with a new `outcome` (a new one: `in_progress`), once committed."""
    on_commit(session, CONTACTS.labels(_known(channel, CHANNELS), _known(outcome, OUTCOMES)).inc)


def escalated(session: AsyncSession, channel: str, kind: str) -> None:
    """A contact moved on along (or off the end of) its chain, once committed."""
    counter = ESCALATIONS.labels(_known(channel, CHANNELS), _known(kind, ESCALATION_KINDS))
    on_commit(session, counter.inc)


# -- jobs and sends --------------------------------------------------------------------------


def job_started(job: str, due: float, started: float) -> None:
    """A durable job started at `started`, due at `due` (epoch seconds); early counts 0."""
    JOB_LATENESS.labels(job).observe(max(0.0, started - due))


def paced_send(channel: str, msg_class: str, result: str) -> None:
    """A paced message was sent, stored in sandbox mode, or refused by its channel."""
    PACED_SENDS.labels(
        _known(channel, ("sms", "telegram")),
        _known(msg_class, MSG_CLASSES),
        _known(result, PACED_RESULTS),
    ).inc()


# -- the state, read at a scrape -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaneDepth:
    """Rows of one message class waiting to be sent now, and the oldest one's age."""

    msg_class: str
    depth: int
    oldest_seconds: float


def lane_of(msg_class: str) -> str:
    """`help` is the unpaced lane (`helpline.outbox`); group and info the paced one."""
    return "help" if msg_class == "help" else "paced"


async def outbox_depths(services: Services) -> list[LaneDepth]:
    """Per message class: rows due to go out (pending or in flight; held rows and retries
    whose time has not come are not due) and how long the oldest has waited."""
    now = services.clock()
    due = or_(
        and_(OutboxRow.msg_class == "help", OutboxRow.status.in_(("pending", "sending"))),
        and_(
            OutboxRow.msg_class.in_(("group", "info")),
            OutboxRow.status.in_(("queued", "sending")),
            or_(OutboxRow.not_before.is_(None), OutboxRow.not_before <= now),
        ),
    )
    query = (
        select(OutboxRow.msg_class, func.count(), func.min(OutboxRow.created_at))
        .where(due)
        .group_by(OutboxRow.msg_class)
    )
    async with services.sessions() as session:
        rows = (await session.execute(query)).all()
    found: dict[str, tuple[int, datetime | None]] = {c: (n, oldest) for c, n, oldest in rows}
    return [_depth(c, found.get(c, (0, None)), now) for c in MSG_CLASSES]


def _depth(msg_class: str, found: tuple[int, datetime | None], now: datetime) -> LaneDepth:
    count, oldest = found
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return LaneDepth(msg_class, count, age)


async def _ping_database(services: Services) -> None:
    async with services.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _ping_redis(services: Services) -> None:
    await services.redis.ping()


async def _bounded(name: str, probe: Callable[[], Awaitable[None]]) -> bool:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT)
    except Exception as error:  # down, slow or refusing: reported as 0, never raised
        log.warning("metrics: %s check failed: %s", name, type(error).__name__)
        return False
    return True


async def state_families(services: Services) -> list[Metric]:
    """Database and Redis health, and (when the database answers) the outbox lanes."""
    db_up, redis_up = await asyncio.gather(
        _bounded("database", lambda: _ping_database(services)),
        _bounded("redis", lambda: _ping_redis(services)),
    )
    up = GaugeMetricFamily(
        "helpline_dependency_up",
        "1 when the dependency answered a trivial request within a second at this scrape.",
        labels=("dependency",),
    )
    up.add_metric(("database",), float(db_up))
    up.add_metric(("redis",), float(redis_up))
    families: list[Metric] = [up]
    depths: list[LaneDepth] = []
    if db_up:
        try:
            depths = await asyncio.wait_for(outbox_depths(services), CHECK_TIMEOUT)
        except Exception as error:  # the families are left out, not reported stale
            log.warning("metrics: outbox not read: %s", type(error).__name__)
    if depths:
        families.extend(_outbox_families(depths))
    return families


def _outbox_families(depths: Iterable[LaneDepth]) -> list[Metric]:
    depth = GaugeMetricFamily(
        "helpline_outbox_depth",
        "Outgoing messages due to be sent now, by lane (help, paced) and message class.",
        labels=("lane", "msg_class"),
    )
    oldest = GaugeMetricFamily(
        "helpline_outbox_oldest_age_seconds",
        "Age of the oldest outgoing message due to be sent now (0: none waits).",
        labels=("lane", "msg_class"),
    )
    for lane in depths:
        labels = (lane_of(lane.msg_class), lane.msg_class)
        depth.add_metric(labels, lane.depth)
        oldest.add_metric(labels, lane.oldest_seconds)
    return [depth, oldest]


class _Collected(Collector):
    """Families read once, for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def exposition(services: Services) -> bytes:
    """The whole scrape in the Prometheus text format: instruments, then state."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Collected(await state_families(services)))
    return generate_latest(REGISTRY) + generate_latest(scrape)
