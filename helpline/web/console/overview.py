"""Oversikt: who is on duty now for each of the user's kommuner.

The chain is the rota engine's, as `helpline oncall` computes it; the page shows its
primary, backup and barnevernvakt. It names staff, so every view is in the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from helpline import access_log
from helpline.bootstrap import LoadedOrg
from helpline.web.console.pages import USER, render
from helpline.web.keys import SERVICES
from rota.wallclock import zone
from routing.access import Scope, visible_kommuner

SHOWN_ROLES = {"primary": "Primærvakt", "backup": "Bakvakt", "barnevernvakt": "Barnevernvakt"}


@dataclass(frozen=True, slots=True)
class OnDuty:
    role: str  # Norwegian, as shown
    name: str
    team: str


@dataclass(frozen=True, slots=True)
class KommuneDuty:
    id: str
    name: str
    on_duty: tuple[OnDuty, ...]


def setup(app: web.Application) -> None:
    app.router.add_get("/console/", overview)
    app.router.add_get("/console", to_overview)
    app.router.add_get("/", to_overview)


async def to_overview(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console/")


def duty_now(loaded: LoadedOrg, scope: Scope, now: datetime) -> list[KommuneDuty]:
    """The on-duty staff of every kommune the scope sees, in register order."""
    names = {k.id: k.name for k in loaded.org.kommuner}
    teams = {t.id: t.name for t in loaded.org.teams}
    duties = []
    for kommune in visible_kommuner(loaded.org, scope):
        chain = loaded.rota.on_duty(kommune, now)
        shown = tuple(
            OnDuty(SHOWN_ROLES[e.role], e.name, teams.get(e.team or "", ""))
            for e in chain
            if e.role in SHOWN_ROLES
        )
        duties.append(KommuneDuty(kommune, names[kommune], shown))
    return duties


async def overview(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    services = request.app[SERVICES]
    loaded = await services.organisation()
    now = services.clock()
    duties = duty_now(loaded, user.scope, now) if loaded else []
    async with services.sessions() as db, db.begin():
        target = "kommuner:" + ",".join(d.id for d in duties)
        await access_log.record(db, user.reader(request), "console.oversikt", target, now)
    tz = zone(loaded.org.helpline.timezone) if loaded else None
    local = now.astimezone(tz) if tz else now
    return await render(
        request, "console/overview.html", {"duties": duties, "at": local.strftime("%d.%m.%Y %H:%M")}
    )
