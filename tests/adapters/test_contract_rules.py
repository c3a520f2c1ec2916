"""The contract suite fails, naming the broken rule, for deliberately wrong adapters.

Each wrong adapter is the e-licence adapter with one fault put in. The suite runs against it in
a pytest of its own (``pytester``), and the test reads the JUnit report: which tests failed, and
what their failure says.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# Imported here, before any in-process run: pytester drops the modules a run imported when it
# ends, and a re-imported cryptography would raise an InvalidSignature the core cannot catch.
import matcher.waiver.evidence  # noqa: F401

WRONG_ADAPTERS = '''
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from adapters._http import Budget
from adapters.elicence import ElicenceAdapter
from adapters.errors import RegistryUnavailable
from adapters.testing import PaginationContract, sample_licence


class FiveHundredIsNothing(ElicenceAdapter):
    """Reads a registry fault as "no licence"."""

    async def lookup(self, query, context):
        try:
            return await super().lookup(query, context)
        except RegistryUnavailable as exc:
            if exc.code == "registry_fault":
                return []
            raise


class DropsTheSignature(ElicenceAdapter):
    """Keeps raw without its signature."""

    def _evidence(self, licence, raw):
        return super()._evidence(licence, {k: v for k, v in raw.items() if k != "signature"})


class IgnoresTheBudget(ElicenceAdapter):
    """Gives every lookup an hour, whatever timeout_s says."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._http.budget = lambda: Budget(3600, self._http.clock)


class Licences(PaginationContract):
    type_code = "113300000000000000001"
    required_members = ("licence_id", "holder", "status")

    def route(self, registry):
        return registry.get("/v1/licences")

    def reply(self, records: Sequence[Mapping[str, Any]], *, next_cursor=None):
        return httpx.Response(200, json={"items": list(records), "next": next_cursor})

    def sample_record(self, serial: int) -> dict[str, Any]:
        return sample_licence(self.holder, self.type_code, serial)


class TestCorrect(Licences):
    adapter_class = ElicenceAdapter


class TestFiveHundredIsNothing(Licences):
    adapter_class = FiveHundredIsNothing


class TestDropsTheSignature(Licences):
    adapter_class = DropsTheSignature


class TestIgnoresTheBudget(Licences):
    adapter_class = IgnoresTheBudget
'''


def run_suite(pytester: pytest.Pytester, contract: str) -> dict[str, str]:
    """Run the suite for one contract class; failed test → its failure message."""
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_wrong_adapters=WRONG_ADAPTERS)
    report = Path(pytester.path) / "report.xml"
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", contract, f"--junitxml={report}")
    failed: dict[str, str] = {}
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert len(cases) >= 60, f"only {len(cases)} contract tests ran"
    for case in cases:
        assert case.get("classname", "").endswith(f".{contract}")
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            failed[case.get("name", "")] = (failure.get("message") or "") + (failure.text or "")
    return failed


def test_the_correct_adapter_passes_the_whole_suite(pytester: pytest.Pytester) -> None:
    assert run_suite(pytester, "TestCorrect") == {}


def test_an_adapter_that_maps_a_500_to_no_licence_fails_naming_the_rule(
    pytester: pytest.Pytester,
) -> None:
    failed = run_suite(pytester, "TestFiveHundredIsNothing")

    message = failed["test_a_failure_never_becomes_evidence_or_an_empty_answer[500]"]
    assert "adapter contract rule [failure-not-answer] broken" in message
    assert "HTTP 500 became [] (an empty answer)" in message
    assert (
        "[failure-not-answer]" in failed["test_persistent_5xx_is_unavailable_after_every_retry[0]"]
    )
    # Only the 5xx cases fail: everything else about the adapter is right.
    assert all("5" in name or "circuit" in name for name in failed), sorted(failed)


def test_an_adapter_that_drops_the_signature_fails_naming_the_rule(
    pytester: pytest.Pytester,
) -> None:
    failed = run_suite(pytester, "TestDropsTheSignature")

    message = failed["test_signed_record_still_verifies_after_the_adapter"]
    assert "adapter contract rule [raw-intact] broken" in message
    assert "['unsigned']" in message
    assert "[raw-intact]" in failed["test_tampered_record_fails_verification_after_the_adapter"]


def test_an_adapter_that_ignores_the_budget_fails_naming_the_rule(
    pytester: pytest.Pytester,
) -> None:
    failed = run_suite(pytester, "TestIgnoresTheBudget")

    message = failed["test_silent_registry_times_out_within_the_budget"]
    assert "adapter contract rule [budget] broken" in message
    assert "timeout_s = 0.2" in message
    assert "[budget]" in failed["test_429_asking_for_more_than_the_budget_fails_at_once"]
