"""Live console pages: a server-sent event stream that polls and sends an HTML fragment
when it changed (the Innboks, the Telefonsimulator).

Each open stream polls every `POLL_SECONDS` (simple, and right across processes: what
another worker commits shows on the next poll). The page's `changed` callback looks,
and returns the event to send (after writing its read to the access log) or None. The
stream ends when the session ends, goes idle or loses the access it was opened with, or
the service stops; the browser reconnects by itself (and then meets the login like any
request). The stream itself is no activity: only pages and forms keep a session alive.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from aiohttp_session import Session

from helpline.web.console.guard import HEADERS
from helpline.web.console.login import STORAGE
from helpline.web.console.pages import ConsoleUser
from helpline.web.console.sessions import PERSON, seen_at
from helpline.web.keys import SERVICES
from routing.access import console_scope

POLL_SECONDS = 1.0  # how often an open stream looks for changes
PING_SECONDS = 15.0  # a comment line keeps proxies from closing a quiet stream
STOP = web.AppKey("console_streams_stop", asyncio.Event)
VERSION = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class Event:
    """One server-sent event: its name, its id (the fragment's version), its HTML."""

    name: str
    id: str
    html: str

    def encode(self) -> bytes:
        data = "".join(f"data: {line}\n" for line in self.html.splitlines())
        return f"id: {self.id}\nevent: {self.name}\n{data}\n".encode()


#: A page's look: the stream's current session and the version the browser has, to the
#: event to send, or None when nothing changed.
Changed = Callable[[Session, str], Awaitable[Event | None]]


def setup(app: web.Application) -> None:
    """Once per app, whichever live page comes first: streams end when the service stops."""
    if STOP not in app:
        app[STOP] = asyncio.Event()
        app.on_shutdown.append(_stop_streams)


async def _stop_streams(app: web.Application) -> None:
    app[STOP].set()


def fingerprint(html: str) -> str:
    """A fragment's version, for pages whose state is what they show."""
    return hashlib.sha256(html.encode()).hexdigest()[:16]


def known_version(request: web.Request) -> str:
    """The version the browser has: `Last-Event-ID` on a reconnect, else `?siden=`."""
    known = request.headers.get("Last-Event-ID") or request.query.get("siden", "")
    return known if VERSION.fullmatch(known) else ""


async def stream(request: web.Request, user: ConsoleUser, changed: Changed) -> web.StreamResponse:
    """Server-sent events from `changed`, polled until the session or the service ends."""
    known = known_version(request)
    response = web.StreamResponse(
        headers={
            **HEADERS,
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    stop = request.app[STOP]
    quiet = 0.0
    try:
        await response.write(b"retry: 2000\n\n")
        while not stop.is_set():
            session = await session_if_still_in(request, user)
            if session is None:
                break
            event = await changed(session, known)
            if event is not None:
                await response.write(event.encode())
                known, quiet = event.id, 0.0
            elif quiet >= PING_SECONDS:
                await response.write(b": ping\n\n")
                quiet = 0.0
            try:
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)
            except TimeoutError:
                quiet += POLL_SECONDS
    except ConnectionResetError:
        return response  # the browser went away
    return response


async def session_if_still_in(request: web.Request, user: ConsoleUser) -> Session | None:
    """The stream's session, if it is still the user's, not idle, with the same access."""
    services = request.app[SERVICES]
    session = await request.app[STORAGE].load_session(request)
    seen = seen_at(session)
    idle = timedelta(minutes=services.settings.console_idle_minutes)
    if session.get(PERSON) != user.person or seen is None or services.clock() - seen >= idle:
        return None
    loaded = await services.organisation()
    if loaded is None or console_scope(loaded.org, user.person) != user.scope:
        return None
    return session
