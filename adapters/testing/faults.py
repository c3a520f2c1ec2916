"""Contract tests on failures: retries, the budget, bodies, refusals, the breaker, errors in 200s.

The rule over all of them: a failure never becomes evidence or an empty answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.testing.base import ContractBase
from adapters.testing.rules import broken
from adapters.testing.support import TIMEOUT_SLACK_S, ContractClock

if TYPE_CHECKING:
    import respx

__all__ = ["FaultRules"]

_MALFORMED_BODIES: dict[str, tuple[bytes, str]] = {
    "truncated-json": (b'{"items": [{"licence_id": ', "application/json"),
    "html": (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    "empty": (b"", "application/json"),
    "not-utf8": (b'{"error": "\xff\xfe"}', "application/json"),
    "json-array": (b"[1, 2, 3]", "application/json"),
    "json-string": (b'"ok"', "application/json"),
    "json-null": (b"null", "application/json"),
    "json-of-another-shape": (b'{"unexpected": true}', "application/json"),
    "nan": (b'{"items": NaN}', "application/json"),
}

_ERROR_BODIES: dict[str, bytes | None] = {
    "no-body": None,
    "html-body": b"<html>Forbidden</html>",
    "json-body": b'{"error": "invalid_key", "message": "key revoked"}',
}

# Failures every registry can meet, each of which must raise: (status, body, headers).
_FAILURES: dict[str, tuple[int, bytes | None, dict[str, str]]] = {
    "500": (500, b"Internal Server Error", {}),
    "502-html": (502, b"<html>Bad Gateway</html>", {}),
    "503-json": (503, b'{"error": "unavailable", "message": "busy"}', {}),
    "504-empty": (504, None, {}),
    "429-beyond-budget": (429, None, {"Retry-After": "600"}),
    "401": (401, None, {}),
    "403": (403, b'{"error": "forbidden"}', {}),
    "400": (400, None, {}),
    "404-empty": (404, None, {}),
    "418": (418, None, {}),
}


class FaultRules(ContractBase):
    """Failures: each one raises, retried or not as its kind says, within the budget."""

    # -- a failure never becomes an answer ---------------------------------------------------

    @pytest.mark.anyio
    @pytest.mark.parametrize("failure", _FAILURES.values(), ids=_FAILURES.keys())
    async def test_a_failure_never_becomes_evidence_or_an_empty_answer(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        failure: tuple[int, bytes | None, dict[str, str]],
    ) -> None:
        status, body, headers = failure
        self.route(registry).mock(
            return_value=httpx.Response(status, content=body, headers=headers)
        )
        adapter = self.make_adapter(http_client, clock, max_retries=0)

        await self.lookup_raises(adapter, what=f"HTTP {status}", rule="failure-not-answer")

    @pytest.mark.anyio
    async def test_error_code_in_a_success_body_is_a_failure(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry)
        for label, answer in self.error_bodies().items():
            route.mock(return_value=answer)
            adapter = self.make_adapter(http_client, clock, max_retries=0)
            await self.lookup_raises(
                adapter, what=f"HTTP {answer.status_code} with {label}", rule="error-in-body"
            )

    # -- retries and the time budget --------------------------------------------------------

    @pytest.mark.anyio
    async def test_429_waits_retry_after_then_succeeds(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "1"}),
                self.reply([self.sample_record(1)]),
            ]
        )

        evidence = await self.lookup(self.make_adapter(http_client, clock, timeout_s=5))

        assert len(evidence) == 1 and route.call_count == 2, broken(
            "retries",
            f"a 429 then an answer gave {len(evidence)} records in {route.call_count} requests",
        )
        assert clock.slept >= 1.0, broken("retries", "Retry-After: 1 was not waited for")

    @pytest.mark.anyio
    async def test_429_asking_for_more_than_the_budget_fails_at_once(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            return_value=httpx.Response(429, headers={"Retry-After": "30"})
        )
        adapter = self.make_adapter(http_client, clock, timeout_s=2, max_retries=3)
        started = time.monotonic()

        await self.lookup_fails(
            adapter, RegistryUnavailable, "rate_limited", what="429 with Retry-After: 30"
        )

        assert route.call_count == 1 and clock.slept == 0, broken(
            "budget",
            f"waited {clock.slept:g} s and asked {route.call_count} times on a "
            "Retry-After of 30 s with a 2 s budget",
        )
        assert time.monotonic() - started < TIMEOUT_SLACK_S, broken(
            "budget", "a Retry-After beyond the budget did not fail at once"
        )

    @pytest.mark.anyio
    async def test_5xx_then_success(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            side_effect=[httpx.Response(503), self.reply([self.sample_record(1)])]
        )

        evidence = await self.lookup(self.make_adapter(http_client, clock, max_retries=2))

        assert len(evidence) == 1 and route.call_count == 2, broken(
            "retries", f"a 503 then an answer gave {len(evidence)} records"
        )

    @pytest.mark.anyio
    @pytest.mark.parametrize("max_retries", [0, 2])
    async def test_persistent_5xx_is_unavailable_after_every_retry(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        max_retries: int,
    ) -> None:
        route = self.route(registry).mock(
            return_value=httpx.Response(500, text="Internal Server Error")
        )
        adapter = self.make_adapter(http_client, clock, max_retries=max_retries)

        await self.lookup_fails(adapter, RegistryUnavailable, "registry_fault", what="HTTP 500")
        assert route.call_count == max_retries + 1, broken(
            "retries", f"{route.call_count} requests with max_retries = {max_retries}"
        )

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "fault",
        [httpx.ConnectError("connection refused"), httpx.ReadTimeout("read timed out")],
        ids=["connect-error", "read-timeout"],
    )
    async def test_network_fault_then_success(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        fault: Exception,
    ) -> None:
        route = self.route(registry).mock(side_effect=[fault, self.reply([self.sample_record(1)])])

        evidence = await self.lookup(self.make_adapter(http_client, clock, max_retries=1))

        assert len(evidence) == 1 and route.call_count == 2, broken(
            "retries", f"{type(fault).__name__} then an answer gave {len(evidence)} records"
        )

    @pytest.mark.anyio
    async def test_silent_registry_times_out_within_the_budget(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        async def never_answers(request: httpx.Request) -> httpx.Response:
            await anyio.sleep(30)
            return httpx.Response(500)

        self.route(registry).mock(side_effect=never_answers)
        adapter = self.make_adapter(http_client, clock, timeout_s=0.2, max_retries=2)
        started = time.monotonic()

        await self.lookup_fails(
            adapter, RegistryUnavailable, "timeout", what="a registry that never answers"
        )

        took = time.monotonic() - started
        assert took < 0.2 + TIMEOUT_SLACK_S, broken(
            "budget", f"a lookup with timeout_s = 0.2 took {took:.2f} s"
        )

    # -- bodies -----------------------------------------------------------------------------

    @pytest.mark.anyio
    @pytest.mark.parametrize("body", _MALFORMED_BODIES.values(), ids=_MALFORMED_BODIES.keys())
    async def test_malformed_body_is_unavailable(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        body: tuple[bytes, str],
    ) -> None:
        content, content_type = body
        self.route(registry).mock(
            return_value=httpx.Response(
                self.ok_status, content=content, headers={"Content-Type": content_type}
            )
        )

        await self.lookup_fails(
            self.make_adapter(http_client, clock),
            RegistryUnavailable,
            "malformed_response",
            what=f"a {content_type} body {content[:40]!r}",
            rule="malformed",
        )

    @pytest.mark.anyio
    async def test_record_missing_a_required_member_is_unavailable(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        if not self.required_members:
            pytest.skip("required_members is empty")
        route = self.route(registry)
        for member in self.required_members:
            record = self.sample_record(1)
            del record[member]
            route.mock(return_value=self.reply([record]))
            adapter = self.make_adapter(http_client, clock)

            error = await self.lookup_fails(
                adapter,
                RegistryUnavailable,
                "malformed_response",
                what=f"a record without {member!r}",
                rule="malformed",
            )
            assert member in error.message, broken(
                "malformed", f"the error does not name the missing {member!r}: {error}"
            )

    @pytest.mark.anyio
    async def test_oversized_body_is_not_read(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        padded = {"items": [], "padding": "x" * 8192}
        self.route(registry).mock(return_value=httpx.Response(self.ok_status, json=padded))
        adapter = self.make_adapter(http_client, clock, max_body_bytes=1024)

        await self.lookup_fails(
            adapter,
            RegistryUnavailable,
            "response_too_large",
            what="an 8 KiB body with max_body_bytes = 1024",
            rule="body-limit",
        )

    # -- refusals ---------------------------------------------------------------------------

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        ("status", "code"),
        [(401, "unauthorised"), (403, "unauthorised"), (400, "bad_request")],
    )
    @pytest.mark.parametrize("body", _ERROR_BODIES.values(), ids=_ERROR_BODIES.keys())
    async def test_refusal_is_rejected_without_retrying(
        self,
        registry: respx.MockRouter,
        http_client: httpx.AsyncClient,
        clock: ContractClock,
        status: int,
        code: str,
        body: bytes | None,
    ) -> None:
        route = self.route(registry).mock(return_value=httpx.Response(status, content=body))
        adapter = self.make_adapter(http_client, clock, max_retries=2)

        await self.lookup_fails(
            adapter, RegistryRejected, code, what=f"HTTP {status}", rule="refusals"
        )
        assert route.call_count == 1, broken("refusals", f"HTTP {status} was asked again")

    # -- circuit breaker --------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_circuit_opens_after_consecutive_failures_and_stops_calling(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=httpx.Response(503))
        adapter = self.make_adapter(http_client, clock, max_retries=0, breaker_failures=3)

        for _ in range(3):
            await self.lookup_fails(adapter, RegistryUnavailable, "registry_fault")
        for _ in range(5):
            await self.lookup_fails(
                adapter, RegistryUnavailable, "circuit_open", rule="circuit-breaker"
            )

        assert route.call_count == 3, broken(
            "circuit-breaker",
            f"{route.call_count} requests reached a registry whose circuit is open",
        )

    @pytest.mark.anyio
    async def test_circuit_lets_one_trial_through_after_reset(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=httpx.Response(503))
        adapter = self.make_adapter(
            http_client, clock, max_retries=0, breaker_failures=2, breaker_reset_s=30
        )
        for _ in range(2):
            await self.lookup_fails(adapter, RegistryUnavailable, "registry_fault")

        clock.advance(30)
        await self.lookup_fails(adapter, RegistryUnavailable, "registry_fault")  # failed trial
        await self.lookup_fails(
            adapter, RegistryUnavailable, "circuit_open", rule="circuit-breaker"
        )  # open again
        assert route.call_count == 3, broken("circuit-breaker", "more than one trial call")

        clock.advance(30)
        route.mock(return_value=self.reply([self.sample_record(1)]))
        assert len(await self.lookup(adapter)) == 1  # successful trial closes it
        assert len(await self.lookup(adapter)) == 1
        assert route.call_count == 5, broken("circuit-breaker", "a good trial did not close it")

    @pytest.mark.anyio
    async def test_refusals_do_not_open_the_circuit(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=httpx.Response(401))
        adapter = self.make_adapter(http_client, clock, breaker_failures=1)

        for _ in range(3):
            await self.lookup_fails(adapter, RegistryRejected, "unauthorised", rule="refusals")
        assert route.call_count == 3, broken(
            "circuit-breaker", "refusals opened the circuit: they say nothing of its health"
        )
