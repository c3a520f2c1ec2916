"""The HTTP client the registry adapters share: httpx, over a small connection pool and asyncio
sockets.

httpx and httpcore's HTTP/1.1 connections (h11) stay as they are; two parts under them are ours:

- ``ConnectionPool``: httpcore's pool reassesses every connection, several times over, whenever a
  request starts or a response ends; with the eight requests of one waive-check and their eight
  connections that bookkeeping was about a sixth of the service's CPU time, and it grows with the
  square of the connections open. Here an idle connection waits on a per-origin stack: taking one
  and giving it back do not look at the others.
- ``AsyncioBackend``: sockets on asyncio's own transports. httpcore's default goes through anyio,
  which opens a cancel scope around every read and write and asks a system call to learn whether
  an idle connection was closed; here the protocol object already knows. A request's head and
  body also leave in one send rather than three.

The registry client runs inside the service's asyncio event loop only (asyncio or uvloop).
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import httpcore
import httpx

__all__ = ["AsyncioBackend", "ConnectionPool", "registry_client"]

# Bytes of a request held back before they are sent anyway (see _Stream.write).
FLUSH_BYTES = 64 * 1024
# Bytes of a response buffered before the socket stops being read until the reader catches up.
READ_HIGH_WATER = 256 * 1024

# httpcore's SOCKET_OPTION, which it does not export.
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


# -- sockets -----------------------------------------------------------------------------------


class _Protocol(asyncio.Protocol):
    """Collects what arrives on one connection for the stream that reads it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: Exception | None = None
        self.reader: asyncio.Future[None] | None = None
        self.writable: asyncio.Future[None] | None = None  # set while the kernel's buffer is full
        self.reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close our side too: HTTP/1.1 has nothing more to say after the server's

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        self.resume_writing()

    def pause_writing(self) -> None:
        if self.writable is None:
            self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self.writable = self.writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_reader(self) -> None:
        waiter, self.reader = self.reader, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self.reading_paused and len(self.buffer) <= READ_HIGH_WATER // 4:
            self.reading_paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        return data


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol
        self._unsent = bytearray()

    @property
    def _transport(self) -> asyncio.Transport:
        transport = self._protocol.transport
        assert transport is not None  # set by connection_made before the stream exists
        return transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        p = self._protocol
        if not p.buffer and not p.eof:
            waiter = p.reader = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                raise httpcore.ReadTimeout(f"no answer within {timeout} s") from None
            finally:
                p.reader = None
        if p.buffer:
            return p.take(max_bytes)
        if p.error is not None:
            raise httpcore.ReadError(str(p.error) or type(p.error).__name__)
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # httpcore writes a request's head, its body and an empty end separately: three sends,
        # each a system call. They are held here until the response is read (or enough has
        # gathered), so a registry request leaves in one.
        self._unsent += buffer
        if len(self._unsent) >= FLUSH_BYTES:
            await self._flush(timeout)

    async def _flush(self, timeout: float | None) -> None:
        if not self._unsent:
            return
        transport = self._transport
        if transport.is_closing():
            self._unsent.clear()
            raise httpcore.WriteError("the connection is closed")
        transport.write(bytes(self._unsent))
        self._unsent.clear()
        waiter = self._protocol.writable
        if waiter is not None:
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                raise httpcore.WriteTimeout(f"could not send within {timeout} s") from None
        if self._protocol.error is not None:
            raise httpcore.WriteError(str(self._protocol.error))

    async def aclose(self) -> None:
        self._unsent.clear()
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await self._flush(timeout)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            self._transport.close()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from None
        except OSError as exc:  # ssl.SSLError included: a certificate that does not verify
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if tls is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = tls
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        p = self._protocol
        if info == "is_readable":
            # An idle HTTP/1.1 connection with something to read has been closed by the server
            # (or sent garbage): the pool must not lend it out again.
            return p.eof or bool(p.buffer) or self._transport.is_closing()
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        if name in ("ssl_object", "sockname", "peername", "socket"):
            return self._transport.get_extra_info(name)
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio's transports and protocols."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local_addr = (local_address, 0) if local_address else None
        return await _connect(
            lambda loop, protocol: loop.create_connection(
                protocol, host, port, local_addr=local_addr
            ),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await _connect(
            lambda loop, protocol: loop.create_unix_connection(protocol, path),
            timeout,
            socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


Opener = Callable[
    [asyncio.AbstractEventLoop, Callable[[], asyncio.Protocol]],
    Awaitable[tuple[asyncio.BaseTransport, asyncio.Protocol]],
]


async def _connect(
    open_connection: Opener, timeout: float | None, options: Iterable[SocketOption] | None
) -> _Stream:
    """A stream over the connection ``open_connection`` makes, within ``timeout``, with httpcore's
    errors for a refusal or a timeout. Socket options are set once connected (asyncio connects
    the sockets it creates itself)."""
    protocol = _Protocol()
    try:
        async with asyncio.timeout(timeout):
            await open_connection(asyncio.get_running_loop(), lambda: protocol)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    assert protocol.transport is not None
    sock: socket.socket = protocol.transport.get_extra_info("socket")
    for option in options or ():
        sock.setsockopt(*option)
    return _Stream(protocol)


# -- the pool ----------------------------------------------------------------------------------


class ConnectionPool:
    """HTTP/1.1 keep-alive connections to the registries, at most ``max_connections`` open.

    A request takes the most recently used idle connection to its origin, else opens one while
    fewer than ``max_connections`` are open (closing an idle connection to another origin to make
    room), else waits for one to come back, up to httpx's ``pool`` timeout. When its response is
    closed the connection goes back on its origin's stack, unless ``max_keepalive_connections``
    are idle already or the server ended it.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int | None,
        max_keepalive_connections: int | None,
        keepalive_expiry: float | None,
        network_backend: httpcore.AsyncNetworkBackend,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_connections = max_connections if max_connections is not None else 1 << 30
        self._max_idle = (
            min(max_keepalive_connections, self._max_connections)
            if max_keepalive_connections is not None
            else self._max_connections
        )
        self._keepalive_expiry = keepalive_expiry
        self._backend = network_backend
        # (scheme, host, port) → idle connections, the most recently used last
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        self._lent = 0  # connections carrying a request, or being opened for one
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def connections(self) -> int:
        """Connections open (idle or lent out)."""
        return self._idle_count + self._lent

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        scheme = request.url.scheme
        if scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        origin = request.url.origin
        timeout = request.extensions.get("timeout", {}).get("pool")
        while True:
            connection = await self._lend(origin, timeout)
            try:
                response = await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                await self._give_back(origin, connection, reuse=False)  # closed under us: again
                continue
            except BaseException:
                await self._give_back(origin, connection, reuse=False)
                raise
            return httpcore.Response(
                status=response.status,
                headers=response.headers,
                content=_ResponseStream(self, origin, connection, response.stream),
                extensions=response.extensions,
            )

    async def _lend(
        self, origin: httpcore.Origin, timeout: float | None
    ) -> httpcore.AsyncHTTPConnection:
        while True:
            stack = self._idle.get(_key(origin))
            while stack:
                connection = stack.pop()
                self._idle_count -= 1
                if connection.is_available() and not connection.has_expired():
                    self._lent += 1
                    return connection
                await _close(connection)  # past its keep-alive, or the server closed it
            if self.connections < self._max_connections or await self._close_an_idle_one():
                self._lent += 1
                return httpcore.AsyncHTTPConnection(
                    origin=origin,
                    ssl_context=self._ssl_context,
                    keepalive_expiry=self._keepalive_expiry,
                    http1=True,
                    http2=False,
                    network_backend=self._backend,
                )
            await self._wait(timeout)

    async def _close_an_idle_one(self) -> bool:
        for stack in self._idle.values():
            if stack:
                self._idle_count -= 1
                await _close(stack.pop(0))  # the one idle longest
                return True
        return False

    async def _wait(self, timeout: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # woken just as it gave up: the next in line goes instead
            else:
                waiter.cancel()
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise httpcore.PoolTimeout(f"no connection free within {timeout} s") from None
            raise

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _give_back(
        self, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection, *, reuse: bool
    ) -> None:
        self._lent -= 1
        if reuse and connection.is_idle() and self._idle_count < self._max_idle:
            self._idle.setdefault(_key(origin), []).append(connection)
            self._idle_count += 1
        else:
            await _close(connection)
        self._wake_one()

    async def aclose(self) -> None:
        idle = [c for stack in self._idle.values() for c in stack]
        self._idle.clear()
        self._idle_count = 0
        for connection in idle:
            await _close(connection)

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _key(origin: httpcore.Origin) -> tuple[bytes, bytes, int]:
    return origin.scheme, origin.host, origin.port


async def _close(connection: httpcore.AsyncHTTPConnection) -> None:
    # Closing is a transport's close() underneath: it does not wait, so a cancelled caller still
    # gets its connection closed.
    await connection.aclose()


class _ResponseStream:
    """A response body; closing it hands the connection back to the pool."""

    def __init__(
        self,
        pool: ConnectionPool,
        origin: httpcore.Origin,
        connection: httpcore.AsyncHTTPConnection,
        stream: typing.Any,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._connection: httpcore.AsyncHTTPConnection | None = connection
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await self._stream.aclose()  # the connection becomes idle, or closes
        finally:
            await self._pool._give_back(self._origin, connection, reuse=True)


# -- the client --------------------------------------------------------------------------------


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        ssl_context = httpx.create_ssl_context()  # loads the CA bundle (or SSL_CERT_FILE's) once
        super().__init__(verify=ssl_context, limits=limits)
        # httpx takes no pool of its own choosing: put ours where httpx keeps httpcore's.
        # tests/adapters checks that this replacement still takes effect after an httpx upgrade.
        self._pool = ConnectionPool(  # type: ignore[assignment]
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass  # (httpx would build urllib request and response wrappers for every answer)

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        raise TypeError("the registry client keeps no cookies")


_NO_COOKIES = _NoCookies()


class _RegistryClient(httpx.AsyncClient):
    """httpx's client without cookies: the registry protocol has none, and one client shared by
    every registry must not carry what one answer set into the next request."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: typing.Any) -> None:
        raise TypeError("the registry client keeps no cookies")


def registry_client(limits: httpx.Limits) -> httpx.AsyncClient:
    """The one client all registry adapters share. No redirects: a registry must not send us
    elsewhere. No proxy from the environment either (a given transport turns that off in httpx):
    registries are reached directly on the government network. No cookies (see _RegistryClient).
    """
    return _RegistryClient(transport=_Transport(limits), follow_redirects=False)
