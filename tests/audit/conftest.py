"""The sandbox registry over real HTTP, and settings that point the audit at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matcher.sandbox import SandboxConfig, create_sandbox_app, write_trust_store
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings


def sandbox_settings(url: str, tmp: Path, trust: Path, **changes: Any) -> Settings:
    return Settings(
        trust_store=trust,
        database_url=f"sqlite:///{tmp / 'matcher.db'}",
        state_dir=tmp,
        registries=[
            RegistryConfig(name="zs-elicence", adapter="elicence", base_url=url, timeout_s=2.0),
            RegistryConfig(name="zs-datacert", adapter="datacert", base_url=url, timeout_s=2.0),
        ],
        **changes,
    )


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Any]:
    """Start a sandbox registry (any SandboxConfig options); returns (url, trust store path)."""
    servers: list[ServerThread] = []

    def start(**config: Any) -> tuple[str, Path]:
        cfg = SandboxConfig(**config)
        trust = tmp_path / f"trust{len(servers)}.json"
        write_trust_store(cfg, trust)
        server = ServerThread(create_sandbox_app(cfg))
        server.__enter__()
        servers.append(server)
        return server.url, trust

    yield start
    for server in servers:
        server.__exit__(None, None, None)
