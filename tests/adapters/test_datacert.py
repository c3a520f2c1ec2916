"""What only the data-certificate adapter does: one POST per type, concurrently; no_data vs 404."""

import json
import time
from typing import Any

import anyio
import httpx
import pytest
import respx

from adapters.datacert import DatacertAdapter
from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import EvidenceQuery, Holder, RequestContext
from adapters.testing import sample_certificate
from tests.adapters.conftest import BASE_URL

pytestmark = pytest.mark.anyio

HOLDER = Holder(id_type="citizen_id", id="330902199001011237", name="张三")
CONTEXT = RequestContext(
    requester="zs-gov-hall", matter_code="330900-SB-002", application_id="APP-2026-0042"
)
INSURANCE = "social_insurance_record"
RESIDENCE = "residence_permit_record"
TAX = "individual_tax_record"


def make(client: httpx.AsyncClient, **options: Any) -> DatacertAdapter:
    return DatacertAdapter("zs-datacert", {"base_url": BASE_URL, **options}, client)


def query(*types: str) -> EvidenceQuery:
    return EvidenceQuery(kind="data_certificate", holder=HOLDER, types=types)


def no_data() -> httpx.Response:
    return httpx.Response(404, json={"error": "no_data", "message": "无数据"})


def by_type(held: dict[str, httpx.Response], delay: float = 0.0) -> Any:
    """A registry answering per requested cert_type; types it does not list have no data."""

    async def answer(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(delay)
        return held.get(json.loads(request.content)["cert_type"]) or no_data()

    return answer


async def test_posts_the_holder_and_purpose_for_each_type(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.post("/v1/certificates").mock(side_effect=by_type({}))

    await make(http_client).lookup(query(INSURANCE, RESIDENCE), CONTEXT)

    bodies = sorted((json.loads(c.request.content) for c in route.calls), key=str)
    assert bodies == [
        {
            "cert_type": t,
            "holder": {"id_type": "citizen_id", "id": HOLDER.id},
            "purpose": {"matter_code": "330900-SB-002", "application_id": "APP-2026-0042"},
        }
        for t in (RESIDENCE, INSURANCE)
    ]


async def test_purpose_without_an_application_has_no_application_id(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.post("/v1/certificates").mock(return_value=no_data())

    await make(http_client).lookup(
        query(INSURANCE), RequestContext(requester="zs-gov-hall", matter_code="330900-SB-002")
    )

    assert json.loads(route.calls.last.request.content)["purpose"] == {
        "matter_code": "330900-SB-002"
    }


async def test_types_are_asked_concurrently_within_one_budget(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    held = {
        t: httpx.Response(201, json=sample_certificate(HOLDER, t, n))
        for n, t in enumerate((INSURANCE, RESIDENCE, TAX))
    }
    registry.post("/v1/certificates").mock(side_effect=by_type(held, delay=0.15))
    started = time.monotonic()

    evidence = await make(http_client, timeout_s=0.3).lookup(
        query(INSURANCE, RESIDENCE, TAX), CONTEXT
    )

    assert [e.type for e in evidence] == [INSURANCE, RESIDENCE, TAX]
    assert time.monotonic() - started < 0.3


async def test_type_without_data_is_left_out(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    held = {RESIDENCE: httpx.Response(201, json=sample_certificate(HOLDER, RESIDENCE))}
    registry.post("/v1/certificates").mock(side_effect=by_type(held))

    evidence = await make(http_client).lookup(query(INSURANCE, RESIDENCE), CONTEXT)

    assert [e.type for e in evidence] == [RESIDENCE]


@pytest.mark.parametrize(
    "body",
    [None, b"<html>Not Found</html>", b'{"detail": "Not Found"}', b'{"error": "not_found"}'],
    ids=["no-body", "html", "fastapi-default", "other-error-code"],
)
async def test_404_without_no_data_is_a_misconfiguration_not_an_empty_answer(
    registry: respx.MockRouter, http_client: httpx.AsyncClient, body: bytes | None
) -> None:
    registry.post("/v1/certificates").mock(return_value=httpx.Response(404, content=body))

    with pytest.raises(RegistryRejected) as raised:
        await make(http_client).lookup(query(INSURANCE), CONTEXT)

    assert raised.value.code == "not_found"
    assert "base_url" in raised.value.message


async def test_one_type_failing_fails_the_whole_lookup(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    held = {
        INSURANCE: httpx.Response(201, json=sample_certificate(HOLDER, INSURANCE)),
        RESIDENCE: httpx.Response(503),
    }
    registry.post("/v1/certificates").mock(side_effect=by_type(held))

    with pytest.raises(RegistryUnavailable) as raised:
        await make(http_client, max_retries=0).lookup(query(INSURANCE, RESIDENCE), CONTEXT)

    assert raised.value.code == "registry_fault"


async def test_a_refusal_outranks_an_outage_among_failing_types(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    held = {INSURANCE: httpx.Response(503), RESIDENCE: httpx.Response(403)}
    registry.post("/v1/certificates").mock(side_effect=by_type(held))

    with pytest.raises(RegistryRejected) as raised:
        await make(http_client, max_retries=0).lookup(query(INSURANCE, RESIDENCE), CONTEXT)

    assert raised.value.code == "unauthorised"


async def test_status_added_by_a_registry_is_honoured(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    revoked = sample_certificate(HOLDER, INSURANCE, status="revoked")
    registry.post("/v1/certificates").mock(return_value=httpx.Response(201, json=revoked))

    [evidence] = await make(http_client).lookup(query(INSURANCE), CONTEXT)

    assert evidence.status == "revoked"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("issued_at", "2026-11-27T10:00:00"),
        ("issued_at", "2026-11-27"),
        ("valid_until", "27/12/2026"),
        ("data", "正常"),
        ("source", {"code": "11330900002648496D"}),
    ],
)
async def test_member_of_the_wrong_type_makes_the_answer_malformed(
    registry: respx.MockRouter, http_client: httpx.AsyncClient, member: str, value: Any
) -> None:
    record = sample_certificate(HOLDER, INSURANCE, **{member: value})
    registry.post("/v1/certificates").mock(return_value=httpx.Response(201, json=record))

    with pytest.raises(RegistryUnavailable) as raised:
        await make(http_client).lookup(query(INSURANCE), CONTEXT)

    assert raised.value.code == "malformed_response"
    assert member in raised.value.message
