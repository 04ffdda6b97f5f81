"""The coordinators' JSON API under `/api`, behind bearer tokens (`helpline token create`).

Documented at `/api/openapi.json` (no token needed for the document itself). A token has
a role and a kommune scope (`routing.access.Scope`) and expires; every read is recorded
in the access log, in the transaction of the read. A refused request (any 4xx) stores
nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from helpline import access_log
from helpline.contacts import CHANNELS, OUTCOMES, ContactFilter, list_contacts, read_contact
from helpline.db.models import ApiTokenRow
from helpline.web.keys import SERVICES
from helpline.web.openapi import (
    KOMMUNE_PATTERN,
    LIMITS,
    OPENAPI,
    QUERY_PARAMETERS,
    SINCE_PATTERN,
)
from routing.access import ADMIN, Scope, is_role

log = logging.getLogger(__name__)

LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class ApiToken:
    """The token a request was authenticated with (never the token itself)."""

    id: int
    name: str
    scope: Scope
    last_used_at: datetime | None


TOKEN = web.RequestKey("api_token", ApiToken)
_ID = re.compile(r"[0-9]{1,10}")
_LIMIT = re.compile(r"[0-9]{1,4}")
_KOMMUNE = re.compile(KOMMUNE_PATTERN.removeprefix("^").removesuffix("$"))
_SINCE = re.compile(SINCE_PATTERN.removeprefix("^").removesuffix("$"))


def setup(app: web.Application) -> None:
    # They read this module's TOKEN: imported once it is set up.
    from helpline.web import broadcasts, events

    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/contacts", contacts)
    app.router.add_get("/api/contacts/{id}", contact)
    broadcasts.setup(app)
    events.setup(app)


def token_hash(token: str) -> str:
    """Tokens are stored as SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`/api/*` (but the OpenAPI document) needs `Authorization: Bearer <token>` of a
    token that is neither expired nor revoked."""
    if not request.path.startswith("/api/") or request.path == "/api/openapi.json":
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "missing bearer token")
    services = request.app[SERVICES]
    digest = token_hash(token.strip())
    async with services.sessions() as session:
        row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
    now = services.clock()
    scope = _scope(row.role, row.kommuner) if row is not None else None
    if row is None or scope is None or row.revoked_at is not None:
        return _error(401, "invalid bearer token")
    if not hmac.compare_digest(row.token_hash, digest):
        return _error(401, "invalid bearer token")
    if row.expires_at <= now:
        return _error(401, "expired bearer token: ask for a new one")
    request[TOKEN] = ApiToken(row.id, row.name, scope, row.last_used_at)
    response = await handler(request)
    if response.status < 400 and (
        row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY
    ):
        await _used(request, row.id, now)
    return response


def _scope(role: str, kommuner: str) -> Scope | None:
    """A stored token's scope; None for a role this code does not know (refused)."""
    if not is_role(role):
        return None
    if role == "admin":
        return ADMIN
    return Scope(role, frozenset(k for k in kommuner.split(",") if k))


async def _used(request: web.Request, token_id: int, now: datetime) -> None:
    """Note when a token was last used. Bookkeeping: a failure here does not undo the
    read that was already answered and logged."""
    try:
        async with request.app[SERVICES].sessions() as session, session.begin():
            await session.execute(
                update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
            )
    except SQLAlchemyError as error:
        log.warning("could not note the use of API token %d: %s", token_id, type(error).__name__)


def document() -> dict[str, Any]:
    """The OpenAPI document: contacts and broadcasts, and events (`event_schemas`)."""
    from helpline.web.event_schemas import PATHS

    info = {**OPENAPI["info"], "version": "3"}
    info["description"] = info["description"].replace(
        "The contact log of the helpline, and broadcasts.",
        "The contact log of the helpline, broadcasts, and events with their invitations.",
    )
    return {**OPENAPI, "info": info, "paths": {**OPENAPI["paths"], **PATHS}}


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(document())


def _reader(request: web.Request) -> access_log.Reader:
    return access_log.Reader("api", request[TOKEN].name, request.remote)


async def contacts(request: web.Request) -> web.Response:
    """The contact log in the token's scope, filtered; metadata only. The list reveals
    who fosters, so the query is recorded."""
    where = contact_filter(request.query)
    services = request.app[SERVICES]
    async with services.sessions() as session, session.begin():
        found = await list_contacts(session, where, request[TOKEN].scope)
        await access_log.record(
            session, _reader(request), "contacts.list", where.describe(), services.clock()
        )
    return web.json_response({"contacts": found})


async def contact(request: web.Request) -> web.Response:
    """One contact with its content; the read is recorded. Missing and out of scope
    answer alike, so ids cannot be walked."""
    contact_id = _contact_id(request.match_info["id"])
    if request.query:
        raise _bad(f"unknown parameter {_shown(next(iter(request.query)))}: expected none")
    services = request.app[SERVICES]
    async with services.sessions() as session, session.begin():
        found = await read_contact(session, contact_id, request[TOKEN].scope)
        if found is not None:
            await access_log.record(
                session, _reader(request), "contact.read", str(contact_id), services.clock()
            )
    if found is None:
        return _error(404, f"no contact {contact_id}")
    return web.json_response(found)


def _contact_id(text: str) -> int:
    low, high = LIMITS["id"]
    if _ID.fullmatch(text) is None or not low <= int(text) <= high:
        raise _bad(f"contact id must be a whole number from {low} to {high}")
    return int(text)


def contact_filter(query: MultiMapping[str]) -> ContactFilter:
    """The list's query parameters, each checked: unknown, repeated or malformed ones
    are a 400 naming the parameter."""
    values = _single(query)
    outcome, channel = values.get("outcome"), values.get("channel")
    if outcome is not None and outcome not in OUTCOMES:
        raise _bad(f"outcome must be one of {', '.join(OUTCOMES)}")
    if channel is not None and channel not in CHANNELS:
        raise _bad(f"channel must be one of {', '.join(CHANNELS)}")
    kommune = values.get("kommune")
    if kommune is not None and _KOMMUNE.fullmatch(kommune) is None:
        raise _bad("kommune must be a kommune id: 1 to 64 characters, no control characters")
    return ContactFilter(
        kommune=kommune,
        since=_since(values.get("since")),
        outcome=outcome,
        channel=channel,
        limit=_limit(values.get("limit", "100")),
    )


def _single(query: MultiMapping[str]) -> Mapping[str, str]:
    values: dict[str, str] = {}
    for key, value in query.items():
        if key not in QUERY_PARAMETERS:
            raise _bad(f"unknown parameter {_shown(key)}: expected {', '.join(QUERY_PARAMETERS)}")
        if key in values:
            raise _bad(f"parameter {key} given more than once")
        values[key] = value
    return values


def _shown(key: str) -> str:
    return repr(key[:40] + ("…" if len(key) > 40 else ""))


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    message = "since must be an RFC 3339 date-time with offset, e.g. 2026-11-23T00:00:00Z"
    if _SINCE.fullmatch(text) is None:
        raise _bad(message)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):  # 30 February; or year 1 east of Greenwich
        raise _bad(message) from None


def _limit(text: str) -> int:
    low, high = LIMITS["limit"]
    if _LIMIT.fullmatch(text) is None or not low <= int(text) <= high:
        raise _bad(f"limit must be a whole number from {low} to {high}")
    return int(text)
