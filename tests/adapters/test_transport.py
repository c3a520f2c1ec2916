"""The registry client over real sockets on loopback: a server that drops idle connections, large
and empty request bodies, and the pool really using the cheaper idle check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from adapters._transport import FLUSH_BYTES, IdleCheckBackend, registry_client

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)


async def _request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 request's head and body (by Content-Length), or None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head, await reader.readexactly(length)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_the_pool_uses_the_idle_check_backend() -> None:
    # The backend is swapped into httpx's transport by hand; an httpx upgrade must not undo it.
    async with registry_client(LIMITS) as client:
        transport = client._transport
        assert isinstance(transport._pool._network_backend, IdleCheckBackend)  # type: ignore[attr-defined]


async def test_a_connection_the_server_dropped_while_idle_is_not_reused(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    connections = 0

    async def answer_once_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections
        connections += 1
        if await _request(reader) is not None:
            # Keep-alive by HTTP's rules (no "Connection: close"), then the socket is closed:
            # what a registry's load balancer does to idle connections.
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    url = await serve(answer_once_then_hang_up)
    async with registry_client(LIMITS) as client:
        for _ in range(3):
            response = await client.get(url + "/v1/licences")
            assert (response.status_code, response.text) == (200, "ok")
            await asyncio.sleep(0.05)  # the server's close reaches us
    assert connections == 3


async def test_request_bodies_of_any_size_arrive_whole(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def echo_sizes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await _request(reader)) is not None:
            text = str(len(request[1])).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text))
            await writer.drain()
        writer.close()

    url = await serve(echo_sizes)
    async with registry_client(LIMITS) as client:
        for size in (0, 1, FLUSH_BYTES - 1, FLUSH_BYTES, 3 * FLUSH_BYTES + 7):
            response = await client.post(url + "/v1/certificates", content=b"x" * size)
            assert response.text == str(size)
        assert (await client.get(url + "/v1/licences")).text == "0"
