"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import hdrs, web
from sqlalchemy import text

from helpline.bootstrap import Services, open_services
from helpline.clock import Clock, system_clock
from helpline.db.engine import check_migrated
from helpline.settings import Settings
from helpline.twiml import VoiceTwiml
from helpline.web import answer_page, api, console, event_links, feeds, messaging, twilio_voice
from helpline.web.keys import SERVICES, TWIML
from helpline.web.metrics import timed
from helpline.web.request_ids import request_ids
from helpline.web.twilio_auth import twilio_signature_middleware

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

READY_TIMEOUT = 3.0
#: The only answers that carry no personal data, so caches may keep them (and the
#: console's static files, under `console.STATIC_PREFIX`).
CACHEABLE_PATHS = frozenset({"/healthz", "/readyz", "/api/openapi.json"})


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    services: Services | None = None,
) -> web.Application:
    """The web app; opens its services on startup unless `services` are handed in."""
    sessions, console_middlewares = console.middlewares(settings)
    app = web.Application(
        middlewares=[
            timed,  # outermost: the time of everything, refusals too
            request_ids,
            no_store,
            twilio_signature_middleware(settings),
            api.bearer_auth,
            *console_middlewares,
        ]
    )
    app[TWIML] = VoiceTwiml(settings)
    # Before and after aiohttp waits for the requests still running: a webhook answered
    # while the server shut down has its messages sent too.
    app.on_shutdown.append(_drain_outbox)
    app.on_cleanup.append(_drain_outbox)
    if services is not None:
        _use(app, services)
    else:
        app.cleanup_ctx.append(_services_ctx(settings, clock))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    feeds.setup(app)
    event_links.setup(app)
    answer_page.setup(app)  # after event_links: /svar/{token}.ics first
    twilio_voice.setup(app)
    api.setup(app)
    messaging.setup(app)
    console.setup(app, sessions)
    return app


@web.middleware
async def no_store(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`Cache-Control: no-store` on every answer, errors too, but for `CACHEABLE_PATHS`.

    API answers, TwiML (the whisper names the foster home) and calendar feeds all carry
    personal data, and a shared or browser cache must never keep a copy.
    """
    try:
        response = await handler(request)
    except web.HTTPException as error:
        _no_store(request, error)
        raise
    _no_store(request, response)
    return response


def _no_store(request: web.Request, response: web.StreamResponse) -> None:
    if request.path in CACHEABLE_PATHS or request.path.startswith(console.STATIC_PREFIX):
        return
    if not response.prepared:
        response.headers[hdrs.CACHE_CONTROL] = "no-store"


def _use(app: web.Application, services: Services) -> None:
    app[SERVICES] = services
    if services.telegram is not None:
        services.telegram.set_handler(messaging.update_handler(services))


async def _drain_outbox(app: web.Application) -> None:
    """The webhooks' messages still going out: sent before the services close."""
    services = app.get(SERVICES)
    if services is not None:
        await services.outbox.drain()


def _services_ctx(
    settings: Settings, clock: Clock
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_services(settings, clock=clock) as services:
            await check_migrated(services.engine)
            _use(app, services)
            yield
            await services.outbox.drain()  # before the services close (on_cleanup is later)

    return ctx


async def healthz(_request: web.Request) -> web.Response:
    """Alive: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database and Redis both answer; 503 naming what does not."""
    services = request.app[SERVICES]
    database, redis = await asyncio.gather(  # at once: both stalled take one timeout
        _check(_ping_database(services)), _check(_ping_redis(services))
    )
    checks = {"database": database, "redis": redis}
    ok = all(value == "ok" for value in checks.values())
    return web.json_response(
        {"status": "ok" if ok else "unavailable", **checks}, status=200 if ok else 503
    )


async def _ping_database(services: Services) -> None:
    async with services.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _ping_redis(services: Services) -> None:
    await services.redis.ping()


async def _check(probe: Coroutine[Any, Any, None]) -> str:
    try:
        await asyncio.wait_for(probe, READY_TIMEOUT)
    except Exception as error:  # any failure means not ready
        log.warning("readiness check failed: %s", type(error).__name__)
        return "error"
    return "ok"
