"""Twilio webhook security: one parse of the form, its signature, and its shapes.

Every `/twilio/*` request must carry `X-Twilio-Signature` computed over
`HELPLINE_PUBLIC_URL` + path + query and all form parameters. In sandbox mode (no Twilio
credentials) the simulator signs with `SANDBOX_AUTH_TOKEN`, so the same check runs.

The middleware parses the form once, refuses a repeated key (400), checks the signature
over exactly that single-valued mapping (403), checks the fields the service reads (400),
and hands the verified, immutable `TwilioParams` to the handler under `TWILIO_PARAMS`.
Handlers read nothing else of the request, so what was signed is what is acted on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from twilio.request_validator import RequestValidator

from helpline.settings import Settings
from helpline.web.twilio_params import ROUTES, BadParams, TwilioParams, checked, single_valued
from rota.phones import mask_phone

log = logging.getLogger(__name__)

SANDBOX_AUTH_TOKEN = "sandbox"

TWILIO_PARAMS = web.RequestKey("twilio_params", TwilioParams)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def signing_token(settings: Settings) -> str:
    """The token Twilio (or, in sandbox mode, the simulator) signs webhooks with."""
    return settings.twilio_auth_token or SANDBOX_AUTH_TOKEN


def twilio_signature_middleware(settings: Settings) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Refuse unsigned, wrongly signed or malformed `/twilio/*` requests, changing nothing."""
    validator = RequestValidator(signing_token(settings))

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/twilio/"):
            return await handler(request)
        route = ROUTES.get(request.path)
        if route is None:
            raise web.HTTPNotFound()
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        try:
            form = single_valued(await _form(request), "form key")
            query = single_valued(request.query.items(), "query parameter")
        except BadParams as error:
            return _refuse(request, error)
        url = settings.public_url + request.path_qs
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, form, signature):
            log.warning(
                "refused %s %s: %s Twilio signature (from %s)",
                request.method,
                request.path,
                "wrong" if signature else "missing",
                mask_phone(form.get("From", "")) or "-",
            )
            return web.Response(status=403, text="invalid Twilio signature")
        try:
            request[TWILIO_PARAMS] = checked(route, form, query)
        except BadParams as error:
            return _refuse(request, error)
        return await handler(request)

    return middleware


async def _form(request: web.Request) -> list[tuple[str, object]]:
    """The posted form; `BadParams` when the body cannot be read as one."""
    if request.content_type == "multipart/form-data":
        raise BadParams("Twilio posts application/x-www-form-urlencoded, not multipart")
    try:
        return list((await request.post()).items())
    except (UnicodeDecodeError, LookupError) as error:
        raise BadParams(f"the form cannot be decoded ({type(error).__name__})") from None


def _refuse(request: web.Request, error: BadParams) -> web.Response:
    log.warning("refused %s %s: %s", request.method, request.path, error)
    return web.Response(status=400, text=f"bad request: {error}")
