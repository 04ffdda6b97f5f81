"""The coordinators' API and the contact log, fed by calls driven like Twilio does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.cli import main
from helpline.commands.org import demo_text, load_text
from helpline.db.models import AccessLogRow, ApiTokenRow
from helpline.web.api import token_hash
from tests.conftest import FrozenClock, app_client
from tests.e2e.twilio_driver import TwilioDriver, incoming

pytestmark = pytest.mark.e2e

TOKEN = "coordinator-token-for-tests"
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def client(
    services: Services, clock: FrozenClock
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    async with services.sessions() as session, session.begin():
        session.add(ApiTokenRow(name="asker-koordinator", token_hash=token_hash(TOKEN),
                                created_at=MONDAY_10, role="admin", kommuner="",
                                expires_at=MONDAY_10 + timedelta(days=30)))  # fmt: skip
    client = await app_client(services)
    twilio = TwilioDriver(client, services.settings)
    await twilio.post("/twilio/voice", incoming("CA-1", "+4798765432", "+4767000001"))
    await twilio.post("/twilio/voice", incoming("CA-2", "+4790000001", "+4767000002"))
    await twilio.post("/twilio/status", {"CallSid": "CA-2", "CallStatus": "completed",
                                         "CallDuration": "7"})  # fmt: skip
    yield client
    await client.close()


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get_json(
    client: TestClient[web.Request, web.Application], path: str, token: str = TOKEN
) -> tuple[int, Any]:
    response = await client.get(path, headers=auth(token))
    return response.status, await response.json()


async def test_contacts_need_a_valid_bearer_token(
    client: TestClient[web.Request, web.Application],
) -> None:
    assert (await client.get("/api/contacts")).status == 401
    status, body = await get_json(client, "/api/contacts", token="wrong")
    assert status == 401 and body == {"error": "invalid bearer token"}


async def test_the_contact_log_lists_calls_with_masked_callers(
    client: TestClient[web.Request, web.Application],
) -> None:
    status, body = await get_json(client, "/api/contacts")
    assert status == 200
    by_home = {c["foster_home"]["id"] if c["foster_home"] else None: c for c in body["contacts"]}
    hansen, unknown = by_home["hansen"], by_home[None]
    assert hansen["kommune"] == "asker" and hansen["outcome"] == "in_progress"
    assert hansen["caller"] == "+47•••••432" and len(hansen["attempts"]) == 1
    assert hansen["attempts"][0]["role"] == "primary"
    assert unknown["kommune"] == "baerum" and unknown["outcome"] == "abandoned"
    assert unknown["duration_seconds"] == 7
    assert "+4798765432" not in json.dumps(body)


@pytest.mark.parametrize(
    ("query", "count"),
    [("kommune=asker", 1), ("kommune=baerum", 1), ("outcome=abandoned", 1),
     ("channel=sms", 0), ("since=2026-11-23T10:00:00%2B00:00", 0), ("limit=1", 1)],
)  # fmt: skip
async def test_contact_filters(
    client: TestClient[web.Request, web.Application], query: str, count: int
) -> None:
    status, body = await get_json(client, f"/api/contacts?{query}")
    assert status == 200 and len(body["contacts"]) == count


@pytest.mark.parametrize(
    "query", ["outcome=lost", "channel=fax", "since=yesterday", "since=2026-11-23", "limit=0"]
)
async def test_bad_filters_are_400_with_a_reason(
    client: TestClient[web.Request, web.Application], query: str
) -> None:
    status, body = await get_json(client, f"/api/contacts?{query}")
    assert status == 400 and body["error"]


async def test_reading_a_contact_shows_the_caller_and_is_recorded(
    client: TestClient[web.Request, web.Application], services: Services
) -> None:
    _, listing = await get_json(client, "/api/contacts?kommune=asker")
    contact_id = listing["contacts"][0]["id"]
    status, detail = await get_json(client, f"/api/contacts/{contact_id}")
    assert status == 200 and detail["caller"] == "+4798765432"
    assert (await get_json(client, "/api/contacts/999999"))[0] == 404
    async with services.sessions() as session:
        reads = list(await session.scalars(select(AccessLogRow)))
    assert [(r.target, r.actor, r.action, r.at) for r in reads] == [
        (str(contact_id), "api:asker-koordinator", "contact.read", MONDAY_10)]  # fmt: skip


async def test_the_openapi_document_describes_the_api_and_its_refs_resolve(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/api/openapi.json")
    document = await response.json()
    assert response.status == 200 and document["openapi"].startswith("3.1")
    assert {"/api/contacts", "/api/contacts/{id}"} <= set(document["paths"])
    refs = [ref for ref in _refs(document)]
    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


async def test_token_create_prints_a_token_the_api_accepts(
    client: TestClient[web.Request, web.Application],
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = services.settings
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HELPLINE_DATABASE_URL", settings.database_url)
    assert await asyncio.to_thread(main, ["token", "create", "baerum-koordinator"]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 40
    async with services.sessions() as session:
        stored = await session.scalar(select(ApiTokenRow.token_hash).where(
            ApiTokenRow.name == "baerum-koordinator"))  # fmt: skip
    assert stored == token_hash(token) != token
    status, body = await get_json(client, "/api/contacts", token=token)
    assert status == 200 and len(body["contacts"]) == 2
    assert await asyncio.to_thread(main, ["contacts", "--kommune", "asker", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["contacts"]
    assert listed["foster_home"] == {"id": "hansen", "name": "Familien Hansen"}
    assert await asyncio.to_thread(main, ["contacts"]) == 0
    table = capsys.readouterr().out
    assert "Familien Hansen" in table and "ukjent +47•••••001" in table
