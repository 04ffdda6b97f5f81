"""A TCP fault proxy on 127.0.0.1: what sits between the service and PostgreSQL or Redis
in the fault run, and breaks the line on demand.

Modes (`FaultProxy.set_mode`):

* `pass` — bytes flow both ways (after `latency` seconds each way in `slow`);
* `cut` — the listening socket is closed (new connections are refused) and every open
  connection is closed on both sides, as when the server process dies;
* `blackhole` — new connections are accepted and whatever they send is swallowed, no
  answer and no RST; open connections stall (their bytes are held, not lost, and flow
  again when the mode goes back to `pass`), as when a network path silently drops packets;
* `slow` — every chunk is delayed by `latency` seconds in each direction;
* `reset` — every open connection, and every new one, is reset (RST: SO_LINGER 0).

`FaultProxy` runs in the caller's event loop; `ProxyThread` runs one in a thread of its
own, for tests and benchmarks that also block (waiting for processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

Mode = Literal["pass", "cut", "blackhole", "slow", "reset"]
MODES: tuple[Mode, ...] = ("pass", "cut", "blackhole", "slow", "reset")
CHUNK = 65536
T = TypeVar("T")


@dataclass(eq=False)
class _Link:
    """One proxied connection: the client's side, the upstream side (None while
    swallowed) and the two pumps between them."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@dataclass
class Counts:
    """What the proxy saw: connections accepted, refused (reset on accept), swallowed,
    and connections reset or closed by a fault."""

    accepted: int = 0
    swallowed: int = 0
    reset: int = 0
    closed: int = 0


class FaultProxy:
    """Forwards 127.0.0.1:`port` to `upstream_host`:`upstream_port`, with faults."""

    def __init__(
        self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.host, self.port = host, port
        self.mode: Mode = "pass"
        self.latency = 0.0
        self.counts = Counts()
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._flowing = asyncio.Event()  # set unless blackholed
        self._flowing.set()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    async def start(self) -> None:
        """Listen (on a free port the first time, on the same port after a cut)."""
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, reuse_address=True
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening, close every connection and wait for their handlers to end."""
        await self._stop_listening()
        for link in list(self._links):
            self._close(link)
            for task in link.tasks:
                task.cancel()
        # A handler must end normally: Python 3.11's stream server logs a cancelled one.
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def set_mode(self, mode: Mode, latency: float = 0.0) -> None:
        """Switch to `mode`; open connections are cut, stalled, slowed or reset at once."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode, self.latency = mode, latency if mode == "slow" else 0.0
        if mode == "blackhole":
            self._flowing.clear()
        else:
            self._flowing.set()
        if mode == "cut":
            await self._stop_listening()
            for link in list(self._links):
                self._close(link)
                self.counts.closed += 1
        elif self._server is None:
            await self.start()
        if mode == "reset":
            for link in list(self._links):
                self._reset(link)

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        link = _Link(writer)
        self.counts.accepted += 1
        if self.mode == "reset":
            self._reset(link)
            return
        if self.mode == "blackhole":
            self.counts.swallowed += 1
            self._links.add(link)
            link.tasks = [asyncio.create_task(self._swallow(link, reader))]
            await asyncio.gather(*link.tasks, return_exceptions=True)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            self._reset(link)  # the upstream refused: so do we
            return
        link.upstream = up_writer
        self._links.add(link)
        link.tasks = [
            asyncio.create_task(self._pump(link, reader, up_writer)),
            asyncio.create_task(self._pump(link, up_reader, writer)),
        ]
        await asyncio.gather(*link.tasks, return_exceptions=True)
        self._close(link)

    async def _swallow(self, link: _Link, reader: asyncio.StreamReader) -> None:
        """Read and drop what a blackholed connection sends, until its client gives up."""
        try:
            while await reader.read(CHUNK):
                pass
        except OSError:
            pass
        finally:
            self._close(link)

    async def _pump(
        self, link: _Link, source: asyncio.StreamReader, sink: asyncio.StreamWriter
    ) -> None:
        try:
            while data := await source.read(CHUNK):
                await self._flowing.wait()  # blackholed: held until the path heals
                if self.latency:
                    await asyncio.sleep(self.latency)
                if link not in self._links:
                    return
                sink.write(data)
                await sink.drain()
        except OSError:
            pass
        finally:
            self._close(link)

    def _close(self, link: _Link) -> None:
        """Close both sides with a FIN (or leave an already closed link alone)."""
        self._links.discard(link)
        for side in (link.client, link.upstream):
            if side is not None and not side.is_closing():
                side.close()

    def _reset(self, link: _Link) -> None:
        """Reset the client's side (SO_LINGER 0, then close: the kernel sends RST)."""
        self.counts.reset += 1
        self._links.discard(link)
        sock = link.client.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        link.client.transport.abort()
        if link.upstream is not None:
            link.upstream.transport.abort()


class ProxyThread:
    """A `FaultProxy` running in a thread of its own, driven from any thread."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = self._run(self._make(upstream_host, upstream_port))

    async def _make(self, host: str, port: int) -> FaultProxy:
        proxy = FaultProxy(host, port)
        await proxy.start()
        return proxy

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(timeout=10)

    @property
    def port(self) -> int:
        return self.proxy.port

    @property
    def mode(self) -> Mode:
        return self.proxy.mode

    @property
    def counts(self) -> Counts:
        return self.proxy.counts

    def set_mode(self, mode: Mode, latency: float = 0.0) -> None:
        """Switch the proxy's mode (see `FaultProxy.set_mode`), waiting until it applies."""
        self._run(self.proxy.set_mode(mode, latency))

    def close(self) -> None:
        """Stop the proxy and its thread."""
        try:
            self._run(self.proxy.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()


@contextmanager
def proxy_thread(upstream_host: str, upstream_port: int) -> Iterator[ProxyThread]:
    """A `ProxyThread` to `upstream_host`:`upstream_port` for the block."""
    proxy = ProxyThread(upstream_host, upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
