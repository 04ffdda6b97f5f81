"""The fault proxy itself, in front of a local echo server (no PostgreSQL or Redis)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from tests.faults.proxy import FaultProxy, proxy_thread

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fault = FaultProxy("127.0.0.1", port)
    await fault.start()
    try:
        yield fault
    finally:
        await fault.stop()
        server.close()
        await server.wait_closed()


async def connect(proxy: FaultProxy) -> Stream:
    return await asyncio.open_connection(*proxy.address)


async def roundtrip(stream: Stream, data: bytes = b"ping") -> bytes:
    reader, writer = stream
    writer.write(data)
    await writer.drain()
    return await asyncio.wait_for(reader.readexactly(len(data)), 5)


async def silent(reader: asyncio.StreamReader, seconds: float = 0.3) -> bool:
    """Whether nothing (not even EOF or a reset) arrives within `seconds`."""
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return True
    return False


async def test_pass_forwards_both_ways(proxy: FaultProxy) -> None:
    stream = await connect(proxy)
    assert await roundtrip(stream, b"hello") == b"hello"
    assert await roundtrip(stream, b"x" * 200_000) == b"x" * 200_000
    stream[1].close()


async def test_cut_closes_open_connections_and_refuses_new_ones(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    assert await roundtrip((reader, writer)) == b"ping"
    await proxy.set_mode("cut")
    assert await asyncio.wait_for(reader.read(1), 5) == b""  # closed: EOF
    with pytest.raises(ConnectionRefusedError):
        await connect(proxy)
    await proxy.set_mode("pass")
    stream = await connect(proxy)  # the same port again
    assert await roundtrip(stream) == b"ping"
    stream[1].close()
    writer.close()


async def test_blackhole_swallows_new_connections_and_stalls_open_ones(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    assert await roundtrip((reader, writer)) == b"ping"
    await proxy.set_mode("blackhole")
    new_reader, new_writer = await connect(proxy)  # accepted
    new_writer.write(b"anyone?")
    await new_writer.drain()
    assert await silent(new_reader)  # swallowed: no answer, no EOF, no RST
    writer.write(b"held")
    await writer.drain()
    assert await silent(reader)  # the open one stalls
    await proxy.set_mode("pass")
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"  # held, not lost
    assert proxy.counts.swallowed == 1
    writer.close()
    new_writer.close()


async def test_slow_delays_each_chunk(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    await proxy.set_mode("slow", latency=1.0)
    writer.write(b"slow")
    await writer.drain()
    assert await silent(reader, 0.3)  # not yet: a second each way
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"slow"
    await proxy.set_mode("pass")
    assert proxy.latency == 0.0
    writer.close()


async def test_reset_sends_rst_to_open_and_new_connections(proxy: FaultProxy) -> None:
    reader, writer = await connect(proxy)
    assert await roundtrip((reader, writer)) == b"ping"
    await proxy.set_mode("reset")
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(1), 5)
    new_reader, new_writer = await connect(proxy)
    with pytest.raises(ConnectionResetError):
        new_writer.write(b"x")
        await new_writer.drain()
        await asyncio.wait_for(new_reader.read(1), 5)
    assert proxy.counts.reset == 2
    await proxy.set_mode("pass")
    stream = await connect(proxy)
    assert await roundtrip(stream) == b"ping"
    stream[1].close()
    writer.close()
    new_writer.close()


async def test_unknown_mode_is_refused(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        await proxy.set_mode("drop")  # type: ignore[arg-type]  # the point: not a Mode


def test_proxy_thread_serves_blocking_callers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as upstream:
        with proxy_thread("127.0.0.1", upstream.getsockname()[1]) as proxy:
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
                server_side, _ = upstream.accept()
                with server_side:
                    client.sendall(b"through")
                    assert server_side.recv(16) == b"through"
                    proxy.set_mode("cut")
                    assert client.recv(16) == b""
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
