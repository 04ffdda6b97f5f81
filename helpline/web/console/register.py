"""Register: the kommuner, teams, people, foster homes and groups the user may see.

Lists and search (`routing.register_scope`), the rota file's export for admins, and the
import and foster home pages of `register_import` and `register_homes`. Names and numbers
are personal data: every list, export and edit page is in the access log. A vakt has no
Register: every page here answers them 404.
"""

from __future__ import annotations

from aiohttp import web

from helpline.web.console import register_homes, register_import
from helpline.web.console.pages import render
from helpline.web.console.register_common import PATH, files_forbidden, log_read, register_user
from rota.orgfile import dump_org
from rota.phones import readable_phone
from routing.register_scope import may_load_files, search, visible_register

EXPORT_NAME = "fosterhjemstelefonen.toml"

#: What a redirect after a change says (`?endret=...`): no names in URLs.
NOTICES = {
    "lastet": "Rotafilen er lastet. Endringene gjelder fra nå.",
    "ny": "Fosterhjemmet er lagt til.",
    "lagret": "Endringene i fosterhjemmet er lagret.",
    "deaktivert": "Fosterhjemmet er tatt ut av registeret.",
}
TEAM_KINDS = {"kommune": "Barnevernstjeneste", "barnevernvakt": "Barnevernvakt"}
GROUP_KINDS = {"ressursfamilie": "Ressursfamilie", "nettverk": "Nettverk"}


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, register_page)
    app.router.add_get(PATH + "/eksport", export)
    register_import.setup(app, PATH)
    register_homes.setup(app, PATH)


async def register_page(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    visible = visible_register(loaded.org, user.scope)
    query = request.query.get("q", "").strip()[:100]
    shown = search(visible, query)
    target = "kommuner:" + ",".join(k.id for k in visible.kommuner)
    action = "console.register.search" if query else "console.register"
    await log_read(request, user, action, target)
    kommune_names = {k.id: k.name for k in loaded.org.kommuner}
    team_names = {t.id: t.name for t in loaded.org.teams}
    context = {
        "view": shown,
        "query": query,
        "kommune_names": kommune_names,
        "team_names": team_names,
        "team_kinds": TEAM_KINDS,
        "group_kinds": GROUP_KINDS,
        "files": may_load_files(user.scope),
        "notice": NOTICES.get(request.query.get("endret", "")),
        "phone": readable_phone,
        "version": loaded.version,
    }
    return await render(request, "console/register.html", context)


async def export(request: web.Request) -> web.StreamResponse:
    """The current organisation as a rota file, as `helpline dump` writes it."""
    user, loaded = await register_user(request)
    if not may_load_files(user.scope):
        return await files_forbidden(request)
    await log_read(request, user, "console.register.export", f"version:{loaded.version}")
    return web.Response(
        text=dump_org(loaded.org),
        content_type="application/toml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{EXPORT_NAME}"'},
    )
