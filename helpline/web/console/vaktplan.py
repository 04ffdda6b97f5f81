"""Vaktplan: who is on duty when, per kommune or team, by week or month; overrides; the
52-week coverage report.

The plan is the rota engine's (`helpline oncall` and `helpline coverage` ask the same),
laid out by `rota.plan`. Overrides are added and removed through the file loader
(`helpline.overrides`), so each edit is a new version of the organisation, live at once.
A koordinator reads and edits their kommuner's rota, a vakt reads their teams' plan; a
plan out of scope answers 404 like a missing one. The page names staff: every view is in
the access log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from aiohttp import web

from helpline import access_log
from helpline.bootstrap import LoadedOrg
from helpline.overrides import Refused, add_override, remove_override
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.console.vaktplan_view import (
    MONTHS,
    WEEKDAYS_SHORT,
    Plan,
    PlanView,
    day_text,
    local_text,
)
from helpline.web.keys import SERVICES
from rota.plan import REPORT_WEEKS, month_weeks, next_month, week_of
from rota.wallclock import local_instant
from routing.access import visible_kommuner
from routing.rota_access import editable_teams, visible_teams

PATH = "/console/vaktplan"
MY_DUTY_DAYS = 28
BAD_DATE = "Ugyldig dato. Skriv den som 2026-12-24."
BAD_AT = "Ugyldig tidspunkt. Skriv dato og klokkeslett, for eksempel 2026-12-24T08:00."


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, plan_page)
    app.router.add_post(PATH + "/overstyring", override_added)
    app.router.add_post(PATH + "/overstyring/fjern", override_removed)
    app.router.add_get(PATH + "/dekning", report_page)


@dataclass(frozen=True, slots=True)
class Query:
    """The page's choice: plan, view, date and a named instant, with their errors."""

    plan: Plan | None
    view: str  # "uke" or "maned"
    day: date
    at: datetime | None
    errors: Mapping[str, str]


async def plan_page(request: web.Request) -> web.StreamResponse:
    loaded, user = await _loaded(request)
    if loaded is None:
        return await render(request, "console/vaktplan.html", {"plan": None, "choices": []})
    view = PlanView(loaded)
    query = _query(request, view, user, request.query)
    context = await _context(request, view, user, query)
    status = 400 if query.errors else 200
    return await render(request, "console/vaktplan.html", context, status=status)


async def override_added(request: web.Request) -> web.StreamResponse:
    loaded, user = await _loaded(request, fresh=True)
    if loaded is None:
        raise web.HTTPNotFound()
    form = {k: str(v) for k, v in (await request.post()).items()}
    view = PlanView(loaded)
    query = _query(request, view, user, form)
    editable = editable_teams(loaded.org, user.scope)
    fields = {key: form.get(key, "") for key in ("team", "person", "from", "to")}
    try:
        if fields["team"] and fields["team"] not in editable:
            # An unknown team and one out of scope get the same answer.
            raise Refused({"team": "Velg et team du har tilgang til."})
        version = await add_override(request.app[SERVICES], loaded, fields, user.person)
    except Refused as refused:
        context = await _context(request, view, user, query)
        context.update(form=fields, form_errors=dict(refused.fields), form_error=refused.general)
        return await render(request, "console/vaktplan.html", context, status=400)
    day = fields["from"][:10]
    raise web.HTTPSeeOther(_link(query, dato=day, lagret=str(version)))


async def override_removed(request: web.Request) -> web.StreamResponse:
    loaded, user = await _loaded(request, fresh=True)
    if loaded is None:
        raise web.HTTPNotFound()
    form = {k: str(v) for k, v in (await request.post()).items()}
    view = PlanView(loaded)
    override = view.find_override(form.get("key", ""))
    if override is None or override.team not in editable_teams(loaded.org, user.scope):
        raise web.HTTPNotFound()
    query = _query(request, view, user, form)
    try:
        version = await remove_override(request.app[SERVICES], loaded, override, user.person)
    except Refused as refused:
        context = await _context(request, view, user, query)
        context.update(form_error=refused.general)
        return await render(request, "console/vaktplan.html", context, status=409)
    raise web.HTTPSeeOther(_link(query, fjernet=str(version)))


async def report_page(request: web.Request) -> web.StreamResponse:
    loaded, user = await _loaded(request)
    if loaded is None:
        raise web.HTTPNotFound()
    view = PlanView(loaded)
    query = _query(request, view, user, request.query)
    if query.plan is None:
        raise web.HTTPNotFound()
    services = request.app[SERVICES]
    now = services.clock()
    first = week_of(now.astimezone(view.tz).date())[0]
    report = view.report(query.plan, first, REPORT_WEEKS)
    async with services.sessions() as db, db.begin():
        await access_log.record(
            db, user.reader(request), "console.vaktplan.dekning", query.plan.key, now
        )
    context = {
        "plan": query.plan,
        "report": report,
        "weeks": REPORT_WEEKS,
        "back": _link(query),
    }
    return await render(request, "console/vaktplan_dekning.html", context, forms=False)


# -- loading and choosing ---------------------------------------------------------------


async def _loaded(
    request: web.Request, fresh: bool = False
) -> tuple[LoadedOrg | None, ConsoleUser]:
    services = request.app[SERVICES]
    if fresh:  # an edit starts from the register's newest version, not a cached one
        services.forget_organisation()
    return await services.organisation(), request[USER]


