"""Contract tests on what goes over the wire and into logs; pagination for registries that page."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx
import pytest

from adapters.errors import RegistryUnavailable
from adapters.model import RequestContext
from adapters.testing.base import ContractBase
from adapters.testing.rules import broken
from adapters.testing.support import ContractClock

if TYPE_CHECKING:
    import respx

__all__ = ["PaginationRules", "WireRules"]


class WireRules(ContractBase):
    """Who asks and why, and nothing personal in logs."""

    @pytest.mark.anyio
    async def test_requests_say_who_asks_and_why(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=self.reply([]))

        await self.lookup(self.make_adapter(http_client, clock, api_key="s3cret-registry-key"))

        headers = route.calls.last.request.headers
        expected = {
            "Authorization": "Bearer s3cret-registry-key",
            "X-Requester": self.context.requester,
            "X-Purpose": self.context.matter_code,
            "X-Application-Id": self.context.application_id,
            "X-Consent-Token": self.context.consent_token,
        }
        wrong = [name for name, value in expected.items() if headers.get(name) != value]
        assert not wrong, broken("who-asks", f"wrong or missing headers: {', '.join(wrong)}")

    @pytest.mark.anyio
    async def test_absent_credentials_and_application_send_no_header(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=self.reply([]))
        adapter = self.make_adapter(http_client, clock, api_key=None)

        bare = RequestContext(requester="contract-suite", matter_code="MATTER-0001")
        await self.lookup(adapter, context=bare)

        sent = route.calls.last.request.headers
        extra = [n for n in ("Authorization", "X-Application-Id", "X-Consent-Token") if n in sent]
        assert not extra, broken("who-asks", f"headers sent with no value behind them: {extra}")
        assert sent.get("X-Purpose") == "MATTER-0001", broken("who-asks", "X-Purpose missing")

    @pytest.mark.anyio
    async def test_logs_never_hold_the_holder_id(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        self.route(registry).mock(
            side_effect=[httpx.Response(503), self.reply([self.sample_record(1)])]
        )

        await self.lookup(self.make_adapter(http_client, clock, max_retries=1))

        # httpx itself logs request URLs at INFO; the service keeps that logger at WARNING.
        ours = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
        leaks = [r.name for r in ours if self.holder.id in r.getMessage()]
        assert not leaks, broken("no-ids-in-messages", f"log lines of {leaks} hold the ID")


class PaginationRules(ContractBase):
    """For a registry whose list answers come in pages (registry protocol §1)."""

    @pytest.mark.anyio
    async def test_follows_every_page(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        records = [self.sample_record(n) for n in (1, 2, 3)]
        route = self.route(registry).mock(
            side_effect=[
                self.reply(records[:1], next_cursor="page-2"),
                self.reply(records[1:2], next_cursor="page-3"),
                self.reply(records[2:]),
            ]
        )

        evidence = await self.lookup(self.make_adapter(http_client, clock))

        assert [e.raw for e in evidence] == records, broken(
            "pagination", f"three pages of one record gave {len(evidence)} records"
        )
        cursors = [self.cursor_of(call.request) for call in route.calls]
        assert cursors == [None, "page-2", "page-3"], broken(
            "pagination", f"pages asked with cursors {cursors}"
        )

    @pytest.mark.anyio
    async def test_more_pages_than_allowed_is_unavailable(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            side_effect=lambda request: self.reply([self.sample_record(1)], next_cursor="again")
        )
        adapter = self.make_adapter(http_client, clock, max_pages=2)

        await self.lookup_fails(
            adapter, RegistryUnavailable, "too_many_pages", what="endless pages", rule="pagination"
        )
        assert route.call_count == 2, broken("pagination", f"{route.call_count} pages asked")
