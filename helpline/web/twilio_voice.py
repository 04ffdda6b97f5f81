"""Twilio voice webhooks: `/twilio/voice`, its steps under `/twilio/voice/...`, and
`/twilio/status`.

Never a dead line: whatever fails while a call is handled (database, Redis, a bug), the
caller's webhook still answers valid TwiML that rings the fallback number, with no
database read on that path. Each step runs once per CallSid; a retry gets the same TwiML.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError

from helpline import call_steps, delivery_status
from helpline.bootstrap import Services
from helpline.db import driver
from helpline.effects import enqueue_voicemail_notice
from helpline.web.keys import MESSAGE_STATUS_GATE, SERVICES, TWIML
from helpline.web.twilio_auth import TWILIO_PARAMS
from helpline.web.twilio_params import TwilioParams
from routing import texts

log = logging.getLogger(__name__)

#: A step gives up and answers the fallback after this: a caller must hear it within
#: 3 s when the database is unreachable (the fault run), well inside Twilio's 15 s.
STEP_TIMEOUT = 2.0
#: Message status callbacks applied at once by one process; the rest wait their turn
#: without a database connection. A broadcast brings two per SMS, and on a starved
#: machine they pile up: ungated, they held the whole pool and help SMS failed waiting.
MESSAGE_STATUS_CONCURRENCY = 8

Step = Callable[[call_steps.CallContext], Awaitable[str]]


def setup(app: web.Application) -> None:
    app.router.add_post("/twilio/voice", voice)
    app.router.add_post("/twilio/voice/screen", screen)
    app.router.add_post("/twilio/voice/screened", screened)
    app.router.add_post("/twilio/voice/dialled", dialled)
    app.router.add_post("/twilio/voice/recorded", recorded)
    app.router.add_post("/twilio/status", status)
    app[MESSAGE_STATUS_GATE] = asyncio.Semaphore(MESSAGE_STATUS_CONCURRENCY)


def _twiml(body: str) -> web.Response:
    return web.Response(text=body, content_type="application/xml")


def _step(request: web.Request) -> tuple[TwilioParams, int, int]:
    """The verified webhook of a call step, its contact and its step number."""
    params = request[TWILIO_PARAMS]
    return params, params.numbers["contact"], params.numbers["step"]


async def _run(request: web.Request, key: str, step: Step, fallback: Callable[[], str]) -> str:
    """Run `step` once for `key`; on any failure log it and answer `fallback()`."""
    try:
        return await asyncio.wait_for(step(_context(request, key)), STEP_TIMEOUT)
    except Exception as error:  # never a dead line: any failure answers the fallback
        log.error(
            "voice step %s failed (%s); answering the fallback",
            key.split(":")[0],
            type(error).__name__,
            exc_info=not _unavailable(error),
        )
        return fallback()


def _unavailable(error: Exception) -> bool:
    """The database or Redis is away (slow, refusing, full): no traceback is logged. When
    the database is down every call fails so, and formatting and redacting a traceback
    each time took most of the process (a profile under "too many clients" showed it)."""
    bugs = (IntegrityError, ProgrammingError, DataError)
    database = isinstance(error, DBAPIError) and not isinstance(error, bugs)
    return database or isinstance(error, (TimeoutError, OSError, RedisError, *driver.GONE))


def _fallback_dial(request: web.Request) -> Callable[[], str]:
    services, twiml = request.app[SERVICES], request.app[TWIML]
    return lambda: twiml.fallback(services.fallback_phone())


async def voice(request: web.Request) -> web.Response:
    """An incoming call."""
    services = request.app[SERVICES]
    form = request[TWILIO_PARAMS].form
    key = f"voice:{form['CallSid']}:start"
    try:
        # Before the step's transaction, never inside it: a step holding one pooled
        # connection while waiting for a second deadlocks the pool under load.
        loaded = await asyncio.wait_for(services.organisation(), STEP_TIMEOUT)
    except Exception as error:  # never a dead line
        log.error("no organisation for a call (%s); answering the fallback", type(error).__name__)
        return _twiml(_fallback_dial(request)())
    if loaded is None:
        log.error("a call came in with no organisation loaded; answering the fallback")
        return _twiml(_fallback_dial(request)())

    async def step(ctx: call_steps.CallContext) -> str:
        return await call_steps.start_call(ctx, loaded, form, services.settings.default_kommune)

    return _twiml(await _run(request, key, step, _fallback_dial(request)))


async def screen(request: web.Request) -> web.Response:
    """A staff member picked up: the whisper."""
    params, contact, step_index = _step(request)
    twiml = request.app[TWIML]
    key = f"screen:{params.get('CallSid')}:{contact}:{step_index}"
    body = await _run(
        request,
        key,
        lambda ctx: call_steps.screen(ctx, contact, step_index),
        twiml.empty,  # cannot look up who calls: connect rather than drop
    )
    return _twiml(body)


async def screened(request: web.Request) -> web.Response:
    """The staff member's key press (or none)."""
    params, contact, step_index = _step(request)
    twiml = request.app[TWIML]
    key = f"screened:{params.get('CallSid')}:{contact}:{step_index}"
    body = await _run(
        request,
        key,
        lambda ctx: call_steps.screened(ctx, contact, step_index, params.get("Digits")),
        twiml.empty,
    )
    return _twiml(body)


