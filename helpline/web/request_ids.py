"""A request id for every web request: in its log lines, and in its answer's header.

An incoming `X-Request-Id` (from a proxy in front of the service) is kept when it is a
short safe token: 8 to 64 letters, digits, `.`, `_` or `-`, without a run of 8 digits a
phone number could hide in. Anything else is replaced by an id of our own, so a client
cannot put a number, a name or a line break into our logs through the header.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from helpline.logs import ACCESS_REQUEST_ID, REQUEST_ID

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEADER = "X-Request-Id"
_SAFE = re.compile(r"[A-Za-z0-9._-]{8,64}")
_DIGIT_RUN = re.compile(r"\d{8}")


def request_id(incoming: str | None) -> str:
    """`incoming` when it is a safe token, else a new random id (16 hex digits)."""
    if incoming and _SAFE.fullmatch(incoming) and not _DIGIT_RUN.search(incoming):
        return incoming
    return secrets.token_hex(8)


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Set the request's id for the handler's log lines and the access log, and answer it."""
    rid = request_id(request.headers.get(HEADER))
    request[ACCESS_REQUEST_ID] = rid
    token = REQUEST_ID.set(rid)
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers[HEADER] = rid
        raise
    finally:
        REQUEST_ID.reset(token)
    if not response.prepared:
        response.headers[HEADER] = rid
    return response
