"""What the API tests share: the demo organisation with two calls, and tokens of each kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Table,
    Text,
    cast,
    func,
    literal,
    select,
    union_all,
)

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.models import AccessLogRow, ApiTokenRow, Base
from helpline.web.api import token_hash
from tests.conftest import app_client
from tests.e2e.twilio_driver import TwilioDriver, incoming

Client = TestClient[web.Request, web.Application]

MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADMIN_TOKEN = "admin-token-for-tests"
ASKER_TOKEN = "asker-token-for-tests"
EXPIRED_TOKEN = "expired-token-for-tests"
REVOKED_TOKEN = "revoked-token-for-tests"
HANSEN = "+4798765432"  # Familien Hansen, Asker


async def add_token(
    services: Services,
    name: str,
    token: str,
    *,
    role: str = "admin",
    kommuner: str = "",
    expires_at: datetime = MONDAY_10 + timedelta(days=30),
    revoked_at: datetime | None = None,
) -> None:
    async with services.sessions() as session, session.begin():
        session.add(
            ApiTokenRow(
                name=name,
                token_hash=token_hash(token),
                created_at=MONDAY_10,
                person_id="kari",
                role=role,
                kommuner=kommuner,
                expires_at=expires_at,
                revoked_at=revoked_at,
            )
        )


async def started(services: Services) -> Client:
    """The app over the demo organisation: a call from Hansen (Asker), one from an
    unknown number to Bærum's line, and four tokens: admin, Asker's koordinator, one
    that expired at this very instant and one that was revoked."""
    await load_text(services, demo_text())
    await add_token(services, "admin-kari", ADMIN_TOKEN)
    await add_token(services, "asker-kari", ASKER_TOKEN, role="koordinator", kommuner="asker")
    await add_token(services, "old-kari", EXPIRED_TOKEN, expires_at=MONDAY_10)
    await add_token(services, "gone-kari", REVOKED_TOKEN, revoked_at=MONDAY_10)
    client = await app_client(services)
    twilio = TwilioDriver(client, services.settings)
    await twilio.post("/twilio/voice", incoming("CA-1", HANSEN, "+4767000001"))
    await twilio.post("/twilio/voice", incoming("CA-2", "+4790000001", "+4767000002"))
    await twilio.post(
        "/twilio/status", {"CallSid": "CA-2", "CallStatus": "completed", "CallDuration": "7"}
    )
    return client


def auth(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get_json(client: Client, path: str, token: str = ADMIN_TOKEN) -> tuple[int, Any]:
    response = await client.get(path, headers=auth(token))
    return response.status, await response.json()


async def access_log(services: Services) -> list[tuple[str, str, str, str]]:
    """(actor, source, action, target) of every access-log row, oldest first."""
    async with services.sessions() as session:
        rows = await session.scalars(select(AccessLogRow).order_by(AccessLogRow.id))
        return [(r.actor, r.source, r.action, r.target) for r in rows]


async def snapshot(services: Services) -> list[tuple[str, str]]:
    """Every row of every table as (table, text of its columns), in one query: the fuzz
    takes one around every request, to show that a refused one stored nothing."""
    async with services.engine.connect() as connection:
        rows = await connection.execute(_every_row())
        return sorted((str(name), str(text)) for name, text in rows)


@cache
def _every_row() -> CompoundSelect[str, str]:
    return union_all(
        *(select(literal(table.name), _row_text(table)) for table in Base.metadata.sorted_tables)
    )


def _row_text(table: Table) -> ColumnElement[str]:
    columns = [func.coalesce(cast(column, Text), "∅") for column in table.columns]
    text: ColumnElement[str] = columns[0]
    for column in columns[1:]:
        text = text + literal("|") + column
    return text
