"""Rendering console pages: the layout's navigation, the user, the CSRF token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from helpline import access_log
from helpline.web.console.sessions import csrf_token
from routing.access import Scope

#: The console's pages by their Norwegian names (the link texts), in the issue's order;
#: only pages that exist are listed.
NAV: tuple[tuple[str, str], ...] = (
    ("Oversikt", "/console/"),
    ("Vaktplan", "/console/vaktplan"),
    ("Innboks", "/console/innboks"),
    ("Kontaktlogg", "/console/kontaktlogg"),
    ("Statistikk", "/console/statistikk"),
    ("Grupper", "/console/grupper"),
    ("Arrangementer", "/console/arrangementer"),
    ("Tilgangslogg", "/console/tilgangslogg"),
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


def nav_for(user: ConsoleUser | None) -> tuple[tuple[str, str], ...]:
    """The navigation `user` sees: the pages their role has."""
    if user is None:
        return ()
    role = user.scope.role
    return tuple(e for e in NAV if role in NAV_ROLES.get(e[1], frozenset({role})))


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
        "nav": nav_for(user),
        "current": request.path,
        "error": None,  # a form's error, shown beside its field
        "notice": None,
        **(context or {}),
    }
    response = aiohttp_jinja2.render_template(template, request, values, status=status)
    return response
