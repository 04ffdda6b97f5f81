"""What the benchmarks share: the service's environment and processes, signed posts,
figures, percentiles, tables and the store options of the command line.

A service benchmark runs `helpline` as processes of its own, in sandbox mode, in a
temporary directory (`workspace`): `service_env` is their environment, `run_command` the
set-up commands, `processes` the servers (always stopped), `wait_ready` and `wait_logged`
their readiness. The e2e tests that start a real `helpline serve` use the same pieces.

aiohttp, redis and SQLAlchemy are imported where they are used: `bench.rota` reports its
own process's memory, which must not include service libraries it never uses.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from helpline.twilio_signing import signed_headers

if TYPE_CHECKING:
    import aiohttp

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


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure; `ok` is None when it has no target."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None


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
    env = {
        k: v
        for k, v in base.items()
        if not k.startswith(SCRUBBED_PREFIXES) and k not in SCRUBBED_NAMES
    }
    env["HELPLINE_DATA_DIR"] = str(data_dir)
    env["HELPLINE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    if database_url:
        env["HELPLINE_DATABASE_URL"] = database_url
    if redis_url:
        env["HELPLINE_REDIS_URL"] = redis_url
    return env


def backend(database_url: str | None) -> str:
    """How a run stores its data, for the report."""
    if database_url is None:
        return "sqlite + embedded redis"
    return f"{database_url.split(':')[0].split('+')[0]} + redis"


def helpline_argv(*args: str) -> list[str]:
    """The command line that runs `helpline ARGS` with this interpreter."""
    return [sys.executable, "-m", "helpline.cli", *args]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def workspace(prefix: str, logs: Path | None) -> Iterator[tuple[Path, Path]]:
    """A temporary working directory for one run, and where its logs go (`logs`, if given)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        kept = logs.resolve() if logs else work
        kept.mkdir(parents=True, exist_ok=True)
        yield work, kept


async def reset_stores(database_url: str, redis_url: str) -> None:
    """Empty the PostgreSQL schema and the Redis database the service will use."""
    import redis.asyncio as aioredis
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

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


def stores(work: Coroutine[object, object, T], what: str) -> T:
    """Run `work` on the stores; their errors become a BenchError saying `what` failed."""
    from redis.exceptions import RedisError
    from sqlalchemy.exc import SQLAlchemyError

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
                argv,
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
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


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, wait, SIGKILL if it will not go."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Processes:
    """The processes started so far, each logging to `logs/NAME.log`."""

    def __init__(self, env: dict[str, str], cwd: Path, logs: Path) -> None:
        self.env, self.cwd, self.logs = env, cwd, logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, argv: list[str], name: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Server:
        """Start `argv` (in the service's environment unless `env` is given)."""
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                env=env if env is not None else self.env,
                cwd=cwd or self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started.append(proc)
        return Server(proc, log)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            stop(proc)


@contextmanager
def processes(env: dict[str, str], cwd: Path, logs: Path) -> Iterator[Processes]:
    """Processes for the block; stopped (SIGTERM, wait, SIGKILL) whatever happens."""
    started = Processes(env, cwd, logs)
    try:
        yield started
    finally:
        started.stop_all()


async def wait_ready(session: aiohttp.ClientSession, url: str, server: Server) -> None:
    """Poll `url` (a /healthz or /readyz) until it answers 200, for at most READY_TIMEOUT_S."""
    import aiohttp

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


def terminated(signum: int, _frame: object) -> None:
    """A SIGTERM handler that unwinds, so the benchmark stops its servers."""
    raise SystemExit(128 + signum)  # unwinds through `run`, which stops the servers


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
    import aiohttp

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


# --- figures and reports -----------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile `q` (0 < q <= 1) of ascending `sorted_values`."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < q <= 1:
        raise ValueError(f"quantile {q} is not in (0, 1]")
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class Columns:
    """How a bench lays out its figure table."""

    label: int
    value: int
    unit: int
    decimals: int = 3  # of values below 10; larger ones get 1
    whole_units: tuple[str, ...] = ("",)  # values in these units are shown as integers


def figure_table(figures: Sequence[Figure], columns: Columns) -> list[str]:
    """The figures as table lines, a header first; MISSED marks a missed target."""
    c = columns
    lines = [f"{'figure':<{c.label}}{'value':>{c.value}} {'unit':<{c.unit}} {'target':<10} status"]
    for f in figures:
        decimals = c.decimals if abs(f.value) < 10 else 1
        value = f"{f.value:,.0f}" if f.unit in c.whole_units else f"{f.value:,.{decimals}f}"
        status = "" if f.ok is None else ("ok" if f.ok else "MISSED")
        row = f"{f.label:<{c.label}}{value:>{c.value}} {f.unit:<{c.unit}} {f.target:<10} {status}"
        lines.append(row.rstrip())
    return lines


def figures_document(figures: Sequence[Figure]) -> dict[str, dict[str, object]]:
    """The figures for JSON, by key; a NaN value (nothing to measure) becomes null."""
    return {
        f.key: {**asdict(f), "value": None if math.isnan(f.value) else f.value} for f in figures
    }


def platform_meta() -> dict[str, object]:
    """Where the run ran, for the report."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


# --- the command line --------------------------------------------------------------------


def add_store_options(parser: argparse.ArgumentParser, redis_url: str) -> None:
    """`--database-url`, `--redis-url` (default: `redis_url`) and `--embedded`."""
    add = parser.add_argument
    add("--database-url", help=f"default: {DEFAULT_DATABASE_URL} (its schema is wiped)")
    add("--redis-url", help=f"default: {redis_url} (flushed)")
    add("--embedded", action="store_true", help="SQLite and embedded Redis in a temp directory")


def store_urls(
    parser: argparse.ArgumentParser, args: argparse.Namespace, redis_url: str
) -> tuple[str | None, str | None]:
    """The database and Redis URLs to run on; (None, None) is embedded."""
    if args.embedded and (args.database_url or args.redis_url):
        parser.error("--embedded runs on SQLite and the embedded Redis: no URLs with it")
    if args.embedded:
        return None, None
    return args.database_url or DEFAULT_DATABASE_URL, args.redis_url or redis_url


def guarded(work: Callable[[], T]) -> T | None:
    """Run a benchmark with SIGTERM unwinding it (so it stops its servers); None, after
    printing the error, when it raised a BenchError."""
    signal.signal(signal.SIGTERM, terminated)
    try:
        return work()
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
