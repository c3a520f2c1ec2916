"""Hostile input, generated: schemathesis reads the service's own OpenAPI document (over real
HTTP) and sends each operation bodies, parameters and headers made to fit it and to break it. No
answer may be a server error, and every documented answer must match its schema. Bounded: a few
dozen examples per operation, so the whole run takes a few minutes on two cores."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import ApiFactory, Sandbox

EXAMPLES = 25


def _operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_makes_a_server_error_or_an_answer_off_its_schema(
    sandbox: Sandbox, make_api: ApiFactory
) -> None:
    api = make_api(sandbox)
    operations = _operations(api.url)
    assert len(operations) >= 8, [op.label for op in operations]
    failed: dict[str, str] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=api.url,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=30,
            )

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, not just the first
            failed[operation.label] = str(exc)[:2000]
    assert not failed, "\n\n".join(f"{label}:\n{text}" for label, text in failed.items())
