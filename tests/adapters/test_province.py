"""The provincial adapter's own wire: the signed envelope, answer codes, dates and holders."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
import respx

from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import EvidenceQuery, Holder, RequestContext
from adapters.province import ProvinceAdapter
from tests.adapters.conftest import BASE_URL
from tests.adapters.test_province_contract import PATH, answer, province_cert

CITIZEN = Holder(id_type="citizen_id", id="330902198103150314", name="张伟")
COMPANY = Holder(id_type="uscc", id="91330900MA2A1K8N01")
CONTEXT = RequestContext(requester="zs-amr-ywxt", matter_code="ent-establish", application_id="A-1")
TYPE = "11100000000013888E010"


def _adapter(client: httpx.AsyncClient) -> ProvinceAdapter:
    options = {
        "base_url": BASE_URL,
        "app_id": "zs-matcher",
        "app_secret": "s3cret",
        "max_retries": 0,
    }
    return ProvinceAdapter("zj-province", options, client)


async def _lookup(client: httpx.AsyncClient, holder: Holder = CITIZEN, *types: str) -> Any:
    query = EvidenceQuery(kind="e_licence", holder=holder, types=types or (TYPE,))
    return await _adapter(client).lookup(query, CONTEXT)


@pytest.mark.anyio
async def test_request_is_an_envelope_signed_over_its_sorted_members(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.post(PATH).mock(return_value=answer([]))

    await _lookup(http_client, CITIZEN, TYPE, "11100000000013888E001", TYPE)

    body = json.loads(route.calls.last.request.content)
    assert body["appId"] == "zs-matcher"
    assert body["holderCode"] == CITIZEN.id and body["holderTypeCode"] == "111"
    assert body["certTypeCode"] == f"{TYPE},11100000000013888E001"
    assert body["useCause"] == "ent-establish" and body["applyNo"] == "A-1"
    assert abs(int(body["timestamp"]) / 1000 - time.time()) < 5
    assert len(body["nonce"]) == 16
    # Computed here by hand: members but sign, sorted by name, k=v joined with &.
    text = "&".join(f"{k}={body[k]}" for k in sorted(body) if k != "sign")
    expected = hmac.new(b"s3cret", text.encode(), hashlib.sha256).hexdigest()
    assert body["sign"] == expected


@pytest.mark.anyio
async def test_an_organisation_is_asked_for_by_credit_code(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    cert = province_cert(COMPANY.id, TYPE, holderTypeCode="001")
    route = registry.post(PATH).mock(return_value=answer([{"cert": cert}]))

    [evidence] = await _lookup(http_client, COMPANY)

    assert json.loads(route.calls.last.request.content)["holderTypeCode"] == "001"
    assert (evidence.holder.id_type, evidence.holder.id) == ("uscc", COMPANY.id)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "error", "error_code"),
    [
        ("1001", RegistryRejected, "unauthorised"),
        ("1002", RegistryRejected, "unauthorised"),
        ("1003", RegistryRejected, "unauthorised"),
        ("2001", RegistryRejected, "bad_request"),
        ("3001", RegistryUnavailable, "rate_limited"),
        ("9999", RegistryUnavailable, "registry_fault"),
        ("4040", RegistryUnavailable, "error_in_body"),
    ],
)
async def test_answer_codes_become_errors_without_echoing_the_message(
    registry: respx.MockRouter,
    http_client: httpx.AsyncClient,
    code: str,
    error: type[Exception],
    error_code: str,
) -> None:
    body = {"code": code, "msg": f"持证人{CITIZEN.id}无权查询", "data": []}
    registry.post(PATH).mock(return_value=httpx.Response(200, json=body))

    with pytest.raises(error) as raised:
        await _lookup(http_client)

    assert getattr(raised.value, "code", None) == error_code
    assert CITIZEN.id not in str(raised.value)


@pytest.mark.anyio
async def test_a_licence_without_an_end_date_is_valid_for_good(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    cert = province_cert(CITIZEN.id, TYPE, validEnd="长期", issueDate="20000229")
    registry.post(PATH).mock(return_value=answer([{"cert": cert}]))

    [evidence] = await _lookup(http_client)

    assert evidence.valid_until is None
    assert evidence.issued_on is not None and evidence.issued_on.isoformat() == "2000-02-29"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "changes",
    [
        {"validEnd": "2036-01-01"},
        {"validBegin": "20260230"},
        {"validEnd": ""},
        {"holderTypeCode": "414"},
        {"surface": [{"name": "姓名", "value": "张伟"}, {"name": "姓名", "value": "李四"}]},
        {"surface": {"姓名": "张伟"}},
    ],
    ids=["dashed-date", "no-such-day", "empty-end", "passport-holder", "label-twice", "dict-face"],
)
async def test_a_record_the_format_does_not_allow_is_malformed(
    registry: respx.MockRouter, http_client: httpx.AsyncClient, changes: dict[str, Any]
) -> None:
    cert = province_cert(CITIZEN.id, TYPE, **changes)
    registry.post(PATH).mock(return_value=answer([{"cert": cert}]))

    with pytest.raises(RegistryUnavailable) as raised:
        await _lookup(http_client)

    assert raised.value.code == "malformed_response"
