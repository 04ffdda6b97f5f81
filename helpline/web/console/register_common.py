"""What the Register's pages share: who may open them, and the refusal of file loads."""

from __future__ import annotations

from aiohttp import web

from helpline import access_log
from helpline.bootstrap import LoadedOrg
from helpline.web.console.pages import USER, ConsoleUser, render
from helpline.web.keys import SERVICES
from routing.register_scope import has_register

PATH = "/console/register"


async def register_user(request: web.Request) -> tuple[ConsoleUser, LoadedOrg]:
    """The user and the organisation, or 404 for a vakt and before anything is loaded."""
    user = request[USER]
    loaded = await request.app[SERVICES].organisation()
    if not has_register(user.scope) or loaded is None:
        raise web.HTTPNotFound()
    return user, loaded


async def files_forbidden(request: web.Request) -> web.StreamResponse:
    """A koordinator asking for the whole rota file (`may_load_files`)."""
    return await render(request, "console/register_forbidden.html", status=403)


async def log_read(request: web.Request, user: ConsoleUser, action: str, target: str) -> None:
    """One read (or change) of the register in the access log, committed at once."""
    services = request.app[SERVICES]
    async with services.sessions() as db, db.begin():
        await access_log.record(db, user.reader(request), action, target, services.clock())
