"""The contract's hooks, fixtures and helpers; the tests themselves are in the rule modules."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import anyio
import httpx
import pytest

from adapters.base import Adapter, AdapterOptions
from adapters.errors import RegistryError
from adapters.model import Evidence, EvidenceQuery, Holder, RequestContext
from adapters.testing.rules import broken
from adapters.testing.support import TIMEOUT_SLACK_S, ContractClock

if TYPE_CHECKING:
    import respx

__all__ = ["ContractBase", "Signer"]

# Signs a wire record the way its issuer does (the suite's key, the registry's format).
Signer = Callable[[dict[str, Any]], dict[str, Any]]


def describe_answer(result: object) -> str:
    if isinstance(result, list):
        return "[] (an empty answer)" if not result else f"{len(result)} evidence record(s)"
    return repr(result)


def _add_member(value: Any) -> Any:
    """``value`` with an unknown member added to every object in it."""
    if isinstance(value, dict):
        out = {k: _add_member(v) for k, v in value.items()}
        out["x_contract_extra"] = {"说明": "协议新增成员", "n": 1.5}
        return out
    if isinstance(value, list):
        return [_add_member(v) for v in value]
    return value


class ContractBase(ABC):
    """Subclass as ``Test<Registry>`` (through :class:`adapters.testing.AdapterContract`): set
    ``adapter_class`` and ``type_code``, fill in the abstract hooks; override the others only
    where the registry differs from the reference protocol."""

    adapter_class: ClassVar[type[Any]]
    type_code: ClassVar[str]
    ok_status: ClassVar[int] = 200
    required_members: ClassVar[tuple[str, ...]] = ()
    base_url: ClassVar[str] = "https://registry.contract.test"
    file_host: ClassVar[str] = "files.contract.test"
    registry_name: ClassVar[str] = "registry-under-test"
    holder: ClassVar[Holder] = Holder(id_type="citizen_id", id="330902199001011237", name="张三")
    context: ClassVar[RequestContext] = RequestContext(
        requester="contract-suite",
        matter_code="MATTER-0001",
        application_id="APP-2026-0001",
        consent_token="consent-token-0001",
    )

    # -- hooks every registry fills in ------------------------------------------------------

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

    # -- hooks with reference-protocol defaults ---------------------------------------------

    def check_mapping(self, evidence: Evidence, record: Mapping[str, Any]) -> None:
        """Assert the adapter-specific fields of ``evidence`` made from ``record``."""
        return None  # the shared tests already check kind, registry, type, holder and raw

    def status_record(self, serial: int, status: str | None) -> dict[str, Any]:
        """A sample record whose status is ``status`` (valid, expired, revoked, suspended) in the
        registry's own words or codes; ``None``: a status word the registry does not define."""
        return {**self.sample_record(serial), "status": status or "pending_review"}

    def with_unknown_members(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record`` with members the adapter cannot know, in every object of it."""
        return cast(dict[str, Any], _add_member(record))

    def error_bodies(self) -> dict[str, httpx.Response]:
        """Answers with a success status whose body says the registry failed, by label."""
        return {
            "error-object": httpx.Response(
                self.ok_status, json={"error": "internal_error", "message": "系统繁忙"}
            ),
            "error-beside-empty-items": httpx.Response(
                self.ok_status,
                json={"items": [], "next": None, "error": "quota_exceeded", "message": "超出配额"},
            ),
        }

    def reply_with_file_url(self, record: dict[str, Any], url: str, sign: Signer) -> httpx.Response:
        """The answer holding ``record`` that comes with ``url``, a signed link to the licence's
        file. In the reference protocol a link can only be a member its issuer signed; a registry
        that sends one beside the signed record overrides this."""
        return self.reply([sign({**record, "file_url": url})])

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

    async def lookup(
        self,
        adapter: Adapter,
        query: EvidenceQuery | None = None,
        context: RequestContext | None = None,
    ) -> list[Evidence]:
        """One lookup, stopped (and failed as a broken budget) well past the adapter's budget."""
        options = getattr(adapter, "options", None)
        budget = float(getattr(options, "timeout_s", 30.0))
        deadline = budget + TIMEOUT_SLACK_S + 1.0
        try:
            with anyio.fail_after(deadline):
                return await adapter.lookup(query or self.query(), context or self.context)
        except TimeoutError:
            pytest.fail(
                broken(
                    "budget",
                    f"the lookup was still running {deadline:g} s after it started, "
                    f"with timeout_s = {budget:g}",
                ),
                pytrace=False,
            )

    async def lookup_fails(
        self,
        adapter: Adapter,
        error: type[RegistryError],
        code: str,
        *,
        what: str = "",
        rule: str = "failure-not-answer",
    ) -> RegistryError:
        """Assert one lookup raises ``error`` with ``code``, and names no holder ID."""
        what = what or f"a failure that should raise {error.__name__}({code})"
        try:
            result = await self.lookup(adapter)
        except RegistryError as exc:
            if not isinstance(exc, error):
                pytest.fail(
                    broken(
                        rule,
                        f"{what} raised {type(exc).__name__}({exc.code!r}), "
                        f"expected {error.__name__}({code!r})",
                    ),
                    pytrace=False,
                )
            if exc.code != code:
                pytest.fail(
                    broken("error-types", f"{what} raised code {exc.code!r}, expected {code!r}"),
                    pytrace=False,
                )
            if exc.registry != self.registry_name:
                pytest.fail(
                    broken("error-types", f"the error names registry {exc.registry!r}"),
                    pytrace=False,
                )
            if self.holder.id in str(exc):
                pytest.fail(
                    broken("no-ids-in-messages", f"{what}: the error message holds the ID"),
                    pytrace=False,
                )
            return exc
        except Exception as exc:
            pytest.fail(
                broken("error-types", f"{what} raised {type(exc).__name__}: {exc}"), pytrace=False
            )
        pytest.fail(
            broken("failure-not-answer", f"{what} became {describe_answer(result)}"),
            pytrace=False,
        )

    async def lookup_raises(self, adapter: Adapter, *, what: str, rule: str) -> RegistryError:
        """Assert one lookup raises some :class:`RegistryError` (any code)."""
        try:
            result = await self.lookup(adapter)
        except RegistryError as exc:
            if self.holder.id in str(exc):
                pytest.fail(
                    broken("no-ids-in-messages", f"{what}: the error message holds the ID"),
                    pytrace=False,
                )
            return exc
        except Exception as exc:
            pytest.fail(
                broken("error-types", f"{what} raised {type(exc).__name__}: {exc}"), pytrace=False
            )
        pytest.fail(broken(rule, f"{what} became {describe_answer(result)}"), pytrace=False)

    @staticmethod
    def with_member(response: httpx.Response, name: str, value: Any) -> httpx.Response:
        """``response`` with one more member in its JSON object body (other bodies unchanged)."""
        try:
            doc = json.loads(response.content)
        except ValueError:
            return response
        if not isinstance(doc, dict):
            return response
        doc[name] = value
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=doc)
