"""Tilgangslogg: the access log (innsynslogg) for admins, newest first, filtered by who,
period and what. Anyone else gets the console's 404. Reading the log is itself recorded
(`access_log.read`, with the filter), as `helpline access-log` records it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from helpline import access_log
from helpline.web.console.filters import read_form
from helpline.web.console.missing import not_found
from helpline.web.console.pages import USER, render
from helpline.web.keys import SERVICES
from rota.wallclock import OSLO, zone

LIMIT = 200
FIELDS = ("hvem", "fra", "til", "hva")
SOURCE_NAMES = {"api": "API", "cli": "Kommandolinje", "console": "Konsoll"}
#: The actions as readers name them; an action not listed shows as it is stored.
ACTION_NAMES = {
    "access_log.read": "Leste tilgangsloggen",
    "console.innboks": "Så innboksen",
    "console.login": "Logget inn",
    "console.login_failed": "Feil innloggingskode",
    "console.logout": "Logget ut",
    "console.oversikt": "Så oversikten",
    "contact.read": "Leste en henvendelse",
    "contacts.export": "Lastet ned kontaktloggen",
    "contacts.list": "Listet henvendelser",
    "group.messages": "Leste en gruppes meldinger",
    "outbox.list": "Listet sendte meldinger",
}


def setup(app: web.Application) -> None:
    app.router.add_get("/console/tilgangslogg", access_log_view)


async def access_log_view(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    if user.scope.role != "admin":
        return await not_found(request)
    services = request.app[SERVICES]
    loaded = await services.organisation()
    tz = zone(loaded.org.helpline.timezone if loaded else OSLO)
    form = read_form(request.query, FIELDS)
    since, until = form.period(tz)
    actor = form.text("hvem")
    found: list[access_log.Entry] = []
    async with services.sessions() as db, db.begin():
        known = await access_log.actions(db)
        action = form.choice("hva", known)
        if not form.errors:
            found = await access_log.entries(
                db, since=since, until=until, actor=actor, action=action, limit=LIMIT
            )
            shown = {
                "hvem": actor,
                "fra": form.values["fra"],
                "til": form.values["til"],
                "hva": action,
            }
            target = urlencode([(k, v) for k, v in shown.items() if v] + [("limit", str(LIMIT))])
            await access_log.record(
                db, user.reader(request), "access_log.read", target, services.clock()
            )
    rows = [
        {
            "at": entry.at.astimezone(tz).strftime("%d.%m.%Y %H:%M:%S"),
            "actor": entry.actor,
            "source": SOURCE_NAMES.get(entry.source, entry.source),
            "action": ACTION_NAMES.get(entry.action, entry.action),
            "target": entry.target,
            "client": entry.client or "–",
        }
        for entry in found
    ]
    context = {
        "form": form.values,
        "errors": form.errors,
        "actions": [(a, ACTION_NAMES.get(a, a)) for a in known],
        "rows": rows,
        "full": len(rows) == LIMIT,
        "limit": LIMIT,
    }
    return await render(
        request, "console/access_log.html", context, status=400 if form.errors else 200
    )
