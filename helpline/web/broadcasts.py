"""`POST /api/broadcasts`: a broadcast from the coordinators' API.

An admin token may address any audience; a koordinator token only audiences inside its
kommuner (a team counts when every kommune it serves is). A target that is unknown or
outside the scope answers 404 alike, so ids cannot be probed. A refused request (any 4xx)
stores nothing. The body is JSON, checked field by field against the OpenAPI document's
schema (`helpline.web.openapi`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from aiohttp import web

from helpline import broadcasts
from helpline.web.api import TOKEN
from helpline.web.keys import SERVICES
from helpline.web.openapi import AT_PATTERN, BROADCAST_FIELDS
from rota.wallclock import local_instant, zone
from routing.audience import AUDIENCE_PATTERN

_AUDIENCE = re.compile(AUDIENCE_PATTERN)
_AT = re.compile(AT_PATTERN)
_STATUS = {"invalid": 400, "not_found": 404, "time": 409}


def setup(app: web.Application) -> None:
    app.router.add_post("/api/broadcasts", create)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class _Bad(ValueError):
    """The request body is not what the schema allows (400)."""


async def create(request: web.Request) -> web.Response:
    """Plan the broadcast; store and start it unless `dry_run`."""
    try:
        fields = await _fields(request)
    except _Bad as error:
        return _error(400, str(error))
    services = request.app[SERVICES]
    loaded = await services.organisation()
    now = services.clock()
    try:
        at = _at(fields.get("at"), loaded.org.helpline.timezone if loaded else "Europe/Oslo")
    except (ValueError, OverflowError):
        return _error(409, "at: not a time that can be sent at")
    token = request[TOKEN]
    async with services.sessions() as session, session.begin():
        try:
            planned = await broadcasts.plan(
                session, loaded, fields["to"], fields["text"], at, now, token.scope
            )
        except broadcasts.BroadcastError as error:
            return _error(_STATUS[error.problem], str(error))
        counts = planned.counts()
        preview = {"audience": planned.audience, "send_at": planned.local_send_at(), **counts}
        if fields.get("dry_run", False):
            return web.json_response({"dry_run": True, **preview})
        broadcast_id = await broadcasts.store(session, planned, f"api:{token.name}", now)
    await broadcasts.start(services, planned)
    return web.json_response({"dry_run": False, "id": broadcast_id, **preview}, status=201)


async def _fields(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise _Bad("the body must be JSON (Content-Type: application/json)")
    try:
        body = json.loads(await request.text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Bad("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Bad("the body must be a JSON object")
    unknown = sorted(set(body) - set(BROADCAST_FIELDS))
    if unknown:
        raise _Bad(f"unknown field {unknown[0][:40]!r}: expected {', '.join(BROADCAST_FIELDS)}")
    for name in ("to", "text"):
        if not isinstance(body.get(name), str):
            raise _Bad(f"{name} is required, as a string")
    if not _AUDIENCE.fullmatch(body["to"]):
        raise _Bad("to: expected kind:id[,kind:id...] with kind kommune, group, home or team")
    if "at" in body and not (isinstance(body["at"], str) and _AT.fullmatch(body["at"])):
        raise _Bad("at: expected an ISO 8601 date-time, e.g. 2026-12-01T18:00 or ...+01:00")
    if "dry_run" in body and not isinstance(body["dry_run"], bool):
        raise _Bad("dry_run must be true or false")
    return body


def _at(text: str | None, timezone: str) -> datetime | None:
    """The instant of `at`; without an offset it is wall-clock time in `timezone`."""
    if text is None:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return local_instant(value.date(), value.time(), zone(timezone))
    return value
