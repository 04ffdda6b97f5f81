"""The console's 404: one page for a missing id and for one outside the user's scope, so
ids cannot be walked to learn what exists."""

from __future__ import annotations

from aiohttp import web

from helpline.web.console.pages import render


async def not_found(request: web.Request) -> web.Response:
    return await render(request, "console/not_found.html", status=404)
