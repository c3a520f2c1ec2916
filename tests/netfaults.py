"""A TCP proxy on loopback that a test can cut and restore: real sockets between the service and
a real server (PostgreSQL, Redis, a registry), with the network failing in between."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from types import TracebackType

__all__ = ["CuttableProxy", "ResettingServer"]

# SO_LINGER on, 0 seconds: close() sends RST.
_LINGER_RST = struct.pack("ii", 1, 0)


class CuttableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``. ``cut()`` resets every open connection and
    refuses new ones until ``restore()``.

    It accepts on a plain listening socket rather than an ``asyncio.Server``: on Python 3.11 a
    server closed while a connection is being accepted leaves that connection's half-made
    transport unclosed, and a cut is exactly that moment.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._listener: socket.socket | None = None
        self._generation = 0  # one more at each cut: a connection from before is reset
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]

    @property
    def url_host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> CuttableProxy:
        self._thread.start()
        self.restore()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._run(self._shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()  # its self-pipe too: a loop left open leaks two sockets

    def _run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    def restore(self) -> None:
        async def start() -> None:
            if self._listener is None:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", self.port))
                sock.listen(128)
                sock.setblocking(False)
                self._listener = sock
                self._loop.add_reader(sock, self._accept, sock)

        self._run(start())

    def cut(self) -> None:
        self._run(self._stop())

    async def _stop(self) -> None:
        self._generation += 1
        if self._listener is not None:
            self._loop.remove_reader(self._listener)
            self._listener.close()  # from now on a connection is refused
            self._listener = None
        self._reset_open()

    def _reset_open(self) -> None:
        for writer in list(self._writers):
            _reset(writer)
        self._writers.clear()

    async def _shutdown(self) -> None:
        """Cut, then let every connection still being set up reach the point where it is reset,
        so that no socket outlives the proxy. Nothing is cancelled: a handler cancelled before
        it runs would never close its socket."""
        await self._stop()
        deadline = self._loop.time() + 5
        while self._tasks and self._loop.time() < deadline:
            await asyncio.sleep(0.01)
            self._reset_open()
        await asyncio.sleep(0)  # reset transports give up their sockets on the next turn

    def _accept(self, listener: socket.socket) -> None:
        while True:  # take the whole backlog
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(False)
            task = self._loop.create_task(self._handle(conn, self._generation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, conn: socket.socket, generation: int) -> None:
        try:
            reader, writer = await asyncio.open_connection(sock=conn)
        except OSError:
            conn.close()
            return
        self._writers.add(writer)  # at once: a cut while the upstream connects must reach it
        if generation != self._generation:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        if generation != self._generation:  # cut meanwhile
            _reset(writer)
            _reset(up_writer)
            return
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST, as a network that fails does, not with an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    with contextlib.suppress(OSError):
        writer.transport.abort()


class ResettingServer:
    """A 'registry' that accepts each connection, reads the request, and resets the connection."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ResettingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            with contextlib.suppress(OSError):
                conn.settimeout(1)
                conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
            conn.close()
