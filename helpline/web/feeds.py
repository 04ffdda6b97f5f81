"""Duty calendars (iCalendar) at unguessable per-feed URLs: `/ical/{token}.ics`.

Staff subscribe in their phone's calendar; the token is the only credential, so an
unknown token answers 404 exactly like a missing route. A feed also shows the events its
team (a person's: any of their teams) is invited to, `team:ID` in the event's audience.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from helpline.db.register import feed_by_token
from helpline.events import team_events
from helpline.web.keys import SERVICES
from rota.ical import person_calendar, team_calendar
from rota.wallclock import zone
from routing.event_calendar import with_events

PAST = timedelta(days=14)
FUTURE = timedelta(days=120)


def setup(app: web.Application) -> None:
    app.router.add_get("/ical/{token}.ics", feed)


def feed_path(token: str) -> str:
    """The path of a calendar feed."""
    return f"/ical/{token}.ics"


async def feed(request: web.Request) -> web.Response:
    """One team's or person's duties from two weeks back to four months ahead."""
    services = request.app[SERVICES]
    async with services.sessions() as session:
        target = await feed_by_token(session, request.match_info["token"])
    loaded = await services.organisation()
    if target is None or loaded is None:
        raise web.HTTPNotFound()
    kind, target_id = target
    now = services.clock()
    start, end = now - PAST, now + FUTURE
    if kind == "team":
        teams: tuple[str, ...] = (target_id,)
        body = team_calendar(
            loaded.org, target_id, loaded.rota.duties(target_id, start, end), stamp=now
        )
    else:
        person = next((p for p in loaded.org.people if p.id == target_id), None)
        if person is None:
            raise web.HTTPNotFound()
        teams = person.teams
        duties = {team: loaded.rota.duties(team, start, end) for team in person.teams}
        body = person_calendar(loaded.org, target_id, duties, stamp=now)
    async with services.sessions() as session:
        events = await team_events(session, teams, start, end)
    body = with_events(body, events, zone(loaded.org.helpline.timezone), now)
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
