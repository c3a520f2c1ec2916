"""The API over real HTTP on loopback, backed by the sandbox registry, also over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.api import create_app
from matcher.sandbox import SandboxConfig, create_sandbox_app, load_holders, write_trust_store
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from matcher.store.records import Records
from matcher.store.sealed import Privacy


@dataclass
class Sandbox:
    url: str
    trust_store: Path

    def faults(self, **changes: Any) -> None:
        r = httpx.put(f"{self.url}/_sandbox/faults", json=changes, timeout=5)
        r.raise_for_status()


@dataclass
class Api:
    url: str
    database_url: str
    client: httpx.Client
    privacy: Privacy | None = None

    def check(self, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.client.post("/v1/waive-check", json=body, **kw)

    def records(self) -> Records:
        """The service's records, opened with its keys (its answers are sealed)."""
        return Records(self.database_url, self.privacy)

    def usage(self, check_id: str) -> list[dict[str, Any]]:
        """The usage records of a check, read through a connection of its own."""
        store = self.records()
        try:
            return store.usage_for_check(check_id)
        finally:
            store.close()

    def problems(self, check_id: str) -> list[dict[str, Any]]:
        """The data-problem reports a check filed."""
        store = self.records()
        try:
            return store.problems_for_check(check_id)
        finally:
            store.close()


def _start_sandbox(stack: ExitStack, tmp: Path, **config: Any) -> Sandbox:
    cfg = SandboxConfig(**config)
    trust = tmp / "trust.json"
    write_trust_store(cfg, trust)
    server = stack.enter_context(ServerThread(create_sandbox_app(cfg)))
    return Sandbox(server.url, trust)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The shared sandbox: no faults, no latency. Fault tests start their own."""
    with ExitStack() as stack:
        yield _start_sandbox(stack, tmp_path_factory.mktemp("sandbox"))


@pytest.fixture
def faulty_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with ExitStack() as stack:
        yield _start_sandbox(stack, tmp_path)


@pytest.fixture(scope="session")
def holders() -> dict[str, Any]:
    return load_holders()


ApiFactory = Callable[..., Api]


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[ApiFactory]:
    """Start an API against a sandbox; ``storage`` picks SQLite+memory or PostgreSQL+Redis."""
    with ExitStack() as stack:

        def start(
            box: Sandbox,
            *,
            database_url: str | None = None,
            redis_url: str | None = None,
            timeout_s: float = 2.0,
            datacert_url: str | None = None,
            registry_options: dict[str, Any] | None = None,
            **settings: Any,
        ) -> Api:
            """``datacert_url`` points the certificate registry elsewhere (a faulty server);
            ``registry_options`` go to both adapters (breaker_reset_s …)."""
            more = registry_options or {}
            db = database_url or f"sqlite:///{tmp_path / 'matcher.db'}"
            cfg = Settings(
                trust_store=box.trust_store,
                database_url=db,
                redis_url=redis_url,
                state_dir=tmp_path,
                registries=[
                    RegistryConfig(
                        name="zs-elicence",
                        adapter="elicence",
                        base_url=box.url,
                        timeout_s=timeout_s,
                        **more,
                    ),
                    RegistryConfig(
                        name="zs-datacert",
                        adapter="datacert",
                        base_url=datacert_url or box.url,
                        timeout_s=timeout_s,
                        **more,
                    ),
                ],
                **settings,
            )
            server = stack.enter_context(ServerThread(create_app(cfg)))
            client = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
            return Api(server.url, db, client, cfg.privacy())

        yield start


@pytest.fixture(params=["sqlite+memory", "postgresql+redis"])
def api(request: pytest.FixtureRequest, sandbox: Sandbox, make_api: ApiFactory) -> Api:
    if request.param == "sqlite+memory":
        return make_api(sandbox)
    return make_api(
        sandbox,
        database_url=request.getfixturevalue("postgres_url"),
        redis_url=request.getfixturevalue("redis_url"),
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Served = Callable[..., str]


@pytest.fixture
def served(tmp_path: Path, sandbox: Sandbox) -> Iterator[Served]:
    """``matcher serve --workers N`` in processes of its own, against the sandbox; ``start``
    returns its base URL once ready. Its output goes to ``serve.log`` in the test's folder."""
    procs: list[subprocess.Popen[bytes]] = []
    logfile = tmp_path / "serve.log"

    def start(
        database_url: str, redis_url: str | None = None, *extra: str, workers: int = 2
    ) -> str:
        port = _free_port()
        lines = [
            f'trust_store = "{sandbox.trust_store}"',
            f'database_url = "{database_url}"',
        ]
        if redis_url:
            lines.append(f'redis_url = "{redis_url}"')
        for name, adapter in (("zs-elicence", "elicence"), ("zs-datacert", "datacert")):
            lines += [
                "[[registries]]",
                f'name = "{name}"',
                f'adapter = "{adapter}"',
                f'base_url = "{sandbox.url}"',
            ]
        config = tmp_path / "matcher.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with logfile.open("wb") as log:
            proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "matcher.cli", "serve", "--config", str(config)),
                    *("--port", str(port), "--workers", str(workers), *extra),
                ],
                env={**os.environ, "MATCHER_STATE_DIR": str(tmp_path / "state")},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, logfile.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail("matcher serve --workers 2 did not become ready")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(15)


def applicant(holder: Any) -> dict[str, str]:
    return {"id_type": holder.id_type, "id": holder.id, "name": holder.name}
