"""`/api/events...`: events and invitations from the coordinators' API.

The same actions as `helpline event ...` (`helpline.event_actions`), under the token's
scope: a koordinator sees and changes only events whose audience lies in its kommuner;
an event or audience outside the scope answers 404 like a missing one. A body that
breaks the schema (`helpline.web.event_schemas`) is a 400 naming the field; a request the
event cannot take (a time in the past, a cancelled event) a 409. A refused request stores
nothing: every action runs in one transaction.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from helpline import access_log
from helpline.event_actions import (
    cancel_event,
    change_event,
    create_event,
    invite_event,
    mark_attendance,
)
from helpline.events import Change, EventProblem, kommune_statistics, list_events, show
from helpline.web.api import TOKEN
from helpline.web.event_schemas import (
    ATTENDANCE_FIELDS,
    CANCEL_FIELDS,
    CHANGE_FIELDS,
    CREATE_FIELDS,
    DATE_PATTERN,
    HOME_PATTERN,
    INVITE_FIELDS,
    MAX_HOMES,
    STATS_PARAMETERS,
    TEXT_PATTERN,
)
from helpline.web.keys import SERVICES
from helpline.web.openapi import AT_PATTERN, KOMMUNE_PATTERN, LIMITS
from rota.wallclock import local_instant, zone
from routing.audience import AUDIENCE_PATTERN
from routing.event_rules import EVENT_KINDS, MAX_CAPACITY, MAX_NOTE, MAX_PLACE, MAX_TITLE, Draft

_AT = re.compile(AT_PATTERN)
_AUDIENCE = re.compile(AUDIENCE_PATTERN)
_TEXT = re.compile(TEXT_PATTERN)
_HOME = re.compile(HOME_PATTERN)
_DATE = re.compile(DATE_PATTERN)
_KOMMUNE = re.compile(KOMMUNE_PATTERN)
_ID = re.compile(r"[0-9]{1,10}")
_STATUS = {"invalid": 409, "not_found": 404, "conflict": 409}


def setup(app: web.Application) -> None:
    app.router.add_get("/api/events", index)
    app.router.add_post("/api/events", create)
    app.router.add_get("/api/events/stats", stats)
    app.router.add_get("/api/events/{id}", detail)
    app.router.add_post("/api/events/{id}/invite", invite)
    app.router.add_post("/api/events/{id}/change", change)
    app.router.add_post("/api/events/{id}/cancel", cancel)
    app.router.add_post("/api/events/{id}/attendance", attendance)


class _Bad(ValueError):
    """The request breaks the schema (400)."""


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _event_id(request: web.Request) -> int:
    text = request.match_info["id"]
    low, high = LIMITS["id"]
    if _ID.fullmatch(text) is None or not low <= int(text) <= high:
        raise _Bad(f"event id must be a whole number from {low} to {high}")
    return int(text)


async def _body(request: web.Request, fields: tuple[str, ...], required: bool) -> dict[str, Any]:
    try:
        raw = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad("the body is not UTF-8") from None
    if not raw.strip() and not required:
        return {}
    if request.content_type != "application/json":
        raise _Bad("the body must be JSON (Content-Type: application/json)")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise _Bad("the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Bad("the body must be a JSON object")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise _Bad(f"unknown field {unknown[0][:40]!r}: expected {', '.join(fields)}")
    return body


def _text(body: dict[str, Any], name: str, limit: int, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and name not in body and not required:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= limit or not _TEXT.fullmatch(value):
        raise _Bad(f"{name}: a text of 1 to {limit} characters with no control characters")
    return value


def _time(body: dict[str, Any], name: str, tz: str, required: bool = False) -> datetime | None:
    if name not in body and not required:
        return None
    value = body.get(name)
    if not isinstance(value, str) or not _AT.fullmatch(value):
        raise _Bad(f"{name}: an ISO 8601 date-time, e.g. 2026-12-10T18:00 or ...+01:00")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EventProblem("invalid", f"{name}: not a time there is") from None
    if not 2000 <= parsed.year <= 2100:
        raise EventProblem("invalid", f"{name}: out of range (years 2000 to 2100)")
    if parsed.tzinfo is None:
        return local_instant(parsed.date(), parsed.time(), zone(tz))
    return parsed


def _capacity(body: dict[str, Any]) -> int | None:
    if "capacity" not in body:
        return None
    value = body["capacity"]
    if type(value) is not int or not 1 <= value <= MAX_CAPACITY:
        raise _Bad(f"capacity: a whole number from 1 to {MAX_CAPACITY}")
    return value


def _audience(body: dict[str, Any]) -> str | None:
    if "audience" not in body:
        return None
    value = body["audience"]
    if not isinstance(value, str) or not _AUDIENCE.fullmatch(value):
        raise _Bad("audience: kind:id[,kind:id...] with kind kommune, group, home or team")
    return value


def _homes(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if (
        not isinstance(value, list)
        or len(value) > MAX_HOMES
        or not all(isinstance(h, str) and _HOME.fullmatch(h) for h in value)
    ):
        raise _Bad(f"{name}: a list of at most {MAX_HOMES} foster home ids")
    return value


async def _timezone(request: web.Request) -> str:
    loaded = await request.app[SERVICES].organisation()
    return loaded.org.helpline.timezone if loaded else "Europe/Oslo"


async def _loaded(request: web.Request) -> Any:
    loaded = await request.app[SERVICES].organisation()
    if loaded is None:
        raise EventProblem("not_found", "no organisation is loaded")
    return loaded


def _by(request: web.Request) -> str:
    return f"api:{request[TOKEN].name}"


async def _answer(request: web.Request, work: Any) -> web.Response:
    try:
        return await work()  # type: ignore[no-any-return]  # each handler's own response
    except _Bad as error:
        return _error(400, str(error))
    except EventProblem as error:
        return _error(_STATUS[error.problem], str(error))


async def index(request: web.Request) -> web.Response:
    """Events in scope; no foster home is named."""

    async def work() -> web.Response:
        status = None
        for key in request.query:
            if key != "status" or len(request.query.getall(key)) > 1:
                raise _Bad("parameters: only status, at most once")
            status = request.query[key]
            if status not in ("open", "cancelled"):
                raise _Bad("status: open or cancelled")
        services = request.app[SERVICES]
        tz = zone(await _timezone(request))
        async with services.sessions() as session:
            found = await list_events(session, tz, request[TOKEN].scope)
        return web.json_response({"events": [e for e in found if status in (None, e["status"])]})

    return await _answer(request, work)


async def create(request: web.Request) -> web.Response:
    async def work() -> web.Response:
        body = await _body(request, CREATE_FIELDS, required=True)
        kind = body.get("kind")
        if kind not in EVENT_KINDS:
            raise _Bad(f"kind: one of {', '.join(EVENT_KINDS)}")
        tz = await _timezone(request)
        title = _text(body, "title", MAX_TITLE, required=True)
        place = _text(body, "place", MAX_PLACE, required=True)
        starts = _time(body, "starts", tz, required=True)
        ends = _time(body, "ends", tz, required=True)
        capacity, audience = _capacity(body), _audience(body)
        note = _text(body, "note", MAX_NOTE)
        rsvp_by = _time(body, "rsvp_by", tz)
        assert title is not None and place is not None and starts and ends
        draft = Draft(str(kind), title, starts, ends, place, capacity, rsvp_by, note)
        services = request.app[SERVICES]
        loaded = await _loaded(request)
        event_id = await create_event(
            services, loaded, draft, audience, request[TOKEN].scope, _by(request)
        )
        return web.json_response({"id": event_id}, status=201)

    return await _answer(request, work)


async def detail(request: web.Request) -> web.Response:
    """One event with its answers; they name foster homes, so the read is recorded."""

    async def work() -> web.Response:
        event_id = _event_id(request)
        if request.query:
            raise _Bad("no parameters are taken")
        services = request.app[SERVICES]
        tz = zone(await _timezone(request))
        reader = access_log.Reader("api", request[TOKEN].name, request.remote)
        async with services.sessions() as session, session.begin():
            found = await show(session, event_id, tz, request[TOKEN].scope)
            if found is not None:
                await access_log.record(
                    session, reader, "event.read", str(event_id), services.clock()
                )
        if found is None:
            raise EventProblem("not_found", f"no event {event_id}")
        return web.json_response(found)

    return await _answer(request, work)


async def invite(request: web.Request) -> web.Response:
    async def work() -> web.Response:
        event_id = _event_id(request)
        body = await _body(request, INVITE_FIELDS, required=False)
        audience = _audience(body)
        services = request.app[SERVICES]
        loaded = await _loaded(request)
        homes = await invite_event(
            services, loaded, event_id, audience, request[TOKEN].scope, _by(request)
        )
        return web.json_response({"id": event_id, "invited": homes})

    return await _answer(request, work)


async def change(request: web.Request) -> web.Response:
    async def work() -> web.Response:
        event_id = _event_id(request)
        body = await _body(request, CHANGE_FIELDS, required=False)
        tz = await _timezone(request)
        asked = Change(
            _time(body, "starts", tz),
            _time(body, "ends", tz),
            _text(body, "place", MAX_PLACE),
            _capacity(body),
        )
        services = request.app[SERVICES]
        loaded = await _loaded(request)
        told = await change_event(services, loaded, event_id, asked, request[TOKEN].scope)
        return web.json_response({"id": event_id, "told": told})

    return await _answer(request, work)


async def cancel(request: web.Request) -> web.Response:
    async def work() -> web.Response:
        event_id = _event_id(request)
        body = await _body(request, CANCEL_FIELDS, required=False)
        reason = _text(body, "reason", 300)
        services = request.app[SERVICES]
        loaded = await _loaded(request)
        told = await cancel_event(services, loaded, event_id, reason, request[TOKEN].scope)
        return web.json_response({"id": event_id, "told": told})

    return await _answer(request, work)


async def attendance(request: web.Request) -> web.Response:
    async def work() -> web.Response:
        event_id = _event_id(request)
        body = await _body(request, ATTENDANCE_FIELDS, required=False)
        present, absent = _homes(body, "present"), _homes(body, "absent")
        services = request.app[SERVICES]
        count = await mark_attendance(services, event_id, present, absent, request[TOKEN].scope)
        return web.json_response({"id": event_id, "attended": count})

    return await _answer(request, work)


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    if not _DATE.fullmatch(text):
        raise _Bad(f"{name}: a date, YYYY-MM-DD")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{name}: not a date there is") from None
    return min(max(day, date(1900, 1, 1)), date(2999, 12, 31))  # instants exist either side


async def stats(request: web.Request) -> web.Response:
    """Per kommune and month, within the token's kommuner."""

    async def work() -> web.Response:
        for key in request.query:
            if key not in STATS_PARAMETERS or len(request.query.getall(key)) > 1:
                raise _Bad(f"parameters: each of {', '.join(STATS_PARAMETERS)} at most once")
        kommune = request.query.get("kommune")
        if kommune is not None and not _KOMMUNE.fullmatch(kommune):
            raise _Bad("kommune: a kommune id")
        since, until = _day(request.query.get("from"), "from"), _day(request.query.get("to"), "to")
        services = request.app[SERVICES]
        tz = zone(await _timezone(request))
        start = local_instant(since, time(0), tz) if since else None
        end = local_instant(until + timedelta(days=1), time(0), tz) if until else None
        async with services.sessions() as session:
            rows = await kommune_statistics(
                session, tz, request[TOKEN].scope, services.clock(), kommune, start, end
            )
        return web.json_response({"kommuner": rows})

    return await _answer(request, work)
