"""Adding, editing and deactivating a foster home in the Register.

The form's values go into a new organisation through `rota.edits` (the rota file's own
checks) and are loaded through `org_changes.apply_organisation`, `helpline load`'s path.
Each error is shown beside its field in Norwegian ("Ugyldig telefonnummer"). A koordinator
edits only foster homes of their kommuner; any other id answers 404, like a missing one.
A form made from an older version of the register is refused, so an edit never undoes
another change it did not see.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from helpline.bootstrap import LoadedOrg
from helpline.web.console.org_changes import apply_organisation
from helpline.web.console.orgfile_nb import lead
from helpline.web.console.pages import ConsoleUser, render
from helpline.web.console.register_common import log_read, register_user
from helpline.web.keys import SERVICES
from rota.edits import groups_with_home, new_id, split_phones, with_foster_home, without_foster_home
from rota.model import FosterHome
from rota.orgfile import OrgError, OrgFileError
from rota.phones import readable_phone
from routing.register_scope import may_edit_home

#: The loader's field names as the form names them.
FORM_FIELDS = {"name": "navn", "kommune": "kommune", "phones": "telefoner"}
FIELD_LEADS = {
    "navn": "Skriv navnet på fosterhjemmet.",
    "kommune": "Velg en av kommunene i listen.",
}
STALE = "Registeret er endret mens du redigerte. Se over feltene og lagre igjen."
IN_GROUP = "Fosterhjemmet er med i {group}. Ta det ut av gruppen i rotafilen først."


def setup(app: web.Application, base: str) -> None:
    homes = base + "/fosterhjem"
    app.router.add_get(homes + "/ny", new_page)
    app.router.add_post(homes + "/ny", new_sent)
    app.router.add_get(homes + "/{home}", edit_page)
    app.router.add_post(homes + "/{home}", edit_sent)
    app.router.add_post(homes + "/{home}/deaktiver", deactivate)


def _home(request: web.Request, user: ConsoleUser, loaded: LoadedOrg) -> FosterHome:
    """The foster home of the path, or 404 when missing or not the user's."""
    home_id = request.match_info["home"]
    home = next((h for h in loaded.org.foster_homes if h.id == home_id), None)
    if home is None or not may_edit_home(user.scope, home):
        raise web.HTTPNotFound()
    return home


def _kommuner(user: ConsoleUser, loaded: LoadedOrg) -> list[tuple[str, str]]:
    return [(k.id, k.name) for k in loaded.org.kommuner if user.scope.allows(k.id)]


async def _form(
    request: web.Request,
    user: ConsoleUser,
    loaded: LoadedOrg,
    home: FosterHome | None,
    values: Mapping[str, str],
    *,
    errors: Mapping[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    context = {
        "home": home,
        "values": values,
        "kommuner": _kommuner(user, loaded),
        "errors": errors or {},
        "general": general or [],
        "version": loaded.version,
    }
    return await render(request, "console/register_home.html", context, status=status)


def _values(home: FosterHome) -> dict[str, str]:
    phones = ", ".join(readable_phone(p) for p in home.phones)
    return {"navn": home.name, "kommune": home.kommune, "telefoner": phones}


async def new_page(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    kommuner = _kommuner(user, loaded)
    values = {"navn": "", "kommune": kommuner[0][0] if kommuner else "", "telefoner": ""}
    return await _form(request, user, loaded, None, values)


async def edit_page(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    home = _home(request, user, loaded)
    await log_read(request, user, "console.register.foster_home", f"foster_home:{home.id}")
    return await _form(request, user, loaded, home, _values(home))


async def new_sent(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    return await _save(request, user, loaded, None)


async def edit_sent(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    return await _save(request, user, loaded, _home(request, user, loaded))


async def _save(
    request: web.Request, user: ConsoleUser, loaded: LoadedOrg, home: FosterHome | None
) -> web.StreamResponse:
    form = await request.post()
    values = {key: str(form.get(key, "")).strip() for key in ("navn", "kommune", "telefoner")}
    if form.get("versjon") != str(loaded.version):
        return await _form(request, user, loaded, home, values, general=[STALE], status=409)
    if values["kommune"] not in dict(_kommuner(user, loaded)):
        errors = {"kommune": FIELD_LEADS["kommune"]}
        return await _form(request, user, loaded, home, values, errors=errors, status=400)
    taken = {h.id for h in loaded.org.foster_homes} | {"ny"}  # `ny` is the new-home page
    home_id = home.id if home else new_id(values["navn"], taken)
    fields = {
        "name": values["navn"],
        "kommune": values["kommune"],
        "phones": split_phones(values["telefoner"]),
    }
    try:
        org = with_foster_home(loaded.org, home_id, fields)
    except OrgFileError as error:
        errors, general = _form_errors(error.errors, home_id)
        return await _form(
            request, user, loaded, home, values, errors=errors, general=general, status=400
        )
    version = await apply_organisation(request.app[SERVICES], org)
    await log_read(
        request, user, "console.register.change", f"foster_home:{home_id} version:{version}"
    )
    raise web.HTTPSeeOther("/console/register?endret=" + ("lagret" if home else "ny"))


def _form_errors(errors: list[OrgError], home_id: str) -> tuple[dict[str, str], list[str]]:
    """The loader's errors beside the form's fields; those of other entries (which the
    edit caused) as general errors, by their lead only: they may name entries of other
    kommuner. A number that another foster home has is the number field's error."""
    fields: dict[str, str] = {}
    general: list[str] = []
    own = f"foster_home {home_id!r}"
    for error in errors:
        claimed = error.field == "phones" and "already belongs to" in error.message
        field = FORM_FIELDS.get(error.field) if error.entry == own or claimed else None
        if field is None:
            general.append(lead(error.message))
        else:
            fields.setdefault(field, FIELD_LEADS.get(field, lead(error.message)))
    return fields, general


async def deactivate(request: web.Request) -> web.StreamResponse:
    user, loaded = await register_user(request)
    home = _home(request, user, loaded)
    form = await request.post()
    values = _values(home)
    if form.get("versjon") != str(loaded.version):
        return await _form(request, user, loaded, home, values, general=[STALE], status=409)
    groups = groups_with_home(loaded.org, home.id)
    if groups:
        names = [f"«{g.name}»" if user.scope.allows(g.kommune) else "en gruppe" for g in groups]
        message = IN_GROUP.format(group="gruppen " + " og ".join(names))
        return await _form(request, user, loaded, home, values, general=[message], status=409)
    version = await apply_organisation(
        request.app[SERVICES], without_foster_home(loaded.org, home.id)
    )
    await log_read(
        request, user, "console.register.deactivate", f"foster_home:{home.id} version:{version}"
    )
    raise web.HTTPSeeOther("/console/register?endret=deaktivert")
