"""A token's scope on list and detail, its last use, and the access log of API reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.engine import Connection

from helpline.bootstrap import Services
from helpline.db.models import AccessLogRow, ApiTokenRow, ContactRow
from tests.conftest import FrozenClock
from tests.e2e.api_setup import (
    ADMIN_TOKEN,
    ASKER_TOKEN,
    HANSEN,
    MONDAY_10,
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
    async with services.sessions() as session, session.begin():
        session.add(
            ContactRow(
                channel="sms",
                kommune_id=None,
                caller="+4790000002",
                caller_masked="+47•••••002",
                helpline_number="+4767000099",
                started_at=MONDAY_10,
                outcome="in_progress",
                plan="[]",
            )
        )
    yield client
    await client.close()


async def _ids(client: Client, query: str = "", token: str = ASKER_TOKEN) -> list[str | None]:
    status, body = await get_json(client, f"/api/contacts{query}", token=token)
    assert status == 200
    return sorted((c["kommune"] for c in body["contacts"]), key=str)


async def test_a_koordinator_lists_only_the_kommuner_of_the_scope(client: Client) -> None:
    assert await _ids(client) == ["asker"]
    assert await _ids(client, "?kommune=asker") == ["asker"]
    assert await _ids(client, "?kommune=baerum") == []  # outside: like a kommune with none
    assert await _ids(client, "?kommune=oslo") == []
    assert await _ids(client, token=ADMIN_TOKEN) == [None, "asker", "baerum"]


async def _contact_id(services: Services, kommune: str | None) -> int:
    async with services.sessions() as session:
        in_kommune = (
            ContactRow.kommune_id.is_(None) if kommune is None else ContactRow.kommune_id == kommune
        )
        found = await session.scalar(select(ContactRow.id).where(in_kommune))
    assert found is not None
    return found


async def _answer(client: Client, path: str) -> tuple[int, dict[str, str], bytes]:
    response = await client.get(path, headers=auth(ASKER_TOKEN))
    # The date and the request id differ from one answer to the next, whatever it says.
    headers = {
        k: v for k, v in response.headers.items() if k.lower() not in ("date", "x-request-id")
    }
    return response.status, headers, await response.read()


@pytest.mark.parametrize("kommune", ["baerum", None])
async def test_an_out_of_scope_contact_answers_exactly_like_a_missing_one(
    client: Client, services: Services, kommune: str | None
) -> None:
    contact_id = await _contact_id(services, kommune)
    before = await snapshot(services)
    out_of_scope = await _answer(client, f"/api/contacts/{contact_id}")
    assert await snapshot(services) == before  # a refusal stores nothing
    async with services.sessions() as session, session.begin():
        await session.execute(delete(ContactRow).where(ContactRow.id == contact_id))
    missing = await _answer(client, f"/api/contacts/{contact_id}")
    assert out_of_scope == missing
    assert missing[0] == 404 and json.loads(missing[2]) == {"error": f"no contact {contact_id}"}


async def test_a_koordinator_reads_a_contact_in_scope(client: Client, services: Services) -> None:
    contact_id = await _contact_id(services, "asker")
    status, detail = await get_json(client, f"/api/contacts/{contact_id}", token=ASKER_TOKEN)
    assert status == 200 and detail["caller"] == HANSEN


async def _last_used(services: Services, name: str) -> Any:
    async with services.sessions() as session:
        return await session.scalar(
            select(ApiTokenRow.last_used_at).where(ApiTokenRow.name == name)
        )


async def test_last_use_is_noted_on_success_at_most_once_a_minute(
    client: Client, services: Services, clock: FrozenClock
) -> None:
    assert (await get_json(client, "/api/contacts/999999", token=ASKER_TOKEN))[0] == 404
    assert await _last_used(services, "asker-kari") is None  # a refusal stores nothing
    await _ids(client)
    assert await _last_used(services, "asker-kari") == MONDAY_10
    clock.now = MONDAY_10 + timedelta(seconds=30)
    await _ids(client)
    assert await _last_used(services, "asker-kari") == MONDAY_10
    clock.now = MONDAY_10 + timedelta(minutes=2)
    await _ids(client)
    assert await _last_used(services, "asker-kari") == clock.now


async def test_api_reads_are_recorded_with_actor_target_and_client(
    client: Client, services: Services
) -> None:
    contact_id = await _contact_id(services, "asker")
    await get_json(client, "/api/contacts?since=2026-11-23T10:00%2B01:00&limit=5", ASKER_TOKEN)
    await get_json(client, f"/api/contacts/{contact_id}", ASKER_TOKEN)
    assert await access_log(services) == [
        ("api:asker-kari", "api", "contacts.list", "since=2026-11-23T09:00:00Z&limit=5"),
        ("api:asker-kari", "api", "contact.read", str(contact_id)),
    ]
    async with services.sessions() as session:
        rows = list(await session.scalars(select(AccessLogRow)))
    assert {(r.client, r.at) for r in rows} == {("127.0.0.1", MONDAY_10)}


@pytest.fixture
def access_log_broken(services: Services) -> Iterator[None]:
    """The database refuses every write to the access log (a full disk, a revoked grant)."""

    def refuse(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG"):
            raise RuntimeError("the access log cannot be written")

    engine = services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", refuse)
    yield
    event.remove(engine, "before_cursor_execute", refuse)


@pytest.mark.parametrize("path", ["/api/contacts", "/api/contacts/{id}"])
@pytest.mark.usefixtures("access_log_broken")
async def test_no_data_is_returned_when_the_read_cannot_be_recorded(
    client: Client, services: Services, path: str
) -> None:
    contact_id = await _contact_id(services, "asker")
    response = await client.get(path.format(id=contact_id), headers=auth(ASKER_TOKEN))
    body = await response.text()
    assert response.status == 500
    assert HANSEN not in body and "hansen" not in body.lower() and "asker" not in body
    assert await access_log(services) == []
    assert await _last_used(services, "asker-kari") is None
