"""What the service benchmarks share: figures, percentiles, ports and process helpers."""

from __future__ import annotations

import math
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


class BenchError(RuntimeError):
    """A benchmark could not set up or run what it measures."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure; `ok` is None when it has no target."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


def helpline_argv(*args: str) -> list[str]:
    """The command line that runs `helpline ARGS` with this interpreter."""
    return [sys.executable, "-m", "helpline.cli", *args]


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of a log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def terminated(signum: int, _frame: object) -> None:
    """A SIGTERM handler that unwinds, so the benchmark stops its servers."""
    raise SystemExit(128 + signum)  # unwinds through `run`, which stops both servers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile `q` (0 < q <= 1) of ascending `sorted_values`."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < q <= 1:
        raise ValueError(f"quantile {q} is not in (0, 1]")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


async def reset_stores(database_url: str, redis_url: str) -> None:
    """Empty the PostgreSQL schema and the Redis database the service will use."""
    if not database_url.startswith("postgresql"):
        raise BenchError(f"can only reset PostgreSQL, not {database_url.split(':')[0]}")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    client = aioredis.from_url(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