def _choices(view: PlanView, user: ConsoleUser) -> list[Plan]:
    kommuner = [
        Plan("kommune", k, view.kommuner[k].name) for k in visible_kommuner(view.org, user.scope)
    ]
    teams = [Plan("team", t, view.teams[t].name) for t in visible_teams(view.org, user.scope)]
    return kommuner + teams


def _query(
    request: web.Request, view: PlanView, user: ConsoleUser, values: Mapping[str, str]
) -> Query:
    """The plan, view, date and instant asked for; a plan out of scope is 404."""
    choices = {p.key: p for p in _choices(view, user)}
    asked = values.get("plan", "")
    if asked:
        plan = choices.get(asked)
        if plan is None:
            raise web.HTTPNotFound()
    else:
        plan = next(iter(choices.values()), None)
    errors: dict[str, str] = {}
    at = _instant(values.get("at", ""), view, errors)
    today = request.app[SERVICES].clock().astimezone(view.tz).date()
    day = _date(values.get("dato", ""), errors) or (at.astimezone(view.tz).date() if at else today)
    return Query(plan, "maned" if values.get("vis") == "maned" else "uke", day, at, errors)


def _instant(text: str, view: PlanView, errors: dict[str, str]) -> datetime | None:
    if not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        errors["at"] = BAD_AT
        return None
    if value.tzinfo is None:  # wall-clock in the organisation's zone, as `oncall --at`
        value = local_instant(value.date(), value.time(), view.tz)
    return value


def _date(text: str, errors: dict[str, str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        errors["dato"] = BAD_DATE
        return None


def _link(query: Query, **changes: str) -> str:
    values = {
        "plan": query.plan.key if query.plan else "",
        "vis": query.view,
        "dato": query.day.isoformat(),
    }
    if query.at is not None:
        values["at"] = query.at.isoformat()
    values.update(changes)
    return PATH + "?" + urlencode({k: v for k, v in values.items() if v})


# -- the page ---------------------------------------------------------------------------


async def _context(
    request: web.Request, view: PlanView, user: ConsoleUser, query: Query
) -> dict[str, object]:
    services = request.app[SERVICES]
    now = services.clock()
    plan = query.plan
    context: dict[str, object] = {
        "plan": plan,
        "choices": _choices(view, user),
        "query": query,
        "errors": query.errors,
        "form": {},
        "form_errors": {},
        "form_error": None,
        "notice": _notice(request),
        "weekdays": WEEKDAYS_SHORT,
    }
    if plan is None:
        return context
    at = query.at or now
    if query.view == "maned":
        weeks = month_weeks(query.day.year, query.day.month)
        days = view.days(plan, [d for week in weeks for d in week], query.day.month)
        rows = [days[i : i + 7] for i in range(0, len(days), 7)]
        before = date(*next_month(query.day.year, query.day.month, -1), 1)
        after = date(*next_month(query.day.year, query.day.month, 1), 1)
        title = f"{MONTHS[query.day.month - 1]} {query.day.year}"
    else:
        days = view.days(plan, week_of(query.day))
        rows = [days]
        before, after = query.day - timedelta(weeks=1), query.day + timedelta(weeks=1)
        title = (
            f"uke {query.day.isocalendar().week}, {day_text(days[0].day)}–{day_text(days[-1].day)}"
        )
    editable = editable_teams(view.org, user.scope)
    teams = view.plan_teams(plan)
    plan_editable = tuple(t for t in teams if t in editable)
    context.update(
        title=title,
        rows=rows,
        days=days,
        gap_days=sum(1 for d in days if d.gaps and d.in_month),
        at_text=local_text(at, view.tz),
        at_named=query.at is not None,
        at_input=query.at.astimezone(view.tz).strftime("%Y-%m-%dT%H:%M") if query.at else "",
        on_duty=view.on_duty(plan, at),
        gap_at=plan.kind == "kommune" and view.rota.on_duty(plan.id, at)[0].role != "primary",
        overrides=view.overrides(teams, editable, now, view.period(days)),
        edit_teams=[view.teams[t] for t in (plan_editable or editable)],
        edit_people=[p for p in view.org.people if set(p.teams) & set(editable)],
        my_duties=view.my_duties(user.person, now, now + timedelta(days=MY_DUTY_DAYS)),
        links={
            "before": _link(query, dato=before.isoformat()),
            "after": _link(query, dato=after.isoformat()),
            "week": _link(query, vis="uke"),
            "month": _link(query, vis="maned"),
            "report": PATH + "/dekning?" + urlencode({"plan": plan.key}),
        },
        hidden={"plan": plan.key, "vis": query.view, "dato": query.day.isoformat()},
    )
    async with services.sessions() as db, db.begin():
        await access_log.record(db, user.reader(request), "console.vaktplan", plan.key, now)
    return context


def _notice(request: web.Request) -> str | None:
    saved, removed = request.query.get("lagret", ""), request.query.get("fjernet", "")
    if saved.isdigit():
        return f"Overstyringen er lagret. Vaktplanen er nå versjon {saved}."
    if removed.isdigit():
        return f"Overstyringen er fjernet. Vaktplanen er nå versjon {removed}."
    return None
