"""Run an ASGI app with uvicorn: in a background thread (demo, tests, benchmarks) or blocking."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

__all__ = ["ServerThread", "serve"]


class ServerThread:
    """An app served on loopback in a daemon thread, for as long as the ``with`` block runs.

    ::

        with ServerThread(create_sandbox_app(config)) as server:
            httpx.get(f"{server.url}/v1/licences", params=…)

    ``port=0`` lets the OS pick a free port; :attr:`url` carries the one actually bound.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        startup_timeout_s: float = 10.0,
        shutdown_timeout_s: float = 5.0,
        graceful_shutdown_s: int = 1,
    ) -> None:
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            lifespan="on",
            # No websockets: the optional library may warn on import, and nothing here needs it.
            ws="none",
            # Stopped from another thread: uvloop would leave handles open at its close.
            loop="asyncio",
            http="h11",  # as `matcher serve`: every answer carries its X-Request-Id
            # Requests still open at exit (a `timeout` fault) are cancelled after this long.
            timeout_graceful_shutdown=graceful_shutdown_s,
        )
        self.server = uvicorn.Server(self.config)
        self.startup_timeout_s = startup_timeout_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` with the bound port, once started."""
        if self._url is None:
            raise RuntimeError("the server is not running")
        return self._url

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # uvicorn calls sys.exit() when it cannot start
            self._error = exc

    def start(self) -> str:
        """Start serving and wait until the socket is bound; returns :attr:`url`."""
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        self._thread = threading.Thread(target=self._run, name="matcher-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout_s
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start within {self.startup_timeout_s} s")
            time.sleep(0.005)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self._url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        return self._url

    def stop(self) -> None:
        """Ask the server to exit, and wait for it; forced if it does not stop in time."""
        thread = self._thread
        if thread is None:
            return
        self.server.should_exit = True
        thread.join(self.shutdown_timeout_s)
        if thread.is_alive():
            self.server.force_exit = True
            thread.join(self.shutdown_timeout_s)
        self._url = None

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(app: ASGIApp, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Serve ``app`` in this thread until interrupted (Ctrl-C)."""
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, ws="none")).run()
