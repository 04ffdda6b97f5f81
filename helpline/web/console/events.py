"""Arrangementer: fagdager, nettverkstreff and fosterhjemskaféer in the console.

The list, the create form, and one event's page: the invitation (its count first, a dry
run), the answers, the waitlist in order, attendance, change and cancel. Every action goes
through `helpline.event_actions`, as `helpline event ...` and `/api/events` do, under the
user's scope: an event whose audience lies outside the user's kommuner answers 404 exactly
like a missing one. The events-and-attendance figures per kommune are the ones
`helpline event stats` gives.

An event's page names foster homes, so every view of it is in the access log. Admins and
koordinatorer use these pages; a vakt's console has no events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp_session import get_session
from sqlalchemy.ext.asyncio import AsyncSession

from helpline import access_log
from helpline.bootstrap import LoadedOrg
from helpline.event_actions import (
    cancel_event,
    change_event,
    create_event,
    invite_count,
    invite_event,
    mark_attendance,
)
from helpline.events import EventProblem, invitations, kommune_statistics, list_events, show
from helpline.web.console import event_forms as forms
from helpline.web.console.pages import NAV_ROLES, USER, ConsoleUser, render
from helpline.web.keys import SERVICES
from helpline.web.openapi import LIMITS
from rota.model import Organisation
from rota.wallclock import zone
from routing.access import Scope
from routing.event_rules import EVENT_KINDS
from routing.invitation_texts import KIND_LABELS, MONTHS, WEEKDAYS

PATH = "/console/arrangementer"
NOTICE = "console_events_notice"  # the session's message for the next page
ANSWERS = {"yes": "Kommer", "no": "Kommer ikke", "waitlist": "Venteliste",
           "expired": "Tilbudet gikk ut"}  # fmt: skip
CHANNELS = {"sms": "SMS", "telegram": "Telegram", "link": "lenke"}
ROLES = NAV_ROLES[PATH]


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, index)
    app.router.add_get(PATH + "/nytt", new)
    app.router.add_post(PATH + "/nytt", create)
    one = PATH + "/{id:[0-9]{1,10}}"
    app.router.add_get(one, detail)
    app.router.add_post(one + "/inviter", invite)
    app.router.add_post(one + "/endre", change)
    app.router.add_post(one + "/avlys", cancel)
    app.router.add_post(one + "/oppmote", attendance)


# -- what the templates show ------------------------------------------------------------------


def when(instant: datetime | str | None, tz: ZoneInfo) -> str:
    """'torsdag 10. desember 2026 kl. 18:00'."""
    if instant is None:
        return ""
    at = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    local = at.astimezone(tz)
    day = f"{WEEKDAYS[local.weekday()]} {local.day}. {MONTHS[local.month - 1]} {local.year}"
    return f"{day} kl. {local:%H:%M}"


def deadline(instant: datetime | str | None, tz: ZoneInfo) -> str:
    """An answer deadline: at midnight, the end of the day before ('torsdag 10. desember
    2026, ut dagen'), as the invitation's «innen» names it."""
    if instant is None:
        return ""
    at = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    local = at.astimezone(tz)
    if (local.hour, local.minute) != (0, 0):
        return when(local, tz)
    before = local - timedelta(days=1)
    day = f"{WEEKDAYS[before.weekday()]} {before.day}. {MONTHS[before.month - 1]} {before.year}"
    return f"{day}, ut dagen"


def field_value(instant: datetime | str | None, tz: ZoneInfo) -> str:
    """An instant as a `datetime-local` field holds it: wall-clock time, to the minute."""
    if instant is None:
        return ""
    at = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    return at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def month_name(month: str) -> str:
    """'2026-12' as 'desember 2026'."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


@dataclass(frozen=True, slots=True)
class Answer:
    home: str
    name: str
    answer: str  # Norwegian
    people: int
    position: int | None
    channel: str
    at: str
    offer_until: str  # a waitlisted home's standing offer of a place, if any


@dataclass(frozen=True, slots=True)
class InviteOffer:
    """The invitation form: the homes it would reach now (None: it cannot go, `error`
    says why), the audience typed to add, and whether the count changed under the user."""

    count: int | None
    audience: str
    error: str | None = None
    error_field: str | None = None
    recounted: bool = False


@dataclass(frozen=True, slots=True)
class Invited:
    home: str
    name: str
    answer: str
    attended: bool


# -- handlers ------------------------------------------------------------------------------


def _user(request: web.Request) -> ConsoleUser:
    user = request[USER]
    if user.scope.role not in ROLES:
        raise web.HTTPForbidden(text="Arrangementer er for koordinatorer og administratorer.")
    return user


async def _loaded(request: web.Request) -> LoadedOrg:
    loaded = await request.app[SERVICES].organisation()
    if loaded is None:
        raise web.HTTPServiceUnavailable(text="Ingen organisasjon er lastet inn.")
    return loaded


def _event_id(request: web.Request) -> int:
    event_id = int(request.match_info["id"])
    low, high = LIMITS["id"]
    return event_id if low <= event_id <= high else 0  # 0: no event has it


async def _missing(request: web.Request) -> web.Response:
    return await render(request, "console/event_missing.html", status=404)


async def _notice(request: web.Request) -> str | None:
    session = await get_session(request)
    notice = session.pop(NOTICE, None)
    return notice if isinstance(notice, str) else None


async def _done(request: web.Request, event_id: int, notice: str) -> web.HTTPSeeOther:
    session = await get_session(request)
    session[NOTICE] = notice
    return web.HTTPSeeOther(f"{PATH}/{event_id}")


async def index(request: web.Request) -> web.StreamResponse:
    """The events in scope, soonest first, and the figures per kommune and month."""
    user = _user(request)
    services = request.app[SERVICES]
    loaded = await _loaded(request)
    tz = zone(loaded.org.helpline.timezone)
    async with services.sessions() as session:
        found = await list_events(session, tz, user.scope)
        stats = await event_stat_rows(session, loaded.org, user.scope, services.clock())
    context = {
        "events": [
            {**e, "when": when(e["starts"], tz), "kind_label": KIND_LABELS[e["kind"]]}
            for e in found
        ],
        "event_stats": stats,
    }
    return await render(request, "console/events.html", context)


async def event_stat_rows(
    session: AsyncSession, org: Organisation, scope: Scope, now: datetime
) -> list[dict[str, object]]:
    """Events held and attendance per kommune and month in `scope`, as the pages show
    them (`helpline.events.kommune_statistics`, with the kommune's and month's names)."""
    rows = await kommune_statistics(session, zone(org.helpline.timezone), scope, now)
    names = {k.id: k.name for k in org.kommuner}
    return [
        {**row, "kommune_name": names.get(row["kommune"], row["kommune"]),
         "month_name": month_name(row["month"])}
        for row in rows
    ]  # fmt: skip


def _create_context(
    loaded: LoadedOrg, user: ConsoleUser, read: forms.Read | None
) -> dict[str, object]:
    kommuner = [k for k in loaded.org.kommuner if user.scope.allows(k.id)]
    groups = [g for g in loaded.org.groups if user.scope.allows(g.kommune)]
    values = read.values if read else {name: "" for name in forms.CREATE_FIELDS}
    if not values["audience"] and len(kommuner) == 1:
        values["audience"] = f"kommune:{kommuner[0].id}"
    return {
        "kinds": [(kind, KIND_LABELS[kind]) for kind in EVENT_KINDS],
        "kommuner": kommuner,
        "groups": groups,
        "values": values,
        "errors": read.errors if read else {},
    }


async def new(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    loaded = await _loaded(request)
    return await render(request, "console/event_new.html", _create_context(loaded, user, None))


async def create(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    loaded = await _loaded(request)
    form = await request.post()
    read, draft, audience = forms.read_draft(form, loaded.org.helpline.timezone)
    if draft is not None:
        try:
            event_id = await create_event(
                request.app[SERVICES], loaded, draft, audience, user.scope, f"console:{user.person}"
            )
        except EventProblem as problem:
            name, text = forms.translate(problem)
            read.errors[name] = text
        else:
            raise await _done(
                request, event_id, "Arrangementet er lagret. Send invitasjonene når du er klar."
            )
    context = _create_context(loaded, user, read)
    return await render(request, "console/event_new.html", context, status=400)


async def _page(
    request: web.Request,
    user: ConsoleUser,
    event_id: int,
    extra: Mapping[str, Any] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    """The event's page, with the forms' values and errors in `extra`; 404 when the event
    is missing or out of scope. The read of the answers is in the access log."""
    services = request.app[SERVICES]
    loaded = await _loaded(request)
    tz = zone(loaded.org.helpline.timezone)
    async with services.sessions() as session, session.begin():
        document = await show(session, event_id, tz, user.scope)
        if document is None:
            return await _missing(request)
        rows = await invitations(session, event_id)
        await access_log.record(
            session, user.reader(request), "console.arrangement", str(event_id), services.clock()
        )
    context = _event_context(document, rows, loaded, tz)
    if document["status"] == "open" and "invite" not in (extra or {}):
        context["invite"] = await _invite_offer(request, user, event_id, None)
    return await render(request, "console/event.html", {**context, **(extra or {})}, status=status)


def _event_context(
    document: dict[str, Any], rows: list[Any], loaded: LoadedOrg, tz: ZoneInfo
) -> dict[str, Any]:
    names = {h.id: h.name for h in loaded.org.foster_homes}
    offers = {r.foster_home_id: r.offer_until for r in rows if r.offer_until is not None}
    answers = [
        Answer(
            a["foster_home"], names.get(a["foster_home"], a["foster_home"]), ANSWERS[a["answer"]],
            a["people"], a["position"], CHANNELS.get(a["channel"] or "", ""), when(a["at"], tz),
            when(offers.get(a["foster_home"]), tz),
        )
        for a in document["answers"]
    ]  # fmt: skip
    waitlist = sorted((a for a in answers if a.position is not None), key=lambda a: a.position or 0)
    answer_of = {a.home: a.answer for a in answers}
    invited = sorted(
        (Invited(r.foster_home_id, names.get(r.foster_home_id, r.foster_home_id),
                 answer_of.get(r.foster_home_id, "Ikke svart"), r.attended) for r in rows),
        key=lambda i: (i.answer != ANSWERS["yes"], i.name),
    )  # fmt: skip
    return {
        "event": document,
        "kind_label": KIND_LABELS[document["kind"]],
        "starts": when(document["starts"], tz),
        "ends": when(document["ends"], tz),
        "rsvp_by": deadline(document["rsvp_by"], tz),
        "answers": answers,
        "waitlist": waitlist,
        "invited": invited,
        "change": {
            "values": {
                "starts": field_value(document["starts"], tz),
                "ends": field_value(document["ends"], tz),
                "place": document["place"],
                "capacity": str(document["capacity"] or ""),
            },
            "errors": {},
        },
        "cancel": {"values": {"reason": ""}, "errors": {}},
        "attendance_error": None,
        "notice": None,
    }


async def _invite_offer(
    request: web.Request, user: ConsoleUser, event_id: int, extra: str | None
) -> InviteOffer:
    """The invitation's dry run: how many homes it would reach now, or why it cannot go."""
    loaded = await _loaded(request)
    try:
        count = await invite_count(request.app[SERVICES], loaded, event_id, extra, user.scope)
    except EventProblem as problem:
        name, text = forms.translate(problem)
        return InviteOffer(None, extra or "", text, name)
    return InviteOffer(count, extra or "")


async def detail(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    event_id = _event_id(request)
    return await _page(request, user, event_id, {"notice": await _notice(request)})


async def invite(request: web.Request) -> web.StreamResponse:
    """Invite when the count the user saw is still the count; otherwise show the new count
    (a changed audience is a new dry run) and send nothing."""
    user = _user(request)
    event_id = _event_id(request)
    form = await request.post()
    extra = str(form.get("audience", "")).strip() or None
    seen = str(form.get("count", ""))
    services = request.app[SERVICES]
    loaded = await _loaded(request)
    try:
        count = await invite_count(services, loaded, event_id, extra, user.scope)
    except EventProblem as problem:  # a missing event: `_page` answers 404
        name, text = forms.translate(problem)
        offer = InviteOffer(None, extra or "", text, name)
        return await _page(request, user, event_id, {"invite": offer}, status=400)
    if seen != str(count):
        offer = InviteOffer(count, extra or "", recounted=True)
        return await _page(request, user, event_id, {"invite": offer}, status=409)
    if count == 0:
        raise await _done(request, event_id, "Ingen nye fosterhjem å invitere.")
    try:
        homes = await invite_event(
            services, loaded, event_id, extra, user.scope, f"console:{user.person}"
        )
    except EventProblem as problem:
        if problem.problem == "not_found":
            return await _missing(request)
        raise await _done(request, event_id, forms.translate(problem)[1]) from None
    raise await _done(request, event_id, f"{homes} fosterhjem er invitert.")


async def change(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    event_id = _event_id(request)
    loaded = await _loaded(request)
    read, asked = forms.read_change(await request.post(), loaded.org.helpline.timezone)
    if asked is not None:
        try:
            told = await change_event(request.app[SERVICES], loaded, event_id, asked, user.scope)
        except EventProblem as problem:
            if problem.problem == "not_found":
                return await _missing(request)
            name, text = forms.translate(problem)
            read.errors[name] = text
        else:
            raise await _done(
                request, event_id, f"Endringen er lagret. {told} fosterhjem har fått beskjed."
            )
    extra = {"change": {"values": read.values, "errors": read.errors}}
    return await _page(request, user, event_id, extra, status=400)


async def cancel(request: web.Request) -> web.StreamResponse:
    user = _user(request)
    event_id = _event_id(request)
    read, reason = forms.read_reason(await request.post())
    if not read.errors:
        loaded = await _loaded(request)
        try:
            told = await cancel_event(request.app[SERVICES], loaded, event_id, reason, user.scope)
        except EventProblem as problem:
            if problem.problem == "not_found":
                return await _missing(request)
            name, text = forms.translate(problem)
            read.errors["reason" if name == forms.GENERAL else name] = text
        else:
            raise await _done(
                request, event_id, f"Arrangementet er avlyst. {told} fosterhjem har fått beskjed."
            )
    extra = {"cancel": {"values": read.values, "errors": read.errors}}
    return await _page(request, user, event_id, extra, status=400)


async def attendance(request: web.Request) -> web.StreamResponse:
    """The ticked homes are present; the other homes the form listed are not."""
    user = _user(request)
    event_id = _event_id(request)
    form = await request.post()
    listed = [str(h) for h in form.getall("listed", [])]
    present = [str(h) for h in form.getall("present", [])]
    absent = [h for h in listed if h not in set(present)]
    try:
        count = await mark_attendance(request.app[SERVICES], event_id, present, absent, user.scope)
    except EventProblem as problem:
        if problem.problem == "not_found":
            return await _missing(request)
        error = forms.translate(problem)[1]
        return await _page(request, user, event_id, {"attendance_error": error}, status=400)
    raise await _done(request, event_id, f"Oppmøtet er lagret: {count} fosterhjem møtte.")
