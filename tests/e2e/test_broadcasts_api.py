"""`POST /api/broadcasts`: what it refuses (and that a refusal stores nothing), scope, dry
runs and times, in sandbox mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from helpline.bootstrap import Services
from tests.conftest import FrozenClock
from tests.e2e.api_setup import (
    ADMIN_TOKEN,
    ASKER_TOKEN,
    EXPIRED_TOKEN,
    Client,
    auth,
    snapshot,
    started,
)
from tests.unit.rota_fixtures import oslo

pytestmark = pytest.mark.e2e

TEXT = "Fagdag for fosterforeldre lørdag 5. desember. Påmelding til koordinator."


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = oslo(2026, 11, 23, 12)
    client = await started(services)
    yield client
    await client.close()


async def post(client: Client, body: Any, token: str | None = ADMIN_TOKEN) -> tuple[int, Any]:
    headers = auth(token) if token else {}
    response = await client.post("/api/broadcasts", json=body, headers=headers)
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"to": "kommune:asker"}, 400, "text is required"),
        ({"to": "kommune:asker", "text": "  "}, 400, "visible character"),
        ({"to": "kommune:asker", "text": "hei\x00"}, 400, "control characters"),
        ({"to": "kommune:asker", "text": "x" * 1600}, 400, "at most"),
        ({"to": "person:kari", "text": TEXT}, 400, "to: expected kind:id"),
        ({"to": "kommune:asker", "text": TEXT, "cc": "x"}, 400, "unknown field 'cc'"),
        ({"to": "kommune:asker", "text": TEXT, "dry_run": "yes"}, 400, "dry_run"),
        ({"to": "kommune:asker", "text": TEXT, "at": "i morgen"}, 400, "at: expected"),
        ({"to": "kommune:asker", "text": TEXT, "at": "2026-11-22T12:00"}, 409, "in the past"),
        ({"to": "kommune:asker", "text": TEXT, "at": "2028-01-01T12:00Z"}, 409, "a year ahead"),
        ({"to": "kommune:asker", "text": TEXT, "at": "2026-02-30T12:00"}, 409, "not a time"),
        ({"to": "kommune:oslo,home:hansen", "text": TEXT}, 404, "no kommune:oslo"),
        (["kommune:asker"], 400, "JSON object"),
    ],
)
async def test_refusals_store_nothing(
    client: Client, services: Services, body: Any, status: int, message: str
) -> None:
    before = await snapshot(services)
    code, answer = await post(client, body)
    assert code == status and message in answer["error"]
    assert await snapshot(services) == before


async def test_a_body_that_is_not_json_is_refused(client: Client) -> None:
    response = await client.post("/api/broadcasts", data="to=kommune:asker", headers=auth())
    assert response.status == 400 and "JSON" in (await response.json())["error"]


@pytest.mark.parametrize(
    ("audience", "status"),
    [
        ("kommune:asker", 201),
        ("group:asker-rf-nilsen,home:hansen,team:asker-bvt", 201),
        ("kommune:baerum", 404),  # another kommune's: as if there were none
        ("home:olsen", 404),
        ("group:baerum-nettverk", 404),
        ("team:bvv-vest", 404),  # it serves Bærum too
        ("home:nobody", 404),
    ],
)
async def test_a_koordinator_reaches_only_their_kommuner(
    client: Client, services: Services, audience: str, status: int
) -> None:
    before = await snapshot(services)
    code, answer = await post(client, {"to": audience, "text": TEXT}, ASKER_TOKEN)
    assert code == status, answer
    if status == 404:
        assert answer == {"error": f"no {audience}"}
        assert await snapshot(services) == before


async def test_tokens_are_required(client: Client) -> None:
    assert (await post(client, {"to": "kommune:asker", "text": TEXT}, None))[0] == 401
    assert (await post(client, {"to": "kommune:asker", "text": TEXT}, EXPIRED_TOKEN))[0] == 401


async def stored(services: Services) -> list[tuple[str, str]]:
    """Every row but the tokens' (a request that is answered notes when its token was used)."""
    return [row for row in await snapshot(services) if row[0] != "api_tokens"]


async def test_a_dry_run_counts_and_stores_nothing(client: Client, services: Services) -> None:
    before = await stored(services)
    code, answer = await post(
        client, {"to": "kommune:asker,kommune:baerum", "text": TEXT, "dry_run": True}
    )
    assert code == 200
    assert answer == {
        "dry_run": True,
        "audience": "kommune:asker,kommune:baerum",
        "send_at": "2026-11-23T12:00:00+01:00",
        "recipients": 10,
        "opted_out": 0,
        "telegram": 0,
        "sms": 10,
        "held_by_quiet_hours": 0,
    }
    assert await stored(services) == before


async def test_a_time_without_an_offset_is_oslo_and_quiet_hours_are_counted(
    client: Client,
) -> None:
    code, answer = await post(
        client, {"to": "home:hansen", "text": TEXT, "at": "2026-11-23T22:15", "dry_run": True}
    )
    assert code == 200
    assert answer["send_at"] == "2026-11-23T22:15:00+01:00"
    assert answer["held_by_quiet_hours"] == 2
    code, made = await post(client, {"to": "home:hansen", "text": TEXT, "at": "2026-11-24T14:00Z"})
    assert code == 201 and made["send_at"] == "2026-11-24T15:00:00+01:00" and made["id"] >= 1
