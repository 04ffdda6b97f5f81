"""A real `helpline serve` process for e2e tests, set up the way the benchmarks set it up.

Sandbox mode on the embedded defaults (SQLite and Redis in the data directory), the demo
organisation loaded, no job runner; stopped (and its Redis with it) after the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import redis

from bench.harness import (
    Processes,
    Server,
    free_port,
    helpline_argv,
    run_command,
    service_env,
    wait_ready,
)
from helpline.settings import Settings


@dataclass(frozen=True)
class Served:
    """The running service: where it listens, its data directory and its settings."""

    url: str
    data_dir: Path
    env: dict[str, str]
    server: Server

    @property
    def settings(self) -> Settings:
        """The settings the service runs with (a command run beside it reads the same)."""
        return Settings.from_mapping(self.env)

    async def ready(self) -> None:
        """Wait until the service answers `/healthz`."""
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, self.url + "/healthz", self.server)


@contextmanager
def served(work: Path, extra: Mapping[str, str] | None = None) -> Iterator[Served]:
    """Migrate, load the demo and serve from `work` (the data directory) for the block;
    `extra` settings go on top (Twilio credentials and a fake's base URL, limits)."""
    port = free_port()
    env = {**service_env(os.environ, port, work, None, None), **(extra or {})}
    log = work / "service.log"
    run_command(helpline_argv("migrate"), env, work, log)
    run_command(helpline_argv("demo", "--force"), env, work, log)  # whatever was edited before
    try:
        with Processes(env, work, work) as procs:
            serve = procs.start(helpline_argv("serve", "--port", str(port), "--no-jobs"), "serve")
            yield Served(f"http://127.0.0.1:{port}", work, env, serve)
    finally:
        redis_socket = work / "redis.sock"
        if redis_socket.exists():  # the service stops its Redis, unless it could not
            try:
                redis.Redis(unix_socket_path=str(redis_socket)).shutdown(nosave=True)
            except redis.RedisError:
                pass
