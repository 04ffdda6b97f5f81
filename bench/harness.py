"""What the service benchmarks share: the service's environment and processes, signed
posts, timed pages and the store options of the command line (their figures: `bench.figures`).

A service benchmark runs `helpline` as processes of its own, in sandbox mode, in a
temporary directory: `service_setup` makes it (`service_env` is the environment, the stores
wiped, `helpline migrate` run) and yields a `Setup` to run more set-up commands and start
the servers (always stopped); `wait_ready` and `wait_logged` wait for them. The e2e tests
that start a real `helpline serve` use the same pieces.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from helpline.twilio_signing import signed_headers

T = TypeVar("T")

#: The default stores of the service benchmarks (each its own Redis db); both are WIPED.
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: Settings the service must not inherit (prefixes and names): it runs in sandbox mode.
SCRUBBED_PREFIXES = ("HELPLINE_", "TWILIO_", "TELEGRAM_")
SCRUBBED_NAMES = ("PORT",)
COMMAND_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class BenchError(RuntimeError):
    """A benchmark could not set up or run what it measures."""


# --- the service's environment -----------------------------------------------------------


def service_env(
    base: Mapping[str, str],
    port: int,
    data_dir: Path,
    database_url: str | None,
    redis_url: str | None,
) -> dict[str, str]:
    """The service's environment: sandbox mode, our URLs (None: the embedded defaults in
    `data_dir`), nothing inherited from HELPLINE_*, TWILIO_*, TELEGRAM_* or PORT."""
    kept = (k for k in base if not k.startswith(SCRUBBED_PREFIXES) and k not in SCRUBBED_NAMES)
    env = {k: base[k] for k in kept}
    env["HELPLINE_DATA_DIR"] = str(data_dir)
    env["HELPLINE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    if database_url:
        env["HELPLINE_DATABASE_URL"] = database_url
    if redis_url:
        env["HELPLINE_REDIS_URL"] = redis_url
    return env


@dataclass(frozen=True, slots=True)
class Stores:
    """Where a run keeps its data: PostgreSQL and Redis URLs, or None for the embedded
    SQLite and Redis in the service's data directory."""

    database_url: str | None = None
    redis_url: str | None = None

    @property
    def backend(self) -> str:
        """How the run stores its data, for the report."""
        if self.database_url is None:
            return "sqlite + embedded redis"
        return f"{self.database_url.split(':')[0].split('+')[0]} + redis"


def helpline_argv(*args: str) -> list[str]:
    """The command line that runs `helpline ARGS` with this interpreter."""
    return [sys.executable, "-m", "helpline.cli", *args]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def on_stores(work: Coroutine[object, object, T], what: str) -> T:
    """Run `work` on the stores; their errors become a BenchError saying `what` failed."""
    try:
        return asyncio.run(work)
    except (SQLAlchemyError, RedisError, OSError) as error:
        raise BenchError(f"could not {what}: {type(error).__name__}: {error}") from None


# --- processes ---------------------------------------------------------------------------


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of a log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _name(argv: Sequence[str]) -> str:
    """`migrate` for `python -m helpline.cli migrate`, else the whole command line."""
    return " ".join(argv[3:] if list(argv[1:3]) == ["-m", "helpline.cli"] else argv)


def run_command(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float = COMMAND_TIMEOUT_S
) -> None:
    """Run a set-up command to completion (at most `timeout` s); its output goes to `log`."""
    timeout = min(timeout, COMMAND_TIMEOUT_S)
    with log.open("ab") as out:
        try:
            result = subprocess.run(
                argv, env=env, cwd=cwd, stdout=out, stderr=out, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"{_name(argv)} took over {timeout:g} s") from None
    if result.returncode != 0:
        raise BenchError(f"{_name(argv)} exited {result.returncode}:\n{tail(log)}")


@dataclass(frozen=True, slots=True)
class Server:
    """A started process and the file its output goes to."""

    proc: subprocess.Popen[bytes]
    log: Path


