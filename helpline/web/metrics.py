"""`/metrics` on a listener of its own, and the middleware that times every request.

The metrics listener is never the public app: Twilio and Telegram reach the public port,
Prometheus reaches `HELPLINE_METRICS_HOST:HELPLINE_METRICS_PORT` (loopback unless the
operator names another interface), and the public app answers `/metrics` with 404. With
no port set there is no listener at all: off unless asked for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from helpline import metrics
from helpline.bootstrap import Services
from helpline.web.keys import SERVICES

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
METRICS_PATH = "/metrics"


@web.middleware
async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Observe each request's time by its route's canonical path (`/ical/{token}.ics`,
    never the path asked for, which may carry a token) and its status."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else None
        metrics.observe_request(route, request.method, status, time.perf_counter() - started)


async def scrape(request: web.Request) -> web.Response:
    """The Prometheus text format: this process's instruments and the state read now."""
    body = await metrics.exposition(request.app[SERVICES])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def metrics_app(services: Services) -> web.Application:
    """The app of the metrics listener: `GET /metrics` and nothing else."""
    app = web.Application()
    app[SERVICES] = services
    app.router.add_get(METRICS_PATH, scrape)
    return app


@asynccontextmanager
async def serving_metrics(services: Services, host: str, port: int | None) -> AsyncIterator[None]:
    """Serve `/metrics` on `host:port` for the block; no listener when `port` is None."""
    if port is None:
        yield
        return
    # No access log: a scrape every few seconds would drown the lines that matter.
    runner = web.AppRunner(metrics_app(services), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("metrics on http://%s:%d%s", host, port, METRICS_PATH)
        yield
    finally:
        await runner.cleanup()
