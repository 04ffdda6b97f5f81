"""Logging in to the console: the phone number, then the code from the SMS; logging out.

Post/redirect/get: a form that succeeds redirects (303), one that fails is shown again
with the error beside its field. The code page says the same whether or not the number
is registered. Every login and logout, and every failed code, is in the access log
(the failure without the code or the number).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp_session import Session, get_session

from helpline import access_log
from helpline.login_codes import (
    Issued,
    LoggedIn,
    LoginCodes,
    LoginUnavailable,
    NotLoggedIn,
)
from helpline.web.console.pages import USER, render
from helpline.web.console.sessions import (
    PENDING,
    PENDING_MASKED,
    PERSON,
    SEEN,
    ServiceRedisStorage,
    fresh_session,
    log_out,
)
from helpline.web.keys import SERVICES
from routing.login import CODE_TTL

log = logging.getLogger(__name__)

STORAGE = web.AppKey("console_sessions", ServiceRedisStorage)

NUMBER_ERRORS = {
    "invalid": "Ugyldig telefonnummer. Skriv et norsk mobilnummer, for eksempel 912 34 567.",
    "limited": "For mange forsøk. Vent en stund, og prøv igjen.",
}
CODE_ERRORS = {
    "malformed": "Koden er seks siffer. Skriv den slik den står i SMS-en.",
    "wrong": "Feil kode.",
    "expired": "Koden er utløpt. Be om en ny kode.",
    "locked": "For mange feil forsøk. Be om en ny kode.",
    "missing": "Koden gjelder ikke lenger. Be om en ny kode.",
    "limited": "For mange forsøk. Vent en stund, og prøv igjen.",
}
UNAVAILABLE = "Innloggingen virker ikke akkurat nå. Prøv igjen om litt."
NOTICES = {
    "tidsavbrudd": "Du ble logget ut fordi du ikke har vært aktiv på en stund.",
    "1": "Du er logget ut.",
}


def setup(app: web.Application, storage: ServiceRedisStorage) -> None:
    app[STORAGE] = storage
    app.router.add_get("/console/login", number_page)
    app.router.add_post("/console/login", number_sent)
    app.router.add_get("/console/login/code", code_page)
    app.router.add_post("/console/login/code", code_sent)
    app.router.add_post("/console/logout", logout)


async def number_page(request: web.Request) -> web.StreamResponse:
    if USER in request:
        raise web.HTTPSeeOther("/console/")
    notice = NOTICES.get(request.query.get("ut", ""))
    return await render(request, "console/login.html", {"notice": notice})


async def number_sent(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    typed = str(form.get("phone", ""))
    codes = LoginCodes(request.app[SERVICES])
    try:
        issued = await codes.request(typed, request.remote)
    except LoginUnavailable as error:
        log.error("console login unavailable: Redis failed (%s)", error)
        return await render(
            request, "console/login.html", {"error": UNAVAILABLE, "phone": typed}, status=503
        )
    if not isinstance(issued, Issued):
        status = 429 if issued.reason == "limited" else 400
        context = {"error": NUMBER_ERRORS[issued.reason], "phone": typed}
        return await render(request, "console/login.html", context, status=status)
    session = await get_session(request)
    session[PENDING] = issued.key
    session[PENDING_MASKED] = issued.masked
    raise web.HTTPSeeOther("/console/login/code")


async def code_page(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    if USER in request:
        raise web.HTTPSeeOther("/console/")
    if not isinstance(session.get(PENDING), str):
        raise web.HTTPSeeOther("/console/login")
    return await render(request, "console/code.html", _code_context(session))


async def code_sent(request: web.Request) -> web.StreamResponse:
    session = await get_session(request)
    key = session.get(PENDING)
    if not isinstance(key, str):
        raise web.HTTPSeeOther("/console/login")
    form = await request.post()
    services = request.app[SERVICES]
    try:
        result = await LoginCodes(services).check(key, str(form.get("code", "")), request.remote)
    except LoginUnavailable as error:
        log.error("console login unavailable: Redis failed (%s)", error)
        context = {**_code_context(session), "error": UNAVAILABLE}
        return await render(request, "console/code.html", context, status=503)
    if isinstance(result, LoggedIn):
        await _logged_in(request, result.person)
        raise web.HTTPSeeOther("/console/")
    await _failed(request, result)
    context = {**_code_context(session), "error": _code_error(result), "reason": result.reason}
    return await render(request, "console/code.html", context, status=_status(result))


async def logout(request: web.Request) -> web.StreamResponse:
    user = request.get(USER)
    if user is not None:
        services = request.app[SERVICES]
        async with services.sessions() as db, db.begin():
            await access_log.record(
                db, user.reader(request), "console.logout", "logout", services.clock()
            )
        log.info("console: logged out")
    await log_out(request, request.app[STORAGE])
    raise web.HTTPSeeOther("/console/login?ut=1")


async def _logged_in(request: web.Request, person: str) -> None:
    services = request.app[SERVICES]
    session = await fresh_session(request, request.app[STORAGE])
    session[PERSON] = person
    session[SEEN] = services.clock().isoformat()
    async with services.sessions() as db, db.begin():
        reader = access_log.Reader("console", person, request.remote)
        await access_log.record(db, reader, "console.login", "sms code", services.clock())
    log.info("console: logged in")


async def _failed(request: web.Request, result: NotLoggedIn) -> None:
    """A failed code in the access log: the reason only, never the code or the number."""
    if result.reason == "malformed":
        return  # not a guess: no try was used
    services = request.app[SERVICES]
    async with services.sessions() as db, db.begin():
        reader = access_log.Reader("console", "-", request.remote)
        await access_log.record(db, reader, "console.login_failed", result.reason, services.clock())


def _code_context(session: Session) -> dict[str, object]:
    return {"masked": session.get(PENDING_MASKED), "minutes": int(CODE_TTL.total_seconds() // 60)}


def _code_error(result: NotLoggedIn) -> str:
    if result.reason == "wrong":
        return f"Feil kode. Du har {result.tries_left} forsøk igjen."
    return CODE_ERRORS[result.reason]


def _status(result: NotLoggedIn) -> int:
    return 429 if result.reason == "limited" else 400
