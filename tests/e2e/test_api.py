"""The coordinators' API and the contact log, fed by calls driven like Twilio does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from helpline.bootstrap import Services
from helpline.cli import main
from helpline.db.models import ApiTokenRow
from helpline.web.api import token_hash
from tests.conftest import FrozenClock
from tests.e2e.api_setup import (
    EXPIRED_TOKEN,
    MONDAY_10,
    REVOKED_TOKEN,
    Client,
    access_log,
    auth,
    get_json,
    snapshot,
    started,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    client = await started(services)
    yield client
    await client.close()


async def test_contacts_need_a_valid_bearer_token(client: Client, services: Services) -> None:
    before = await snapshot(services)
    response = await client.get("/api/contacts")
    assert response.status == 401 and await response.json() == {"error": "missing bearer token"}
    status, body = await get_json(client, "/api/contacts", token="wrong")
    assert status == 401 and body == {"error": "invalid bearer token"}
    assert await snapshot(services) == before


@pytest.mark.parametrize(
    ("token", "error"),
    [(EXPIRED_TOKEN, "expired bearer token: ask for a new one"),
     (REVOKED_TOKEN, "invalid bearer token")],
)  # fmt: skip
@pytest.mark.parametrize("path", ["/api/contacts", "/api/contacts/1"])
async def test_expired_and_revoked_tokens_are_refused(
    client: Client, services: Services, token: str, error: str, path: str
) -> None:
    before = await snapshot(services)
    status, body = await get_json(client, path, token=token)
    assert status == 401 and body == {"error": error}
    assert await snapshot(services) == before  # no access-log row, no last_used_at


async def test_the_contact_log_lists_calls_with_masked_callers(client: Client) -> None:
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
     ("channel=sms", 0), ("since=2026-11-23T10:00:00%2B00:00", 0), ("limit=1", 1),
     ("since=2026-11-23T08:00Z", 2), ("limit=0001", 1), ("kommune=oslo", 0)],
)  # fmt: skip
async def test_contact_filters(client: Client, query: str, count: int) -> None:
    status, body = await get_json(client, f"/api/contacts?{query}")
    assert status == 200 and len(body["contacts"]) == count


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("outcome=lost", "outcome must be one of"),
        ("outcome=", "outcome must be one of"),
        ("channel=fax", "channel must be one of"),
        ("since=yesterday", "since must be an RFC 3339 date-time"),
        ("since=2026-11-23", "since must be an RFC 3339 date-time"),
        ("since=2026-11-23T10:00", "since must be an RFC 3339 date-time"),  # no offset
        ("since=2026-02-30T10:00Z", "since must be an RFC 3339 date-time"),
        ("since=0001-01-01T00:00%2B01:00", "since must be an RFC 3339 date-time"),  # < year 1
        ("since=", "since must be an RFC 3339 date-time"),
        ("limit=0", "limit must be a whole number from 1 to 1000"),
        ("limit=%C2%B2", "limit must be a whole number from 1 to 1000"),  # '²'.isdigit()
        ("limit=%D9%A3", "limit must be a whole number from 1 to 1000"),  # Arabic-Indic 3
        ("limit=1001", "limit must be a whole number from 1 to 1000"),
        ("limit=99999999999999999999", "limit must be a whole number from 1 to 1000"),
        ("limit=-1", "limit must be a whole number from 1 to 1000"),
        ("limit=1.0", "limit must be a whole number from 1 to 1000"),
        ("limit=", "limit must be a whole number from 1 to 1000"),
        ("kommune=", "kommune must be a kommune id"),
        ("kommune=asker%00", "kommune must be a kommune id"),
        ("kommune=" + "a" * 65, "kommune must be a kommune id"),
        ("limit=1&limit=2", "parameter limit given more than once"),
        ("kommune=asker&kommune=baerum", "parameter kommune given more than once"),
        ("page=2", "unknown parameter 'page': expected kommune, since, outcome, channel, limit"),
    ],
)
async def test_bad_parameters_are_400_with_a_reason_and_store_nothing(
    client: Client, services: Services, query: str, error: str
) -> None:
    before = await snapshot(services)
    status, body = await get_json(client, f"/api/contacts?{query}")
    assert status == 400 and body["error"].startswith(error) and set(body) == {"error"}
    assert await snapshot(services) == before


@pytest.mark.parametrize(
    "contact_id",
    ["abc", "-1", "0", "%C2%B2", "1.0", "1e3", "2147483648", "99999999999999999999", "%201"],
)
async def test_a_malformed_contact_id_is_400_and_stores_nothing(
    client: Client, services: Services, contact_id: str
) -> None:
    before = await snapshot(services)
    status, body = await get_json(client, f"/api/contacts/{contact_id}")
    assert status == 400
    assert body == {"error": "contact id must be a whole number from 1 to 2147483647"}
    assert await snapshot(services) == before


async def test_reading_a_contact_shows_the_caller_and_is_recorded(
    client: Client, services: Services
) -> None:
    _, listing = await get_json(client, "/api/contacts?kommune=asker")
    contact_id = listing["contacts"][0]["id"]
    status, detail = await get_json(client, f"/api/contacts/{contact_id}")
    assert status == 200 and detail["caller"] == "+4798765432"
    assert (await get_json(client, "/api/contacts/999999"))[0] == 404
    assert (await get_json(client, f"/api/contacts/{contact_id}?x=1"))[0] == 400
    assert await access_log(services) == [
        ("api:admin-kari", "api", "contacts.list", "kommune=asker&limit=100"),
        ("api:admin-kari", "api", "contact.read", str(contact_id)),
    ]


async def test_the_openapi_document_describes_the_api_and_its_refs_resolve(
    client: Client,
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


async def test_the_openapi_document_states_the_parameters_limits(client: Client) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    listing = document["paths"]["/api/contacts"]["get"]
    schemas = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert set(schemas) == {"kommune", "since", "outcome", "channel", "limit"}
    assert (schemas["limit"]["minimum"], schemas["limit"]["maximum"]) == (1, 1000)
    assert schemas["since"]["pattern"] and schemas["kommune"]["pattern"]
    assert set(listing["responses"]) == {"200", "400", "401"}
    detail = document["paths"]["/api/contacts/{id}"]["get"]
    [path_id] = detail["parameters"]
    assert (path_id["schema"]["minimum"], path_id["schema"]["maximum"]) == (1, 2_147_483_647)
    assert set(detail["responses"]) == {"200", "400", "401", "404"}
    assert "koordinator" in document["components"]["securitySchemes"]["bearer"]["description"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


async def test_token_create_prints_a_token_the_api_accepts(
    client: Client,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = services.settings
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HELPLINE_DATABASE_URL", settings.database_url)
    scope = ["--person", "ola", "--role", "koordinator", "--kommune", "baerum"]
    create = ["token", "create", "baerum-ola", *scope]
    assert await asyncio.to_thread(main, create) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 40
    async with services.sessions() as session:
        stored = await session.scalar(
            select(ApiTokenRow.token_hash).where(ApiTokenRow.name == "baerum-ola")
        )
    assert stored == token_hash(token) != token
    status, body = await get_json(client, "/api/contacts", token=token)
    assert status == 200 and [c["kommune"] for c in body["contacts"]] == ["baerum"]
    assert await asyncio.to_thread(main, ["contacts", "--kommune", "asker", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["contacts"]
    assert listed["foster_home"] == {"id": "hansen", "name": "Familien Hansen"}
    assert await asyncio.to_thread(main, ["contacts"]) == 0
    table = capsys.readouterr().out
    assert "Familien Hansen" in table and "ukjent +47•••••001" in table
    assert await asyncio.to_thread(main, ["token", "revoke", "baerum-ola"]) == 0
    assert "revoked token" in capsys.readouterr().out
    assert (await client.get("/api/contacts", headers=auth(token))).status == 401
