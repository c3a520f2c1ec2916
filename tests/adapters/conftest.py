"""Fixtures for the adapter tests: a respx registry plugged into a client as its transport."""

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

BASE_URL = "https://registry.test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def registry() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE_URL, assert_all_called=False)


@pytest.fixture
async def http_client(registry: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(registry.async_handler)) as client:
        yield client