class Processes:
    """Processes started in the block, each logging to `logs/NAME.log`; all are stopped
    (SIGTERM, wait, SIGKILL) when it ends, whatever happens."""

    def __init__(self, env: dict[str, str], cwd: Path, logs: Path) -> None:
        self.env, self.cwd, self.logs = env, cwd, logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, argv: list[str], name: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Server:
        """Start `argv` (in the service's environment unless `env` is given)."""
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            env = env if env is not None else self.env
            proc = subprocess.Popen(argv, env=env, cwd=cwd or self.cwd, stdout=out, stderr=out)
        self.started.append(proc)
        return Server(proc, log)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_exc: object) -> None:
        for proc in reversed(self.started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@dataclass(frozen=True, slots=True)
class Setup:
    """A service set up for one run: where it works and logs, its environment, its port
    and its processes; `left` bounds each set-up command (seconds)."""

    work: Path
    logs: Path
    env: dict[str, str]
    port: int
    procs: Processes
    left: Callable[[], float] | None = None

    @property
    def url(self) -> str:
        """Where the service listens, which is also the public URL it checks signatures for."""
        return self.env["HELPLINE_PUBLIC_URL"]

    def helpline(self, *args: str) -> None:
        """Run `helpline ARGS` to completion, a set-up step; its output goes to setup.log."""
        timeout = self.left() if self.left else COMMAND_TIMEOUT_S
        run_command(helpline_argv(*args), self.env, self.work, self.logs / "setup.log", timeout)


@contextmanager
def service_setup(
    prefix: str,
    logs: Path | None,
    stores: Stores,
    *,
    reset: bool = True,
    own_redis: bool = False,
    left: Callable[[], float] | None = None,
) -> Iterator[Setup]:
    """A migrated service in a fresh temporary directory (its logs in `logs`, if given),
    on these stores (None: the embedded ones in the data directory); PostgreSQL and Redis
    are wiped first unless `reset` is false. With `own_redis` the benchmark starts the
    embedded Redis itself, so it outlives any service process it kills. Everything started
    is stopped when the block ends."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, ExitStack() as stack:
        work, port = Path(tmp), free_port()
        kept = logs.resolve() if logs else work
        kept.mkdir(parents=True, exist_ok=True)
        data = work / "data"
        database_url, redis_url = stores.database_url, stores.redis_url
        env = service_env(os.environ, port, data, database_url, redis_url)
        if redis_url is None and own_redis:
            from helpline.embedded_redis import EmbeddedRedis

            embedded = EmbeddedRedis(data)
            embedded.start()
            stack.callback(embedded.stop)
        elif reset and database_url is not None and redis_url is not None:
            bound = left() if left else COMMAND_TIMEOUT_S
            reset_them = asyncio.wait_for(reset_stores(database_url, redis_url), bound)
            on_stores(reset_them, "reset the stores")
        procs = stack.enter_context(Processes(env, work, kept))
        setup = Setup(work, kept, env, port, procs, left)
        setup.helpline("migrate")
        yield setup


async def wait_ready(session: aiohttp.ClientSession, url: str, server: Server) -> None:
    """Poll `url` (a /healthz or /readyz) until it answers 200, for at most READY_TIMEOUT_S."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if (code := server.proc.poll()) is not None:
            raise BenchError(f"{url}: the server exited with {code}:\n{tail(server.log)}")
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.1)
    raise BenchError(f"{url} not ready after {READY_TIMEOUT_S:g} s:\n{tail(server.log)}")


