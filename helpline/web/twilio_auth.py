"""Twilio webhook security and once-only processing.

Every `/twilio/*` request must carry `X-Twilio-Signature` computed over
`HELPLINE_PUBLIC_URL` + path + query and all form parameters. In sandbox mode (no Twilio
credentials) the simulator signs with `SANDBOX_AUTH_TOKEN`, so the same check runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from twilio.request_validator import RequestValidator

from helpline.settings import Settings
from rota.phones import mask_phone

log = logging.getLogger(__name__)

SANDBOX_AUTH_TOKEN = "sandbox"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signing_token(settings: Settings) -> str:
    """The token Twilio (or, in sandbox mode, the simulator) signs webhooks with."""
    return settings.twilio_auth_token or SANDBOX_AUTH_TOKEN


def twilio_signature_middleware(settings: Settings) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Refuse unsigned or wrongly signed `/twilio/*` requests with 403, changing nothing."""
    validator = RequestValidator(signing_token(settings))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/twilio/"):
            return await handler(request)
        params = dict(await request.post()) if request.method == "POST" else {}
        url = settings.public_url + request.path_qs
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, params, signature):
            log.warning(
                "refused %s %s: %s Twilio signature (from %s)",
                request.method,
                request.path,
                "wrong" if signature else "missing",
                mask_phone(str(params.get("From", ""))) or "-",
            )
            return web.Response(status=403, text="invalid Twilio signature")
        return await handler(request)

    return middleware
