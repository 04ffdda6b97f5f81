"""Console sessions: server-side in Redis (aiohttp-session), cookies and CSRF.

The cookie holds only a random session id: HttpOnly, SameSite=Strict, Secure when
`HELPLINE_COOKIE_SECURE` (on by default under an https public URL). A session lives at
most `MAX_AGE` from its start (aiohttp-session's real-time limit, also the Redis expiry);
the idle timeout (`HELPLINE_CONSOLE_IDLE`) is decided by the service's clock on each
request (`helpline.web.console.guard`).

CSRF: a synchronizer token kept in the server-side session, sent in a hidden field of
every form and compared in constant time on every POST. With the session on the server
this needs no second cookie, unlike double-submit; the aiohttp CSRF packages on PyPI are
unmaintained (last releases 2020), and the check is a dozen lines here.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

from aiohttp import web
from aiohttp_session import AbstractStorage, Session, get_session, new_session
from aiohttp_session.redis_storage import RedisStorage

from helpline.bootstrap import Services
from helpline.settings import Settings
from helpline.web.keys import SERVICES

COOKIE_NAME = "helpline_session"
MAX_AGE = 12 * 3600  # seconds: a night shift, then log in again
ANONYMOUS_MAX_AGE = 3600  # a session that never logged in (the login pages' CSRF token)
CSRF_FIELD = "csrf"

# Session fields.
PERSON = "person"  # the logged-in person's id
SEEN = "seen"  # ISO instant of the last request, by the service's clock
PENDING = "pending"  # the login challenge's key, between the number and the code
PENDING_MASKED = "pending_masked"  # the number asked for, masked (+47•••••567)


class ServiceRedisStorage(AbstractStorage):
    """aiohttp-session's RedisStorage on the service's Redis client, which exists only
    once the services are open: the middleware is installed when the app is built."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            cookie_name=COOKIE_NAME,
            max_age=MAX_AGE,
            httponly=True,
            samesite="Strict",
            secure=settings.cookie_secure,
        )
        self._settings = settings
        self._delegates: dict[int, tuple[Services, RedisStorage]] = {}

    def _delegate(self, request: web.Request) -> RedisStorage:
        services = request.app[SERVICES]
        known = self._delegates.get(id(services))
        if known is None or known[0] is not services:
            storage = RedisStorage(
                services.redis,
                cookie_name=COOKIE_NAME,
                max_age=MAX_AGE,
                httponly=True,
                samesite="Strict",
                secure=self._settings.cookie_secure,
                key_factory=lambda: secrets.token_urlsafe(32),
            )
            known = self._delegates[id(services)] = (services, storage)
        return known[1]

    async def load_session(self, request: web.Request) -> Session:
        return await self._delegate(request).load_session(request)

    async def save_session(
        self, request: web.Request, response: web.StreamResponse, session: Session
    ) -> None:
        session.max_age = MAX_AGE if PERSON in session else ANONYMOUS_MAX_AGE
        await self._delegate(request).save_session(request, response, session)

    async def forget(self, request: web.Request, session: Session) -> None:
        """Delete the session's data in Redis now (logout, login's new session id)."""
        if session.identity is not None:
            services = request.app[SERVICES]
            await services.redis.delete(f"{COOKIE_NAME}_{session.identity}")


def csrf_token(session: Session) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok(session: Session, sent: object) -> bool:
    expected = session.get(CSRF_FIELD)
    if not isinstance(expected, str) or not isinstance(sent, str):
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


async def fresh_session(request: web.Request, storage: ServiceRedisStorage) -> Session:
    """A new session id for a login (no fixation): the old session's data is deleted."""
    await storage.forget(request, await get_session(request))
    return await new_session(request)


async def log_out(request: web.Request, storage: ServiceRedisStorage) -> None:
    """End the session: its data is deleted and the cookie cleared."""
    session = await get_session(request)
    await storage.forget(request, session)
    session.invalidate()


def seen_at(session: Session) -> datetime | None:
    text = session.get(SEEN)
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
