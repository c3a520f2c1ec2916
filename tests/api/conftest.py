"""The API over real HTTP on loopback, backed by the sandbox registry, also over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.api import create_app
from matcher.records import Records
from matcher.sandbox import SandboxConfig, create_sandbox_app, load_holders, write_trust_store
from matcher.serving import ServerThread
from matcher.settings import RegistryConfig, Settings


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

    def check(self, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.client.post("/v1/waive-check", json=body, **kw)

    def records(self) -> Records:
        return Records(self.database_url)

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
            **settings: Any,
        ) -> Api:
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
                    ),
                    RegistryConfig(
                        name="zs-datacert",
                        adapter="datacert",
                        base_url=box.url,
                        timeout_s=timeout_s,
                    ),
                ],
                **settings,
            )
            server = stack.enter_context(ServerThread(create_app(cfg)))
            client = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
            return Api(server.url, db, client)

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


def applicant(holder: Any) -> dict[str, str]:
    return {"id_type": holder.id_type, "id": holder.id, "name": holder.name}
