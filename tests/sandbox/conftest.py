"""A sandbox registry on loopback, shared by the read-only tests of this package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.sandbox import SampleHolder, SandboxConfig, create_sandbox_app, load_holders
from matcher.sandbox import write_trust_store as write_store
from matcher.sandbox.serving import ServerThread
from matcher.waiver.evidence import TrustStore, load_trust_store


@pytest.fixture(scope="package")
def holders() -> dict[str, SampleHolder]:
    return load_holders()


@pytest.fixture(scope="package")
def sandbox_url() -> Iterator[str]:
    """A sandbox with the default config; tests here must not change its faults."""
    with ServerThread(create_sandbox_app(SandboxConfig())) as server:
        yield server.url


@pytest.fixture
def client(sandbox_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_url, timeout=5) as c:
        yield c


@pytest.fixture(scope="package")
def trust_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_store(SandboxConfig(), tmp_path_factory.mktemp("sandbox") / "trust-store.json")


@pytest.fixture(scope="package")
def trust_store(trust_store_path: Path) -> TrustStore:
    return load_trust_store(trust_store_path)


def all_licences(
    client: httpx.Client, holder: SampleHolder, type_codes: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Every licence the sandbox returns for ``holder``, following ``next`` to the last page."""
    params: dict[str, str | list[str]] = {
        "holder_id_type": holder.id_type,
        "holder_id": holder.id,
        "type_code": list(type_codes),
    }
    items: list[dict[str, Any]] = []
    for _ in range(100):
        response = client.get("/v1/licences", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next"] is None:
            return items
        params["cursor"] = page["next"]
    raise AssertionError("more than 100 pages")


FetchLicences = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def fetch_licences(client: httpx.Client) -> FetchLicences:
    """``fetch_licences(holder, *type_codes)``: all of a holder's licences, every page."""
    return lambda holder, *type_codes: all_licences(client, holder, type_codes)
