"""Rendering console pages: the layout's navigation, the user, the CSRF token."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from helpline import access_log
from helpline.settings import Settings
from helpline.web.console.sessions import csrf_token
from helpline.web.keys import SERVICES
from routing.access import Scope
from routing.register_scope import has_register

#: The console's pages by their Norwegian names (the link texts), in the issue's order;
#: only pages that exist are listed.
NAV: tuple[tuple[str, str], ...] = (
    ("Oversikt", "/console/"),
    ("Vaktplan", "/console/vaktplan"),
    ("Register", "/console/register"),
    ("Innboks", "/console/innboks"),
    ("Kontaktlogg", "/console/kontaktlogg"),
    ("Statistikk", "/console/statistikk"),
    ("Grupper", "/console/grupper"),
    ("Arrangementer", "/console/arrangementer"),
    ("Tilgangslogg", "/console/tilgangslogg"),
    ("Telefonsimulator", "/console/telefonsimulator"),
)
#: Pages only some roles have (the others get 404 or 403 there): not in their navigation.
NAV_ROLES: dict[str, frozenset[str]] = {
    "/console/kontaktlogg": frozenset({"admin", "koordinator"}),
    "/console/statistikk": frozenset({"admin", "koordinator"}),
    "/console/arrangementer": frozenset({"admin", "koordinator"}),
    "/console/tilgangslogg": frozenset({"admin"}),
}

ROLE_NAMES = {"admin": "administrator", "koordinator": "koordinator", "vakt": "vakt"}


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """Who is logged in: a person of the register and what they may see."""

    person: str
    name: str
    scope: Scope

    def reader(self, request: web.Request) -> access_log.Reader:
        """The access log's reader for this user's request."""
        return access_log.Reader("console", self.person, request.remote)


USER = web.RequestKey("console_user", ConsoleUser)

#: Pages of `NAV` that only some see (the pages themselves answer 404 to the others).
NAV_ONLY: dict[str, Callable[[ConsoleUser, Settings], bool]] = {
    "/console/register": lambda user, _settings: has_register(user.scope),
    "/console/telefonsimulator": lambda user, settings: (
        settings.sandbox and has_register(user.scope)
    ),
}


def nav_for(user: ConsoleUser | None, settings: Settings) -> tuple[tuple[str, str], ...]:
    """The navigation `user` sees: the pages their role has, and of those that only some
    see (`NAV_ONLY`), the ones they may."""
    if user is None:
        return ()
    role = user.scope.role
    return tuple(
        (label, href)
        for label, href in NAV
        if role in NAV_ROLES.get(href, frozenset({role}))
        and NAV_ONLY.get(href, _always)(user, settings)
    )


def _always(_user: ConsoleUser, _settings: Settings) -> bool:
    return True


async def render(
    request: web.Request,
    template: str,
    context: Mapping[str, object] | None = None,
    *,
    status: int = 200,
    forms: bool = True,
) -> web.Response:
    """A console page: the template with the layout's values. A page without forms
    (`forms=False`) leaves the session untouched: a request that came without the
    session cookie then gets no new one in its place."""
    session = await get_session(request)
    user = request.get(USER)
    values = {
        "csrf_field": "csrf",
        "csrf_token": csrf_token(session) if forms else "",
        "user": user,
        "role_name": ROLE_NAMES[user.scope.role] if user else None,
        "nav": nav_for(user, request.app[SERVICES].settings),
        "current": request.path,
        "error": None,  # a form's error, shown beside its field
        "notice": None,
        **(context or {}),
    }
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    return response
