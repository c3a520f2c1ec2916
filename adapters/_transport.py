"""The HTTP client the registry adapters share: httpx over httpcore's pool, with a cheaper check
of idle connections.

Before every request it sends and after every response it closes, httpcore's pool asks each
pooled connection whether the server has closed it (``get_extra_info("is_readable")``). Through
anyio's stream that question costs a ``getpeername`` system call and the building of anyio's
attribute table, before the one ``poll`` that answers it; with the eight requests of one
waive-check in flight it was a fifth of the service's CPU time. Here the stream keeps its socket
from the start and answers with the ``poll`` alone; and it sends each request in one system call
rather than three. Everything else is httpcore's own.
"""

from __future__ import annotations

import select
import socket
import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx

__all__ = ["IdleCheckBackend", "registry_client"]

# Bytes of a request held back before they are sent anyway (see _Stream.write).
FLUSH_BYTES = 64 * 1024

# httpcore's SOCKET_OPTION, which it does not export.
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def socket_readable(sock: socket.socket | None) -> bool:
    """True when a read would not block: an idle HTTP/1.1 connection that is readable has been
    closed by the server (or sent garbage), so the pool must drop it. No socket counts as closed."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")
        self._unsent = bytearray()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # httpcore writes a request's head, its body and an empty end separately: three sends,
        # each a system call. They are held here until the response is read (or enough has
        # gathered), so a registry request leaves in one.
        self._unsent += buffer
        if len(self._unsent) >= FLUSH_BYTES:
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        if self._unsent:
            data, self._unsent = bytes(self._unsent), bytearray()
            await self._inner.write(data, timeout)

    async def aclose(self) -> None:
        self._unsent.clear()
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await self._flush(timeout)
        # TLS runs over the same socket, so the readiness check stays the same.
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self._socket is not None:
            return socket_readable(self._socket)
        return self._inner.get_extra_info(info)


class IdleCheckBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, its streams wrapped to answer ``is_readable`` cheaply."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        ssl_context = httpx.create_ssl_context()  # loads the CA bundle: once, for both pools
        super().__init__(verify=ssl_context, limits=limits)
        # httpx takes no network backend, httpcore's pool does: build the pool as httpx would
        # (HTTP/1.1, default TLS context, these limits) with ours. tests/adapters checks that
        # this replacement still takes effect after an httpx upgrade.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=IdleCheckBackend(),
        )


def registry_client(limits: httpx.Limits) -> httpx.AsyncClient:
    """The one client all registry adapters share. No redirects: a registry must not send us
    elsewhere. No proxy from the environment either (a given transport turns that off in httpx):
    registries are reached directly on the government network."""
    return httpx.AsyncClient(transport=_Transport(limits), follow_redirects=False)
