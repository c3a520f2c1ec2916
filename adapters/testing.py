"""The adapter contract: what every registry adapter must do, as a reusable pytest suite.

An adapter package, here or in another repository, gets the whole suite by subclassing
:class:`AdapterContract` in one short test file: two attributes and three hooks::

    import httpx
    from adapters.testing import AdapterContract

    class TestMyRegistry(AdapterContract):
        adapter_class = MyRegistryAdapter
        type_code = "business_licence"

        def route(self, registry):
            return registry.get("/v1/licences")

        def reply(self, records, *, next_cursor=None):
            return httpx.Response(200, json={"items": list(records), "next": next_cursor})

        def sample_record(self, serial):
            return {...}  # one wire record of self.holder and self.type_code, valid today

The registry is a respx router plugged into the adapter's ``httpx.AsyncClient`` as a transport,
so nothing is patched. Time is a :class:`ContractClock`: real time, except that sleeps return at
once and count as elapsed, so Retry-After and backoff cost nothing and budgets still hold.

This module is also the pytest plugin ``matcher_adapter_contract`` (entry point ``pytest11``), so
its assertions are rewritten. It imports respx and the core's evidence checks only when a test
runs: loading the plugin must never break an unrelated test run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import anyio
import anyio.lowlevel
import httpx
import pytest

from adapters.base import Adapter, AdapterOptions
from adapters.errors import RegistryError, RegistryRejected, RegistryUnavailable
from adapters.model import Evidence, EvidenceQuery, Holder, RequestContext

if TYPE_CHECKING:
    import respx

__all__ = [
    "AdapterContract",
    "ContractClock",
    "PaginationContract",
    "sample_certificate",
    "sample_licence",
]

# How far past its budget a timed-out lookup may return: scheduling, not a second attempt.
TIMEOUT_SLACK_S = 0.3

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


def sample_licence(
    holder: Holder, type_code: str, serial: int = 1, /, **changes: Any
) -> dict[str, Any]:
    """An unsigned registry protocol §1 LICENCE of ``holder``, valid today; ``changes`` override."""
    today = dt.date.today()
    record: dict[str, Any] = {
        "licence_id": f"contract-licence-{serial:04d}",
        "type_code": type_code,
        "type_name": "营业执照",
        "number": f"330900{serial:012d}",
        "holder": {"id_type": holder.id_type, "id": holder.id, "name": holder.name or "持证人"},
        "issuer": {
            "name": "舟山市市场监督管理局",
            "code": "11330900002648488K",
            "region": "330900",
        },
        "issued_on": (today - dt.timedelta(days=400)).isoformat(),
        "valid_from": (today - dt.timedelta(days=400)).isoformat(),
        "valid_until": (today + dt.timedelta(days=3650)).isoformat(),
        "status": "valid",
        "surface": {"名称": "舟山某某水产有限公司", "法定代表人": "张三", "住所": "舟山市定海区"},
    }
    record.update(changes)
    return record


def sample_certificate(
    holder: Holder, cert_type: str, serial: int = 1, /, **changes: Any
) -> dict[str, Any]:
    """An unsigned registry protocol §2 CERTIFICATE of ``holder``, valid today."""
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    record: dict[str, Any] = {
        "certificate_no": f"contract-cert-{serial:06d}",
        "cert_type": cert_type,
        "cert_name": "社会保险参保证明",
        "holder": {"id_type": holder.id_type, "id": holder.id, "name": holder.name or "持证人"},
        "source": {
            "department": "舟山市人力资源和社会保障局",
            "code": "11330900002648496D",
            "region": "330900",
        },
        "issued_at": now.isoformat(),
        "valid_until": (now.date() + dt.timedelta(days=30)).isoformat(),
        "data": {"参保状态": "正常", "参保起始日期": "2015-07-01"},
    }
    record.update(changes)
    return record


class ContractClock:
    """Real monotonic time plus skipped time: ``sleep`` returns at once but counts as elapsed."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.sleeps: list[float] = []

    @property
    def slept(self) -> float:
        return sum(self.sleeps)

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.skipped += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, e.g. until a circuit breaker lets a trial call through."""
        self.skipped += seconds


class AdapterContract(ABC):
    """Subclass as ``Test<Registry>``: set ``adapter_class`` and ``type_code``, fill in the
    abstract hooks; override the others only where the registry differs."""

    adapter_class: ClassVar[type[Any]]
    type_code: ClassVar[str]
    ok_status: ClassVar[int] = 200
    required_members: ClassVar[tuple[str, ...]] = ()
    base_url: ClassVar[str] = "https://registry.contract.test"
    registry_name: ClassVar[str] = "registry-under-test"
    holder: ClassVar[Holder] = Holder(id_type="citizen_id", id="330902199001011237", name="张三")
    context: ClassVar[RequestContext] = RequestContext(
        requester="contract-suite",
        matter_code="MATTER-0001",
        application_id="APP-2026-0001",
        consent_token="consent-token-0001",
    )

    # -- hooks -----------------------------------------------------------------------------

    @abstractmethod
    def route(self, registry: respx.MockRouter) -> respx.Route:
        """The route that a lookup's requests hit, e.g. ``registry.get("/v1/licences")``."""

    @abstractmethod
    def reply(
        self, records: Sequence[Mapping[str, Any]], *, next_cursor: str | None = None
    ) -> httpx.Response:
        """The registry's answer holding ``records`` (none: its "holder has nothing" answer)."""

    @abstractmethod
    def sample_record(self, serial: int) -> dict[str, Any]:
        """An unsigned wire record of ``self.holder`` and ``self.type_code``, valid today;
        ``serial`` makes its identifier unique."""

    def check_mapping(self, evidence: Evidence, record: Mapping[str, Any]) -> None:
        """Assert the adapter-specific fields of ``evidence`` made from ``record``."""
        return None  # the shared tests already check kind, registry, type, holder and raw

    def cursor_of(self, request: httpx.Request) -> str | None:
        """The page cursor a request carries (paginating registries only)."""
        cursor = request.url.params.get("cursor")
        return cursor if isinstance(cursor, str) else None

    def options(self, **overrides: Any) -> AdapterOptions:
        values: dict[str, Any] = {
            "base_url": self.base_url,
            "api_key": "contract-key",
            "timeout_s": 2.0,
            **overrides,
        }
        return cast(AdapterOptions, self.adapter_class.options_model(**values))

    def make_adapter(
        self, client: httpx.AsyncClient, clock: ContractClock, **overrides: Any
    ) -> Adapter:
        """The adapter under test; override if yours takes its clock another way."""
        options = self.options(**overrides)
        return cast(Adapter, self.adapter_class(self.registry_name, options, client, clock=clock))

    def query(self, types: tuple[str, ...] | None = None) -> EvidenceQuery:
        return EvidenceQuery(
            kind=self.adapter_class.kind,
            holder=self.holder,
            types=(self.type_code,) if types is None else types,
        )

    # -- fixtures ---------------------------------------------------------------------------

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def clock(self) -> ContractClock:
        return ContractClock()

    @pytest.fixture
    def registry(self) -> respx.MockRouter:
        import respx

        return respx.MockRouter(base_url=self.base_url, assert_all_called=False)

    @pytest.fixture
    async def http_client(self, registry: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.MockTransport(registry.async_handler)
        async with httpx.AsyncClient(transport=transport) as client:
            yield client

    # -- helpers ----------------------------------------------------------------------------

    async def lookup(self, adapter: Adapter, query: EvidenceQuery | None = None) -> list[Evidence]:
        return await adapter.lookup(query or self.query(), self.context)

    async def lookup_fails(
        self, adapter: Adapter, error: type[RegistryError], code: str
    ) -> RegistryError:
        """Assert one lookup raises ``error`` with ``code``, and names no holder ID."""
        with pytest.raises(error) as raised:
            await self.lookup(adapter)
        assert raised.value.code == code, f"expected code {code!r}, got {raised.value!r}"
        assert raised.value.registry == self.registry_name
        assert self.holder.id not in str(raised.value), "an error message holds the holder's ID"
        return raised.value

    # -- records ----------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_record_found_becomes_evidence(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        record = self.sample_record(1)
        self.route(registry).mock(return_value=self.reply([record]))

        [evidence] = await self.lookup(self.make_adapter(http_client, clock))

        assert evidence.kind == self.adapter_class.kind
        assert evidence.registry == self.registry_name
        assert evidence.type == self.type_code
        assert (evidence.holder.id_type, evidence.holder.id) == (
            self.holder.id_type,
            self.holder.id,
        )
        assert evidence.raw == record, "raw must be the wire record exactly as received"
        self.check_mapping(evidence, record)

    @pytest.mark.anyio
    async def test_signed_record_still_verifies_after_the_adapter(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        from matcher.evidence import generate_key, sign_record, verify_evidence

        record = self.sample_record(1)
        record["x_protocol_addition"] = {"备注": "协议新增成员", "n": 1.5}  # allowed by protocol
        key = generate_key("Ed25519")
        signed = sign_record(record, key, "contract-key-1")
        self.route(registry).mock(return_value=self.reply([signed]))

        [evidence] = await self.lookup(self.make_adapter(http_client, clock))

        result = verify_evidence(evidence, _trust_store(key, "contract-key-1"), **self._expected())
        assert result.verified, f"a genuine record failed verification: {result.problems}"

    @pytest.mark.anyio
    async def test_tampered_record_fails_verification_after_the_adapter(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        from matcher.evidence import generate_key, sign_record, verify_evidence

        key = generate_key("Ed25519")
        signed = sign_record(
            {**self.sample_record(1), "x_protocol_addition": "original"}, key, "contract-key-1"
        )
        tampered = {**signed, "x_protocol_addition": "changed after signing"}
        self.route(registry).mock(return_value=self.reply([tampered]))

        [evidence] = await self.lookup(self.make_adapter(http_client, clock))

        result = verify_evidence(evidence, _trust_store(key, "contract-key-1"), **self._expected())
        assert result.problems == ("signature_invalid",)

    @pytest.mark.anyio
    async def test_holder_with_nothing_gives_no_evidence(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        self.route(registry).mock(return_value=self.reply([]))

        assert await self.lookup(self.make_adapter(http_client, clock)) == []

    @pytest.mark.anyio
    async def test_query_for_no_types_asks_nobody(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=self.reply([]))

        assert await self.lookup(self.make_adapter(http_client, clock), self.query(())) == []
        assert route.call_count == 0

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

        assert len(evidence) == 1
        assert route.call_count == 2
        assert clock.slept >= 1.0, "Retry-After was not honoured"

    @pytest.mark.anyio
    async def test_429_asking_for_more_than_the_budget_fails_at_once(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            return_value=httpx.Response(429, headers={"Retry-After": "30"})
        )
        adapter = self.make_adapter(http_client, clock, timeout_s=2, max_retries=3)
        started = time.monotonic()

        await self.lookup_fails(adapter, RegistryUnavailable, "rate_limited")

        assert route.call_count == 1
        assert clock.slept == 0
        assert time.monotonic() - started < TIMEOUT_SLACK_S

    @pytest.mark.anyio
    async def test_5xx_then_success(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            side_effect=[httpx.Response(503), self.reply([self.sample_record(1)])]
        )

        evidence = await self.lookup(self.make_adapter(http_client, clock, max_retries=2))

        assert len(evidence) == 1
        assert route.call_count == 2

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

        await self.lookup_fails(adapter, RegistryUnavailable, "registry_fault")
        assert route.call_count == max_retries + 1

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

        assert len(evidence) == 1
        assert route.call_count == 2

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

        await self.lookup_fails(adapter, RegistryUnavailable, "timeout")

        assert time.monotonic() - started < 0.2 + TIMEOUT_SLACK_S

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
            self.make_adapter(http_client, clock), RegistryUnavailable, "malformed_response"
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

            error = await self.lookup_fails(adapter, RegistryUnavailable, "malformed_response")
            assert member in error.message, f"the error does not name {member!r}: {error}"

    @pytest.mark.anyio
    async def test_oversized_body_is_not_read(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        padded = {"items": [], "padding": "x" * 8192}
        self.route(registry).mock(return_value=httpx.Response(self.ok_status, json=padded))
        adapter = self.make_adapter(http_client, clock, max_body_bytes=1024)

        await self.lookup_fails(adapter, RegistryUnavailable, "response_too_large")

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

        await self.lookup_fails(adapter, RegistryRejected, code)
        assert route.call_count == 1

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
            await self.lookup_fails(adapter, RegistryUnavailable, "circuit_open")

        assert route.call_count == 3

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
        await self.lookup_fails(adapter, RegistryUnavailable, "circuit_open")  # open again
        assert route.call_count == 3

        clock.advance(30)
        route.mock(return_value=self.reply([self.sample_record(1)]))
        assert len(await self.lookup(adapter)) == 1  # successful trial closes it
        assert len(await self.lookup(adapter)) == 1
        assert route.call_count == 5

    @pytest.mark.anyio
    async def test_refusals_do_not_open_the_circuit(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=httpx.Response(401))
        adapter = self.make_adapter(http_client, clock, breaker_failures=1)

        for _ in range(3):
            await self.lookup_fails(adapter, RegistryRejected, "unauthorised")
        assert route.call_count == 3

    # -- what goes over the wire ------------------------------------------------------------

    @pytest.mark.anyio
    async def test_requests_say_who_asks_and_why(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=self.reply([]))

        await self.lookup(self.make_adapter(http_client, clock, api_key="s3cret-registry-key"))

        headers = route.calls.last.request.headers
        assert headers["Authorization"] == "Bearer s3cret-registry-key"
        assert headers["X-Requester"] == self.context.requester
        assert headers["X-Purpose"] == self.context.matter_code
        assert headers["X-Application-Id"] == self.context.application_id
        assert headers["X-Consent-Token"] == self.context.consent_token

    @pytest.mark.anyio
    async def test_absent_credentials_and_application_send_no_header(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(return_value=self.reply([]))
        adapter = self.make_adapter(http_client, clock, api_key=None)

        bare = RequestContext(requester="contract-suite", matter_code="MATTER-0001")
        await adapter.lookup(self.query(), bare)

        sent = route.calls.last.request.headers
        assert "Authorization" not in sent
        assert "X-Application-Id" not in sent
        assert "X-Consent-Token" not in sent
        assert sent["X-Purpose"] == "MATTER-0001"

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
        assert not [r.getMessage() for r in ours if self.holder.id in r.getMessage()]

    def _expected(self) -> dict[str, Any]:
        return {
            "holder_id_type": self.holder.id_type,
            "holder_id": self.holder.id,
            "expected_type": self.type_code,
            "today": dt.date.today(),
        }


def _trust_store(key: Any, key_id: str) -> Any:
    from matcher.evidence import TrustedKey, TrustStore

    return TrustStore({key_id: TrustedKey(key_id, "Ed25519", key.public_key())})


class PaginationContract(AdapterContract):
    """Extra contract for a registry whose list answers come in pages (registry protocol §1)."""

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

        assert [e.raw for e in evidence] == records
        assert [self.cursor_of(call.request) for call in route.calls] == [None, "page-2", "page-3"]

    @pytest.mark.anyio
    async def test_more_pages_than_allowed_is_unavailable(
        self, registry: respx.MockRouter, http_client: httpx.AsyncClient, clock: ContractClock
    ) -> None:
        route = self.route(registry).mock(
            side_effect=lambda request: self.reply([self.sample_record(1)], next_cursor="again")
        )
        adapter = self.make_adapter(http_client, clock, max_pages=2)

        await self.lookup_fails(adapter, RegistryUnavailable, "too_many_pages")
        assert route.call_count == 2
