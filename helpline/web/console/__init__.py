"""The coordinators' console: server-rendered Norwegian pages in the service's own app.

Templates (Jinja2 through aiohttp-jinja2) and static files (Designsystemet's vendored CSS)
ship inside the package, so `make run` needs no build step and no CDN. `setup` adds the
session and guard middlewares, the template loader, `/static/` and the console's routes.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_session import session_middleware

from helpline.settings import Settings
from helpline.web.console import (
    access_log_page,
    contact_log,
    events,
    groups,
    inbox,
    login,
    overview,
    register,
    simulator,
    statistics,
    vaktplan,
)
from helpline.web.console.guard import console_guard
from helpline.web.console.sessions import ServiceRedisStorage

WEB = Path(__file__).resolve().parent.parent
STATIC_PREFIX = "/static/"


def middlewares(settings: Settings) -> tuple[ServiceRedisStorage, list[Middleware]]:
    """The console's middlewares (sessions, then the guard), and the session storage."""
    storage = ServiceRedisStorage(settings)
    return storage, [session_middleware(storage), console_guard]


def setup(app: web.Application, storage: ServiceRedisStorage) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("helpline.web", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_static(STATIC_PREFIX, WEB / "static", name="static", append_version=True)
    login.setup(app, storage)
    overview.setup(app)
    vaktplan.setup(app)
    register.setup(app)
    inbox.setup(app)
    contact_log.setup(app)
    statistics.setup(app)
    groups.setup(app)
    events.setup(app)
    access_log_page.setup(app)
    simulator.setup(app)