async def wait_logged(server: Server, marker: str, what: str) -> None:
    """Wait until `server` has logged `marker`, for at most READY_TIMEOUT_S (`what` names
    the process in the error)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if (code := server.proc.poll()) is not None:
            raise BenchError(f"{what} exited with {code}:\n{tail(server.log)}")
        if marker in await asyncio.to_thread(server.log.read_text, errors="replace"):
            return
        await asyncio.sleep(0.05)
    raise BenchError(f"{what} did not start within {READY_TIMEOUT_S:g} s:\n{tail(server.log)}")


# --- driving -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One timed request: status (0: none, a network error or a time-out), body, seconds."""

    status: int
    body: bytes
    seconds: float
    error: str = ""  # the exception's type name when status is 0

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    form: dict[str, str],
    token: str,
    limit: aiohttp.ClientTimeout,
) -> Answer:
    """POST `form` to `url` signed as Twilio signs it; timed from after the signing."""
    headers = signed_headers(url, form, token)
    t0 = time.perf_counter()
    try:
        async with session.post(url, data=form, headers=headers, timeout=limit) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        detail = (str(error) or repr(error)).encode()
        return Answer(0, detail, time.perf_counter() - t0, type(error).__name__)
    return Answer(status, body, time.perf_counter() - t0)


async def get_timed(
    session: aiohttp.ClientSession, url: str, limit: aiohttp.ClientTimeout
) -> Answer:
    """GET `url` as the session's browser would (its cookies, no redirects followed), timed."""
    t0 = time.perf_counter()
    try:
        async with session.get(url, timeout=limit, allow_redirects=False) as response:
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        detail = (str(error) or repr(error)).encode()
        return Answer(0, detail, time.perf_counter() - t0, type(error).__name__)
    return Answer(status, body, time.perf_counter() - t0)


async def fan_out(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """`one(0)` .. `one(count - 1)` from `concurrency` clients, each taking the next index
    when it is free; the wall-clock seconds it took."""
    pending = iter(range(count))  # one shared iterator: the next free client takes the next

    async def client() -> None:
        for i in pending:
            await one(i)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(min(concurrency, count))))
    return time.perf_counter() - t0


# --- the command line --------------------------------------------------------------------


def bench_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """The command line of a benchmark: its module docstring is the help."""
    return argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def add_store_options(parser: argparse.ArgumentParser, redis_url: str) -> None:
    """`--database-url`, `--redis-url` (default: `redis_url`) and `--embedded`."""
    add = parser.add_argument
    add("--database-url", help=f"default: {DEFAULT_DATABASE_URL} (its schema is wiped)")
    add("--redis-url", help=f"default: {redis_url} (flushed)")
    add("--embedded", action="store_true", help="SQLite and embedded Redis in a temp directory")


def chosen_stores(
    parser: argparse.ArgumentParser, args: argparse.Namespace, redis_url: str
) -> Stores:
    """The stores the store options chose (`redis_url` is the bench's default)."""
    if args.embedded and (args.database_url or args.redis_url):
        parser.error("--embedded runs on SQLite and the embedded Redis: no URLs with it")
    if args.embedded:
        return Stores()
    return Stores(args.database_url or DEFAULT_DATABASE_URL, args.redis_url or redis_url)


class Failures(Protocol):
    """What a run reports of its requests."""

    @property
    def failures(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def first_error(self) -> str: ...


R = TypeVar("R", bound=Failures)


def report(
    outcome: R, as_json: bool, document: Callable[[R], object], table: Callable[[R], str]
) -> int:
    """Print a run's figures (JSON or the table); 2 when a request failed, else 0."""
    if as_json:
        print(json.dumps(document(outcome), indent=2, ensure_ascii=False))
    else:
        print(table(outcome))
    if outcome.failures:
        print(
            f"error: {outcome.failures:,} of {outcome.requests:,} requests failed; "
            f"first: {outcome.first_error}",
            file=sys.stderr,
        )
        return 2
    return 0


def guarded(work: Callable[[], T]) -> T | None:
    """Run a benchmark with SIGTERM unwinding it (so it stops its servers); None, after
    printing the error, when it raised a BenchError."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return work()
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the run, which stops the servers
