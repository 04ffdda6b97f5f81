"""The composition root: settings in, wired services out (STYLE.md habit 5).

Every entry point (web app, worker, command line) opens `Services` here, and tests pass
their own settings and clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from saq import Queue
from saq.queue.redis import RedisQueue
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bots.telegram import TelegramBot
from bots.twilio_sms import TwilioSms
from helpline import heap
from helpline.clock import Clock, system_clock
from helpline.db.engine import make_engine, sessionmaker
from helpline.db.register import current_version, read_organisation
from helpline.embedded_redis import EmbeddedRedis
from helpline.outbox import Outbox
from helpline.pacing import Pacer, PacingClock, Sleep
from helpline.settings import Settings
from rota.engine import Rota
from rota.model import Organisation
from routing.callers import Directory

log = logging.getLogger(__name__)

ORG_CHECK_INTERVAL = 1.0  # seconds between reads of the register's version
ORG_CHECK_TIMEOUT = 5.0  # seconds a background read of the version may take


@dataclass
class LoadedOrg:
    """The organisation of one register version, its rota index and phone directory."""

    version: int
    org: Organisation
    rota: Rota
    directory: Directory


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    redis_url: str
    queue: Queue
    outbox: Outbox
    clock: Clock = system_clock
    telegram: TelegramBot | None = None
    pacing_clock: PacingClock | None = None  # None: Redis's TIME (tests pass simulated time)
    pacing_sleep: Sleep = asyncio.sleep
    # Long-running processes (serve, worker): a new organisation version leaves the
    # collector's full passes once built (`helpline.heap`).
    freeze_loaded: bool = False
    _pacer: Pacer | None = field(default=None, repr=False)
    _loaded: LoadedOrg | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _checked: float = field(default=-ORG_CHECK_INTERVAL, repr=False)  # monotonic seconds
    # `refreshing_organisation` runs (not copied by `dataclasses.replace`: a copy's own
    # organisation is not refreshed)
    _refreshed: bool = field(default=False, init=False, repr=False)
    # the read under way, which a caller giving up leaves running for the next one
    _checking: asyncio.Future[LoadedOrg | None] | None = field(default=None, init=False, repr=False)

    async def organisation(self) -> LoadedOrg | None:
        """The current organisation, rebuilt only when the register's version changed.

        The version is read at most once per `ORG_CHECK_INTERVAL`: a load by another
        process shows within a second; `forget_organisation` makes this one look now.
        While `refreshing_organisation` runs, a caller never waits on that read."""
        if self._loaded is not None and (
            (self._refreshed and self._checked >= 0)
            or time.monotonic() - self._checked < ORG_CHECK_INTERVAL
        ):
            return self._loaded
        return await self._check_organisation()

    @contextlib.asynccontextmanager
    async def refreshing_organisation(self) -> AsyncIterator[None]:
        """For a long-running process (serve, worker): read the register's version in
        the background every `ORG_CHECK_INTERVAL`, so no request or job waits on it."""
        task = asyncio.create_task(self._refresh_organisation())
        self._refreshed = True
        try:
            yield
        finally:
            self._refreshed = False
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _refresh_organisation(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(max(0.0, self._checked + ORG_CHECK_INTERVAL - time.monotonic()))
            try:
                await asyncio.wait_for(self._check_organisation(), ORG_CHECK_TIMEOUT)
                failing = False
            except Exception as error:  # the database is down: keep the last organisation
                if not failing:
                    log.warning("could not read the organisation (%s)", type(error).__name__)
                failing = True

    async def _check_organisation(self) -> LoadedOrg | None:
        """Join the read under way or start one. A caller that gives up (a voice step's
        timeout) does not cancel it: a cold process's first read, slower than that
        timeout under load, would otherwise be started over by every call and finished
        by none."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.ensure_future(self._read_organisation())
            self._checking.add_done_callback(_retrieve)
        return await asyncio.shield(self._checking)

    async def _read_organisation(self) -> LoadedOrg | None:
        self._checked = time.monotonic()
        async with self.sessions() as session:
            version = await current_version(session)
            if version is None:
                return None
            if self._loaded is not None and self._loaded.version == version:
                return self._loaded
            async with self._lock:
                if self._loaded is None or self._loaded.version != version:
                    org = await read_organisation(session)
                    assert org is not None
                    self._loaded = LoadedOrg(version, org, Rota(org), Directory(org))
                    if self.freeze_loaded:
                        heap.settle()
            return self._loaded

    @property
    def pacer(self) -> Pacer:
        """This process's token buckets (`helpline.pacing`), made on first use."""
        if self._pacer is None:
            self._pacer = Pacer(self.redis, self.pacing_clock, self.pacing_sleep)
        return self._pacer

    def forget_organisation(self) -> None:
        """Look at the register's version on the next `organisation()` call."""
        self._checked = -ORG_CHECK_INTERVAL
        self._checking = None  # a read begun before now may miss what changed

    def fallback_phone(self) -> str | None:
        """The number to ring when nothing can be looked up: from settings, else the
        last organisation this process loaded. Reads no database."""
        if self.settings.fallback_phone:
            return self.settings.fallback_phone
        return self._loaded.org.helpline.fallback_phone if self._loaded else None


