"""A family's personal link to an event: `GET /svar/{token}.ics`, the event's calendar file.

The token is the only credential (no login); it is stored as its SHA-256, and an unknown
token answers 404 exactly like a missing route. (The answer page `/svar/{token}` itself
is `helpline.web.answer_page`.)
"""

from __future__ import annotations

from aiohttp import web

from helpline.events import calendar_of
from helpline.invitations import by_token
from helpline.web.keys import SERVICES
from rota.wallclock import OSLO, zone
from routing.event_calendar import event_calendar


def setup(app: web.Application) -> None:
    app.router.add_get("/svar/{token}.ics", calendar_file)


async def calendar_file(request: web.Request) -> web.Response:
    """The event's iCalendar file, with its current SEQUENCE and status."""
    services = request.app[SERVICES]
    async with services.sessions() as session:
        found = await by_token(session, request.match_info["token"])
    if found is None:
        raise web.HTTPNotFound()
    event, _ = found
    loaded = await services.organisation()
    tz = zone(loaded.org.helpline.timezone if loaded else OSLO)
    body = event_calendar(calendar_of(event), tz, services.clock())
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Cache-Control": "private, no-cache",
            "Content-Disposition": f'attachment; filename="arrangement-{event.id}.ics"',
        },
    )
