"""Health checks and calendar feeds of the running web app."""

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient
from icalendar import Calendar

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.engine import make_engine
from helpline.db.register import calendar_feeds, rotate_feed
from helpline.web.feeds import feed_path
from tests.conftest import app_client

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client = await app_client(services)
    yield client
    await client.close()


async def test_healthz_and_readyz(client: TestClient[web.Request, web.Application]) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")
    assert health.status == 200
    assert ready.status == 200
    assert await ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_readyz_is_503_naming_an_unreachable_redis(services: Services) -> None:
    dead = aioredis.from_url("redis://127.0.0.1:1/0")
    client = await app_client(replace(services, redis=dead))
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.json() == {
            "status": "unavailable",
            "database": "ok",
            "redis": "error",
        }
    finally:
        await client.close()
        await dead.aclose()


async def test_readyz_is_503_naming_an_unreachable_database(services: Services) -> None:
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    client = await app_client(replace(services, engine=dead))
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert await response.json() == {
            "status": "unavailable",
            "database": "error",
            "redis": "ok",
        }
    finally:
        await client.close()
        await dead.dispose()


async def test_team_and_person_calendars_are_served_by_token(
    services: Services, client: TestClient[web.Request, web.Application]
) -> None:
    await load_text(services, demo_text())
    async with services.sessions() as session, session.begin():
        feeds = await calendar_feeds(session)
        team = next(key for key in feeds if key[0] == "team")
        person = next(key for key in feeds if key[0] == "person")
        tokens = [await rotate_feed(session, *key, services.clock()) for key in (team, person)]
    for token in tokens:
        assert token is not None
        response = await client.get(feed_path(token))
        assert response.status == 200
        assert response.content_type == "text/calendar"
        calendar = Calendar.from_ical(await response.read())
        events = list(calendar.walk("VEVENT"))
        assert events, "a demo team or person has duties in the coming months"
        assert all(str(e["DTSTART"].params["TZID"]) == "Europe/Oslo" for e in events)


async def test_a_rotated_calendar_token_stops_the_old_url_and_only_its_hash_is_stored(
    services: Services, client: TestClient[web.Request, web.Application]
) -> None:
    await load_text(services, demo_text())
    async with services.sessions() as session, session.begin():
        old = await rotate_feed(session, "person", "kari", services.clock())
        new = await rotate_feed(session, "person", "kari", services.clock())
    assert old is not None and new is not None
    assert (await client.get(feed_path(old))).status == 404
    assert (await client.get(feed_path(new))).status == 200
    async with services.sessions() as session:
        stored = {row.token_hash for row in (await calendar_feeds(session)).values()}
    assert old not in stored and new not in stored


async def test_an_unknown_calendar_token_is_404(
    services: Services, client: TestClient[web.Request, web.Application]
) -> None:
    await load_text(services, demo_text())
    response = await client.get(feed_path("not-a-token"))
    assert response.status == 404
