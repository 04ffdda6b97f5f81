"""What the console's tests share: the demo loaded, a test client, forms with their CSRF
token, and the login codes the sandbox keeps in the outbox."""

from __future__ import annotations

import re

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.db.models import AccessLogRow, OutboxRow

Client = TestClient[web.Request, web.Application]

KARI = "+4791234567"  # koordinator of Asker (and in Asker's team)
SIRI = "+4791110000"  # admin, in no team
NINA = "+4795512340"  # Barnevernvakta Vest, a vakt for Asker and Bærum
UNREGISTERED = "+4791119999"

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_CODE = re.compile(r"\b([0-9]{6})\b")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found[1]


async def form_token(client: Client, path: str) -> str:
    response = await client.get(path)
    assert response.status == 200, response.status
    return csrf_of(await response.text())


async def post_form(client: Client, path: str, fields: dict[str, str]) -> ClientResponse:
    return await client.post(path, data=fields, allow_redirects=False)


async def ask_code(client: Client, phone: str) -> ClientResponse:
    token = await form_token(client, "/console/login")
    return await post_form(client, "/console/login", {"csrf": token, "phone": phone})


async def send_code(client: Client, code: str) -> ClientResponse:
    token = await form_token(client, "/console/login/code")
    return await post_form(client, "/console/login/code", {"csrf": token, "code": code})


async def login_sms(services: Services, phone: str) -> list[OutboxRow]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.to == phone).order_by(OutboxRow.id)
        )
        return [row for row in rows if row.kind == "login"]


async def last_code(services: Services, phone: str) -> str:
    rows = await login_sms(services, phone)
    assert rows, "no login SMS"
    found = _CODE.search(rows[-1].body)
    assert found
    return found[1]


async def log_in(client: Client, services: Services, phone: str = KARI) -> None:
    response = await ask_code(client, phone)
    assert response.status == 303
    response = await send_code(client, await last_code(services, phone))
    assert (response.status, response.headers["Location"]) == (303, "/console/")


async def access_entries(services: Services) -> list[tuple[str, str, str]]:
    """(actor, action, target) of the access log, oldest first."""
    async with services.sessions() as session:
        rows = await session.scalars(select(AccessLogRow).order_by(AccessLogRow.id))
        return [(r.actor, r.action, r.target) for r in rows]
