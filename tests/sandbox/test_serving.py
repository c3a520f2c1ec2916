"""ServerThread: serves on a real loopback port, reports it, and stops cleanly."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from matcher.sandbox.serving import ServerThread


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


APP = Starlette(routes=[Route("/", _hello)])


def test_serves_on_the_port_it_reports_and_frees_it_on_exit() -> None:
    with ServerThread(APP) as server:
        port = int(server.url.rsplit(":", 1)[1])
        assert port > 0
        assert httpx.get(server.url).text == "hello"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    with pytest.raises(RuntimeError):
        _ = server.url


def test_a_port_in_use_fails_loudly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ServerThread(APP, port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="failed to start"):
            server.start()