async def dialled(request: web.Request) -> web.Response:
    """A `<Dial>` ended."""
    params, contact, step_index = _step(request)
    key = f"dialled:{params.get('CallSid')}:{contact}:{step_index}"
    body = await _run(
        request,
        key,
        lambda ctx: call_steps.dialled(ctx, contact, step_index, params.get("DialCallStatus")),
        _fallback_dial(request),
    )
    return _twiml(body)


async def recorded(request: web.Request) -> web.Response:
    """The caller's voicemail is recorded; staff are told by a durable job."""
    services, twiml = request.app[SERVICES], request.app[TWIML]
    params = request[TWILIO_PARAMS]
    contact = params.numbers["contact"]
    key = f"recorded:{params.get('CallSid')}:{contact}"
    body = await _run(
        request,
        key,
        lambda ctx: call_steps.recorded(ctx, contact, params.form),
        lambda: twiml.say_and_hang_up(texts.voicemail_thanks()),
    )
    await _notify(services, contact)
    return _twiml(body)


async def _notify(services: Services, contact: int) -> None:
    try:
        await enqueue_voicemail_notice(services, contact)
    except Exception as error:  # the recording is stored; the sweep job retries notices
        log.error(
            "could not enqueue the voicemail notice for contact %d: %s",
            contact,
            type(error).__name__,
        )


async def status(request: web.Request) -> web.Response:
    """Twilio's status callbacks: of a call (CallSid), or of a message (MessageSid and
    MessageStatus; `helpline.delivery_status`). Each is processed once per status."""
    services = request.app[SERVICES]
    params = request[TWILIO_PARAMS]
    if params.get("MessageSid") and params.get("MessageStatus") and not params.get("CallSid"):
        async with request.app[MESSAGE_STATUS_GATE]:
            applied = delivery_status.on_message_status(
                services.sessions, services.clock, params.form
            )
            if not await _stored("message", applied):
                return _not_stored()
        return _twiml(request.app[TWIML].empty())
    if not params.get("CallSid"):
        log.warning("refused POST /twilio/status: neither a call's nor a message's status")
        return web.Response(
            status=400, text="bad request: expected CallSid, or MessageSid and MessageStatus"
        )

    async def step(ctx: call_steps.CallContext) -> str:
        await call_steps.call_status(ctx, params.form)
        return ""

    key = f"status:{params.get('CallSid')}:{params.get('CallStatus')}"
    if not await _stored("call", step(_context(request, key))):
        return _not_stored()
    return _twiml(request.app[TWIML].empty())


async def _stored(what: str, work: Awaitable[object]) -> bool:
    """Run a status callback's storing within the step timeout; False, logged, when the
    database fails it (the status is not stored: no 500 and no traceback for that)."""
    try:
        await asyncio.wait_for(work, STEP_TIMEOUT)
    except Exception as error:  # the database is down or slow: answer 503, Twilio may retry
        log.error("%s status not stored (%s); answering 503", what, type(error).__name__)
        return False
    return True


def _not_stored() -> web.Response:
    return web.Response(status=503, text="unavailable: the status was not stored, try again")


def _context(request: web.Request, key: str) -> call_steps.CallContext:
    services, twiml = request.app[SERVICES], request.app[TWIML]
    return call_steps.CallContext(services.engine, twiml, services.clock(), key)
