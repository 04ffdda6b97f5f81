"""The coordinators' JSON API under `/api`, behind bearer tokens (`helpline token create`).

Documented at `/api/openapi.json` (no token needed for the document itself).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from helpline.contacts import CHANNELS, OUTCOMES, ContactFilter, list_contacts, read_contact
from helpline.db.models import ApiTokenRow
from helpline.web.keys import SERVICES
from helpline.web.openapi import OPENAPI

READER = web.RequestKey("reader", str)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi)
    app.router.add_get("/api/contacts", contacts)
    app.router.add_get("/api/contacts/{id}", contact)


def token_hash(token: str) -> str:
    """Tokens are stored as SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}),
                              content_type="application/json")  # fmt: skip


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """`/api/*` (but the OpenAPI document) needs `Authorization: Bearer <token>`."""
    if not request.path.startswith("/api/") or request.path == "/api/openapi.json":
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _error(401, "missing bearer token")
    services = request.app[SERVICES]
    digest = token_hash(token.strip())
    async with services.sessions() as session:
        row = await session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return _error(401, "invalid bearer token")
    request[READER] = f"api:{row.name}"
    return await handler(request)


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def contacts(request: web.Request) -> web.Response:
    """The contact log, filtered; metadata only."""
    where = _filter(request)
    services = request.app[SERVICES]
    async with services.sessions() as session:
        found = await list_contacts(session, where)
    return web.json_response({"contacts": found})


async def contact(request: web.Request) -> web.Response:
    """One contact with its content; the read is recorded."""
    try:
        contact_id = int(request.match_info["id"])
    except ValueError:
        return _error(400, "contact id must be a number")
    services = request.app[SERVICES]
    async with services.sessions() as session, session.begin():
        found = await read_contact(session, contact_id, request[READER], services.clock())
    if found is None:
        return _error(404, f"no contact {contact_id}")
    return web.json_response(found)


def _filter(request: web.Request) -> ContactFilter:
    query = request.query
    outcome, channel = query.get("outcome"), query.get("channel")
    if outcome and outcome not in OUTCOMES:
        raise _bad(f"outcome must be one of {', '.join(OUTCOMES)}")
    if channel and channel not in CHANNELS:
        raise _bad(f"channel must be one of {', '.join(CHANNELS)}")
    return ContactFilter(
        kommune=query.get("kommune") or None,
        since=_since(query.get("since")),
        outcome=outcome or None,
        channel=channel or None,
        limit=_limit(query.get("limit", "100")),
    )


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _bad("since must be an ISO 8601 date-time with offset") from None
    if value.tzinfo is None:
        raise _bad("since must carry a UTC offset, e.g. 2026-11-23T00:00Z")
    return value


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise _bad("limit must be a whole number from 1 to 1000")
    return int(text)
