"""A running `helpline serve` loses its database and Redis mid-operation: calls still ring.

The service runs as a real process on the embedded defaults; the test then shuts its
Redis down and destroys its SQLite file under it, the way a disk or server failure would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis

from helpline.twilio_signing import signed_headers
from helpline.web.twilio_auth import SANDBOX_AUTH_TOKEN
from tests.e2e.twilio_driver import incoming

pytestmark = pytest.mark.e2e

FALLBACK = "+4740000000"  # the demo's fallback_phone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def helpline(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "helpline.cli", *args], env=env, check=True,
                   capture_output=True, timeout=120)  # fmt: skip


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("HELPLINE_", "TWILIO_", "TELEGRAM_"))
    }  # fmt: skip
    env |= {"HELPLINE_DATA_DIR": str(tmp_path), "HELPLINE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    helpline(env, "migrate")
    helpline(env, "demo")
    process = subprocess.Popen(
        [sys.executable, "-m", "helpline.cli", "serve", "--port", str(port), "--no-jobs"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        redis_socket = tmp_path / "redis.sock"
        if redis_socket.exists():  # the test may have failed before stopping it
            try:
                redis.Redis(unix_socket_path=str(redis_socket)).shutdown(nosave=True)
            except redis.RedisError:
                pass


async def wait_until_up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the service did not come up")


async def call(base: str, call_sid: str) -> tuple[int, str]:
    params = incoming(call_sid, "+4798765432", "+4767000001")
    url = f"{base}/twilio/voice"
    headers = signed_headers(url, params, SANDBOX_AUTH_TOKEN)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=params, headers=headers) as response:
            return response.status, await response.text()


def dialled(body: str) -> list[str]:
    return [number.text or "" for number in ET.fromstring(body).iter("Number")]


async def test_calls_ring_the_fallback_when_database_and_redis_die(
    service: tuple[str, Path],
) -> None:
    base, data_dir = service
    await wait_until_up(base)
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
