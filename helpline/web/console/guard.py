"""The console's middleware: security headers, CSRF on every POST, the idle timeout and
who is logged in.

Every path under `/console` passes here. A POST without the session's CSRF token is
refused with 403 before any handler runs, so it changes nothing. A session idle for
`HELPLINE_CONSOLE_IDLE` minutes (by the service's clock) is logged out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import hdrs, web
from aiohttp_session import Session, get_session

from helpline import access_log
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.console.sessions import (
    COOKIE_NAME,
    CSRF_FIELD,
    PERSON,
    SEEN,
    csrf_ok,
    seen_at,
)
from helpline.web.keys import SERVICES
from routing.access import console_scope

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PREFIX = "/console"
LOGIN_PATH = "/console/login"
OPEN_PATHS = frozenset({LOGIN_PATH, "/console/login/code"})

#: The console loads its styles and scripts from this service only (no inline script);
#: `connect-src 'self'` lets the inbox's script follow its event stream.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; font-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return await handler(request)
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as error:
        error.headers.update(HEADERS)
        raise
    response.headers.update(HEADERS)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _cross_site_without_cookie(request):
        return await render(
            request, "console/reload.html", {"target": request.path_qs}, forms=False
        )
    session = await get_session(request)
    if request.method == hdrs.METH_POST:
        form = await request.post()
        if not csrf_ok(session, form.get(CSRF_FIELD)):
            log.warning("console: a form without a valid CSRF token refused")
            return await render(request, "console/csrf.html", status=403, forms=False)
    logged_in = PERSON in session
    user = await _user(request, session)
    if user is None and logged_in:
        raise _to_login("idle")
    if user is not None:
        request[USER] = user
        session[SEEN] = request.app[SERVICES].clock().isoformat()
    elif request.path not in OPEN_PATHS:
        raise _to_login(None)
    return await handler(request)


async def _user(request: web.Request, session: Session) -> ConsoleUser | None:
    """The logged-in user, or None; an idle session, or one whose person lost access,
    is cleared (and the idle logout logged)."""
    person = session.get(PERSON)
    if not isinstance(person, str):
        return None
    services = request.app[SERVICES]
    now = services.clock()
    seen = seen_at(session)
    idle = timedelta(minutes=services.settings.console_idle_minutes)
    loaded = await services.organisation()
    scope = console_scope(loaded.org, person) if loaded else None
    if seen is None or now - seen >= idle or scope is None or loaded is None:
        reason = "idle" if scope is not None else "no access"
        async with services.sessions() as db, db.begin():
            reader = access_log.Reader("console", person, request.remote)
            await access_log.record(db, reader, "console.logout", reason, now)
        session.invalidate()
        return None
    name = next(p.name for p in loaded.org.people if p.id == person)
    return ConsoleUser(person, name, scope)


def _cross_site_without_cookie(request: web.Request) -> bool:
    """A link from another site: the browser withholds the SameSite=Strict cookie, so
    answering with the login page (and a new session cookie) would log the user out.
    The page reloads itself instead, and that same-site request carries the cookie."""
    return (
        request.method == hdrs.METH_GET
        and COOKIE_NAME not in request.cookies
        and request.headers.get("Sec-Fetch-Site") == "cross-site"
    )


def _to_login(reason: str | None) -> web.HTTPSeeOther:
    location = LOGIN_PATH + ("?ut=tidsavbrudd" if reason == "idle" else "")
    return web.HTTPSeeOther(location)
