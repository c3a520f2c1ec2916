"""The registry client over real sockets on loopback: keep-alive and a server that drops idle
connections, the connection limit and the pool timeout, cancellation, request and response bodies
of any size, timeouts and refusals, and TLS against a certificate authority made here."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters._transport import (
    FLUSH_BYTES,
    READ_HIGH_WATER,
    AsyncioBackend,
    ConnectionPool,
    registry_client,
)

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Serve = Callable[..., Awaitable[str]]
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


def _answering(reply: Callable[[bytes, bytes], bytes]) -> Handler:
    """A server that answers each request of a connection with ``reply(head, body)``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await _request(reader)) is not None:
            writer.write(reply(*request))
            await writer.drain()
        writer.close()

    return handler


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler, tls: ssl.SSLContext | None = None) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_the_client_uses_our_pool_and_backend() -> None:
    # The pool is swapped into httpx's transport by hand; an httpx upgrade must not undo it.
    async with registry_client(LIMITS) as client:
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool, ConnectionPool)
        assert isinstance(pool._backend, AsyncioBackend)


async def test_a_connection_the_server_dropped_while_idle_is_not_reused(
    serve: Serve,
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
    serve: Serve,
) -> None:
    url = await serve(_answering(lambda head, body: _answer(b"%d" % len(body))))
    async with registry_client(LIMITS) as client:
        for size in (0, 1, FLUSH_BYTES - 1, FLUSH_BYTES, 3 * FLUSH_BYTES + 7):
            response = await client.post(url + "/v1/certificates", content=b"x" * size)
            assert response.text == str(size)
        assert (await client.get(url + "/v1/licences")).text == "0"


def _answer(body: bytes = b"ok", status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body)


async def test_sequential_requests_share_one_kept_alive_connection(serve: Serve) -> None:
    connections = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while await _request(reader) is not None:
            writer.write(_answer())
            await writer.drain()
        writer.close()

    url = await serve(keep_alive)
    async with registry_client(LIMITS) as client:
        for _ in range(5):
            assert (await client.get(url + "/v1/licences")).text == "ok"
    assert connections == 1


async def test_a_cookie_one_answer_sets_is_not_sent_with_the_next_request(serve: Serve) -> None:
    heads: list[bytes] = []

    def set_a_cookie(head: bytes, body: bytes) -> bytes:
        heads.append(head.lower())
        return (
            b"HTTP/1.1 200 OK\r\nSet-Cookie: session=holder-330902; Path=/\r\n"
            b"Content-Length: 2\r\n\r\nok"
        )

    url = await serve(_answering(set_a_cookie))
    async with registry_client(LIMITS) as client:
        for _ in range(2):
            assert (await client.get(url + "/v1/licences")).text == "ok"
        assert not client.cookies
    assert len(heads) == 2 and not any(b"\r\ncookie:" in head for head in heads)


async def test_no_more_connections_than_the_limit_and_every_request_is_answered(
    serve: Serve,
) -> None:
    open_now = most = 0

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now, most
        open_now += 1
        most = max(most, open_now)
        try:
            while (request := await _request(reader)) is not None:
                await asyncio.sleep(0.03)
                writer.write(_answer(request[0].split(b" ")[1]))
                await writer.drain()
        finally:
            open_now -= 1
            writer.close()

    url = await serve(slow)
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    async with registry_client(limits) as client:
        paths = [f"/v1/licences/{i}" for i in range(7)]
        answers = await asyncio.gather(*(client.get(url + p) for p in paths))
    assert [a.text for a in answers] == paths
    assert most == 2


async def test_a_request_waits_no_longer_than_the_pool_timeout_and_a_cancelled_one_frees_its_slot(
    serve: Serve,
) -> None:
    async def hang_on_slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await _request(reader)) is not None:
            if b"/slow" in request[0]:
                await reader.read()  # no answer, until the client gives up and hangs up
                break
            writer.write(_answer())
            await writer.drain()
        writer.close()

    url = await serve(hang_on_slow)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with registry_client(limits) as client:
        stuck = asyncio.create_task(client.get(url + "/slow", timeout=30))
        await asyncio.sleep(0.05)  # it holds the only connection
        started = time.monotonic()
        with pytest.raises(httpx.PoolTimeout):
            await client.get(url + "/fast", timeout=httpx.Timeout(5, pool=0.1))
        assert time.monotonic() - started < 1
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        assert (await client.get(url + "/fast", timeout=2)).text == "ok"


async def test_a_response_larger_than_the_read_buffer_arrives_whole(serve: Serve) -> None:
    body = bytes(range(256)) * (4 * READ_HIGH_WATER // 256 + 3)

    url = await serve(_answering(lambda head, _: _answer(body)))
    async with registry_client(LIMITS) as client:
        async with client.stream("GET", url + "/v1/licences") as response:
            await asyncio.sleep(0.1)  # let the socket fill our buffer past its high-water mark
            assert await response.aread() == body
        assert (await client.get(url + "/v1/licences")).content == body  # and it is reused


async def test_silence_is_a_read_timeout_and_a_hang_up_a_protocol_error(serve: Serve) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        await reader.read()  # no answer, until the client gives up and hangs up
        writer.close()

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.close()

    silent_url, hang_up_url = await serve(silent), await serve(hang_up)
    async with registry_client(LIMITS) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await client.get(silent_url + "/v1/licences", timeout=0.2)
        assert time.monotonic() - started < 1
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(hang_up_url + "/v1/licences", timeout=2)


async def test_a_closed_port_is_a_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with registry_client(LIMITS) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/v1/licences", timeout=2)


async def test_socket_options_are_set_on_the_connection(serve: Serve) -> None:
    async def idle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    port = int((await serve(idle)).rsplit(":", 1)[1])
    keepalive = (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, socket_options=[keepalive])
    try:
        sock = stream.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
    finally:
        await stream.aclose()


async def test_a_unix_socket_carries_requests_too(tmp_path: Path) -> None:
    path = str(tmp_path / "registry.sock")
    server = await asyncio.start_unix_server(_answering(lambda head, body: _answer()), path)
    try:
        stream = await AsyncioBackend().connect_unix_socket(path, timeout=2)
        await stream.write(b"GET /v1/licences HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await stream.read(1024, timeout=2)).endswith(b"\r\n\r\nok")
        await stream.aclose()
        await asyncio.sleep(0.05)  # the server sees the end and closes its side
    finally:
        server.close()
        await server.wait_closed()


# -- TLS ---------------------------------------------------------------------------------------


def _certificate_authority(tmp: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA file, and a server context for 127.0.0.1 with a certificate that CA signed."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test registry CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return ca_file, server


async def test_https_to_a_registry_whose_authority_is_trusted_and_not_otherwise(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, server_tls = _certificate_authority(tmp_path)

    url = await serve(_answering(lambda head, body: _answer(b"%d" % len(body))), server_tls)

    # No trust in the test CA (the default bundle): the handshake fails, nothing is sent.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with registry_client(LIMITS) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(url + "/v1/licences", timeout=5)

    # The operator's CA bundle (SSL_CERT_FILE), as for a registry on a private CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with registry_client(LIMITS) as client:
        for size in (0, 10, 3 * FLUSH_BYTES):
            response = await client.post(url + "/v1/certificates", content=b"x" * size, timeout=5)
            assert (response.status_code, response.text) == (200, str(size))
        assert client._transport._pool.connections == 1  # type: ignore[attr-defined]
