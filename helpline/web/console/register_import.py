"""Importing a rota file in the browser: upload or paste, every error, a preview, apply.

Step one (POST `.../import`) validates the file exactly as `helpline load` does and lists
every error per entry, or shows what would change per section; it changes nothing. The
previewed text waits in the server-side session. Step two (POST `.../import/bruk`) loads
that same text through `org_changes.apply_org`, refused when the register got a new
version after the preview. Admins only (`routing.register_scope.may_load_files`).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp_session import get_session

from helpline.commands.org import StaleFile
from helpline.web.console.org_changes import apply_org, digest, preview
from helpline.web.console.orgfile_nb import shown
from helpline.web.console.pages import render
from helpline.web.console.register_common import files_forbidden, log_read, register_user
from helpline.web.keys import SERVICES
from rota.orgfile import OrgFileError
from routing.register_scope import may_load_files

PENDING_TEXT = "register_import"  # session field: the previewed file's text
SECTION_TITLES = {
    "helpline": "Innstillinger",
    "kommune": "Kommuner",
    "team": "Team",
    "person": "Personer",
    "coverage": "Dekning",
    "rotation": "Rotasjoner",
    "override": "Vaktbytter",
    "foster_home": "Fosterhjem",
    "group": "Grupper",
    "access": "Tilganger",
}
NO_FILE = "Velg en fil eller lim inn innholdet i rotafilen."
NOT_UTF8 = "Filen må være tekst i UTF-8."
STALE = (
    "Registeret er endret siden forhåndsvisningen, eller forhåndsvisningen er for gammel. "
    "Last opp filen på nytt. Ingenting er endret."
)


def setup(app: web.Application, base: str) -> None:
    app.router.add_get(base + "/import", import_page)
    app.router.add_post(base + "/import", import_sent)
    app.router.add_post(base + "/import/bruk", import_applied)


async def import_page(request: web.Request) -> web.StreamResponse:
    user, _loaded = await register_user(request)
    if not may_load_files(user.scope):
        return await files_forbidden(request)
    return await render(request, "console/register_import.html", {"text": "", "errors": []})


async def _sent_text(request: web.Request) -> str | None:
    """The uploaded file, else the pasted text; None when neither has anything."""
    form = await request.post()
    upload = form.get("fil")
    if isinstance(upload, web.FileField):
        data = upload.file.read()
        if data.strip():
            return data.decode("utf-8")  # UnicodeDecodeError: the caller answers
    pasted = form.get("tekst")
    if isinstance(pasted, str) and pasted.strip():
        return pasted.replace("\r\n", "\n")
    return None


async def import_sent(request: web.Request) -> web.StreamResponse:
    user, _loaded = await register_user(request)
    if not may_load_files(user.scope):
        return await files_forbidden(request)
    try:
        text = await _sent_text(request)
    except UnicodeDecodeError:
        return await _refused(request, "", NOT_UTF8)
    if text is None:
        return await _refused(request, "", NO_FILE)
    try:
        changes = await preview(request.app[SERVICES], text)
    except OrgFileError as error:
        failed = {"text": text, "errors": [shown(e) for e in error.errors]}
        return await render(request, "console/register_import.html", failed, status=400)
    session = await get_session(request)
    session[PENDING_TEXT] = text
    await log_read(request, user, "console.register.preview", f"version:{changes.base_version}")
    return await render(
        request, "console/register_preview.html", {"preview": changes, "titles": SECTION_TITLES}
    )


async def import_applied(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    if not may_load_files(user.scope):
        return await files_forbidden(request)
    form = await request.post()
    session = await get_session(request)
    text = session.get(PENDING_TEXT)
    fresh = (
        isinstance(text, str)
        and form.get("digest") == digest(text)
        and form.get("versjon") == str(loaded.version)
    )
    if not fresh or not isinstance(text, str):
        return await _refused(request, "", STALE, status=409)
    try:
        version = await apply_org(request.app[SERVICES], text)
    except OrgFileError as error:  # valid at the preview; the loader has the last word
        context = {"text": text, "errors": [shown(e) for e in error.errors]}
        return await render(request, "console/register_import.html", context, status=400)
    except StaleFile as stale:  # dumped before edits made since: it would undo them
        del session[PENDING_TEXT]
        return await _refused(request, text, stale_file(stale), status=409)
    del session[PENDING_TEXT]
    await log_read(request, user, "console.register.load", f"version:{version}")
    raise web.HTTPSeeOther("/console/register?endret=lastet")


async def _refused(
    request: web.Request, text: str, message: str, *, status: int = 400
) -> web.StreamResponse:
    context = {"text": text, "errors": [], "error": message}
    return await render(request, "console/register_import.html", context, status=status)


def stale_file(stale: StaleFile) -> str:
    """Why a file based on an older register version is not loaded, in Norwegian."""
    return (
        f"Filen bygger på versjon {stale.base} av registeret, men registeret er nå på "
        f"versjon {stale.current}. Å laste den ville angre endringene som er gjort siden. "
        "Eksporter registeret på nytt, gjør endringene i den filen og last den inn."
    )
