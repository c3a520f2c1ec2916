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

A registry whose wire format is not the reference protocol also overrides ``status_record``,
``error_bodies`` and ``reply_with_file_url`` where its answers differ (docs/adapters.md).

The registry is a respx router plugged into the adapter's ``httpx.AsyncClient`` as a transport,
so nothing is patched. Time is a :class:`ContractClock`: real time, except that sleeps return at
once and count as elapsed, so Retry-After and backoff cost nothing and budgets still hold. A test
that fails names the rule it broke (:data:`adapters.testing.rules.RULES`).

This package is also the pytest plugin ``matcher_adapter_contract`` (entry point ``pytest11``),
so its assertions are rewritten. It imports respx and the core's evidence checks only when a test
runs: loading the plugin must never break an unrelated test run.
"""

import pytest

pytest.register_assert_rewrite(
    "adapters.testing.base",
    "adapters.testing.records",
    "adapters.testing.faults",
    "adapters.testing.wire",
)

from adapters.testing.base import ContractBase, Signer  # noqa: E402
from adapters.testing.contract import AdapterContract, PaginationContract  # noqa: E402
from adapters.testing.records import mapping_problems  # noqa: E402
from adapters.testing.rules import RULES, broken  # noqa: E402
from adapters.testing.support import (  # noqa: E402
    TIMEOUT_SLACK_S,
    ContractClock,
    contract_trust_store,
    sample_certificate,
    sample_licence,
)

__all__ = [
    "RULES",
    "TIMEOUT_SLACK_S",
    "AdapterContract",
    "ContractBase",
    "ContractClock",
    "PaginationContract",
    "Signer",
    "broken",
    "contract_trust_store",
    "mapping_problems",
    "sample_certificate",
    "sample_licence",
]