def _retrieve(read: asyncio.Future[LoadedOrg | None]) -> None:
    """Mark a read's failure seen: its callers may all have given up; the next call
    reads again."""
    if not read.cancelled():
        read.exception()


QUEUE_NAME = "helpline"
STATUS_PATH = "/twilio/status"


def _sms_sender(settings: Settings) -> TwilioSms | None:
    if settings.twilio_account_sid is None or settings.twilio_auth_token is None:
        return None  # sandbox: the outbox is the delivery
    return TwilioSms(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        api_base=settings.twilio_api_base,
        status_callback=settings.public_url + STATUS_PATH,  # every SMS reports its delivery
    )


async def _telegram_bot(settings: Settings) -> TelegramBot | None:
    if settings.telegram_bot_token is None:
        return None  # sandbox: Telegram messages stay in the outbox
    bot = TelegramBot(token=settings.telegram_bot_token, api_base=settings.telegram_api_base)
    await bot.initialize()
    await bot.start()
    return bot


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    with_redis: bool = True,
    pacing_clock: PacingClock | None = None,
    pacing_sleep: Sleep = asyncio.sleep,
    freeze_loaded: bool = False,
) -> AsyncIterator[Services]:
    """Open the database engine and Redis (starting the embedded one if no URL is set).
    `pacing_clock` and `pacing_sleep` are for tests: the token buckets' simulated time
    (`helpline.pacing.Pacer`); without them the buckets run on Redis's clock.
    `freeze_loaded` for a long-running process (`Services.freeze_loaded`)."""
    embedded: EmbeddedRedis | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        redis_url = embedded.url
        if with_redis:
            await asyncio.to_thread(embedded.start)
        else:
            embedded = None
    engine = make_engine(settings.database_url)
    sessions = sessionmaker(engine)
    client = aioredis.from_url(redis_url)  # connects lazily: unused without `with_redis`
    queue = RedisQueue.from_url(redis_url, name=QUEUE_NAME)  # saq closes its own connection
    sms = _sms_sender(settings)
    bot = await _telegram_bot(settings)
    try:
        yield Services(
            settings,
            engine,
            sessions,
            client,
            redis_url,
            queue,
            Outbox(sessions, clock, sms, bot),
            clock,
            telegram=bot,
            pacing_clock=pacing_clock,
            pacing_sleep=pacing_sleep,
            freeze_loaded=freeze_loaded,
        )
    finally:
        if bot is not None:
            await bot.stop()
            await bot.shutdown()
        if sms is not None:
            await sms.close()
        if with_redis:  # saq's disconnect talks to Redis; untouched otherwise
            await queue.disconnect()
        await client.aclose()
        await engine.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
