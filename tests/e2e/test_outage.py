"""A running `helpline serve` loses its database and Redis mid-operation: calls still ring.

The service runs as a real process on the embedded defaults; the test then shuts its
Redis down and destroys its SQLite file under it, the way a disk or server failure would.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis

from helpline.twilio_signing import signed_headers
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN
from tests.e2e.served import Served, served
from tests.e2e.twilio_driver import incoming

pytestmark = pytest.mark.e2e

FALLBACK = "+4740000000"  # the demo's fallback_phone


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Served]:
    with served(tmp_path) as running:
        yield running


async def call(base: str, call_sid: str) -> tuple[int, str]:
    params = incoming(call_sid, "+4798765432", "+4767000001")
    url = f"{base}/twilio/voice"
    headers = signed_headers(url, params, SANDBOX_AUTH_TOKEN)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=params, headers=headers) as response:
            return response.status, await response.text()


def dialled(body: str) -> list[str]:
    return [number.text or "" for number in ET.fromstring(body).iter("Number")]


async def test_calls_ring_the_fallback_when_database_and_redis_die(service: Served) -> None:
    base, data_dir = service.url, service.data_dir
    await service.ready()
    status, body = await call(base, "CA-before")
    assert status == 200 and dialled(body) and dialled(body) != [FALLBACK]

    redis.Redis(unix_socket_path=str(data_dir / "redis.sock")).shutdown(nosave=True)
    for name in ("helpline.db", "helpline.db-wal", "helpline.db-shm"):
        path = data_dir / name
        if path.exists():
            path.write_bytes(b"\x00garbage" * 4096)

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/readyz") as response:
            assert response.status == 503
    status, body = await call(base, "CA-during")
    assert status == 200
    assert dialled(body) == [FALLBACK]
    assert "Fosterhjemstelefonen" in (ET.fromstring(body).findtext("Say") or "")
