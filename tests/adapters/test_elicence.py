"""What only the e-licence adapter does: its query, strict records, one budget, ``get``."""

import datetime as dt
import time
from typing import Any

import anyio
import httpx
import pytest
import respx

from adapters.elicence import ElicenceAdapter
from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import EvidenceQuery, Holder, RequestContext
from adapters.testing import sample_licence
from matcher.waiver.evidence import (
    TrustedKey,
    TrustStore,
    generate_key,
    sign_record,
    verify_evidence,
)
from tests.adapters.conftest import BASE_URL

pytestmark = pytest.mark.anyio

HOLDER = Holder(id_type="uscc", id="91330900MA2A0XXXX1", name="舟山某某水产有限公司")
CONTEXT = RequestContext(requester="zs-gov-hall", matter_code="330900-JY-001")
BUSINESS = "113300000000000000001"
FOOD = "113300000000000000002"


def make(client: httpx.AsyncClient, **options: Any) -> ElicenceAdapter:
    return ElicenceAdapter("zs-elicence", {"base_url": BASE_URL, **options}, client)


def query(*types: str) -> EvidenceQuery:
    return EvidenceQuery(kind="e_licence", holder=HOLDER, types=types or (BUSINESS,))


def page(*records: dict[str, Any], next_cursor: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"items": list(records), "next": next_cursor})


async def test_asks_for_the_holder_and_each_type_once(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.get("/v1/licences").mock(return_value=page())

    await make(http_client).lookup(query(BUSINESS, FOOD, BUSINESS), CONTEXT)

    params = route.calls.last.request.url.params
    assert params["holder_id_type"] == "uscc"
    assert params["holder_id"] == HOLDER.id
    assert params.get_list("type_code") == [BUSINESS, FOOD]
    assert "cursor" not in params


async def test_licence_without_end_date_is_valid_indefinitely(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    key = generate_key("Ed25519")
    record = sign_record(sample_licence(HOLDER, BUSINESS, valid_until=None), key, "zs-amr")
    registry.get("/v1/licences").mock(return_value=page(record))

    [evidence] = await make(http_client).lookup(query(), CONTEXT)

    assert evidence.valid_until is None
    store = TrustStore({"zs-amr": TrustedKey("zs-amr", "Ed25519", key.public_key())})
    result = verify_evidence(
        evidence,
        store,
        holder_id_type="uscc",
        holder_id=HOLDER.id,
        expected_type=BUSINESS,
        today=dt.date.today() + dt.timedelta(days=365 * 50),
    )
    assert result.verified, result.problems


async def test_status_the_protocol_does_not_name_is_passed_on_as_is(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    registry.get("/v1/licences").mock(
        return_value=page(sample_licence(HOLDER, BUSINESS, status="cancelled"))
    )

    [evidence] = await make(http_client).lookup(query(), CONTEXT)

    assert evidence.status == "cancelled"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("valid_until", "2041/03/03"),
        ("valid_until", 2240524800),
        ("valid_until", "2041-02-30"),
        ("issued_on", "2021-03-04T00:00:00+08:00"),
        ("licence_id", 12345),
        ("licence_id", ""),
        ("holder", {"id_type": "passport", "id": "E12345678"}),
        ("issuer", "舟山市市场监督管理局"),
        ("surface", ["名称"]),
        ("status", None),
    ],
)
async def test_member_of_the_wrong_type_makes_the_answer_malformed(
    registry: respx.MockRouter, http_client: httpx.AsyncClient, member: str, value: Any
) -> None:
    registry.get("/v1/licences").mock(
        return_value=page(sample_licence(HOLDER, BUSINESS, **{member: value}))
    )

    with pytest.raises(RegistryUnavailable) as raised:
        await make(http_client).lookup(query(), CONTEXT)

    assert raised.value.code == "malformed_response"
    assert f"items.0.{member}" in raised.value.message


async def test_duplicate_member_makes_the_answer_malformed(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    registry.get("/v1/licences").mock(
        return_value=httpx.Response(200, content=b'{"items": [], "items": [], "next": null}')
    )

    with pytest.raises(RegistryUnavailable, match="appears twice"):
        await make(http_client).lookup(query(), CONTEXT)


@pytest.mark.parametrize(
    ("status", "code"), [(404, "not_found"), (301, "unexpected_status"), (418, "unexpected_status")]
)
async def test_listing_answered_with_another_status_is_a_misconfiguration(
    registry: respx.MockRouter, http_client: httpx.AsyncClient, status: int, code: str
) -> None:
    registry.get("/v1/licences").mock(
        return_value=httpx.Response(status, headers={"Location": "https://elsewhere.test/"})
    )

    with pytest.raises(RegistryRejected) as raised:
        await make(http_client).lookup(query(), CONTEXT)

    assert raised.value.code == code


async def test_one_budget_covers_every_page(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    asked: list[str | None] = []

    async def slow_page(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params.get("cursor"))
        await anyio.sleep(0.15)
        return page(sample_licence(HOLDER, BUSINESS), next_cursor="more")

    registry.get("/v1/licences").mock(side_effect=slow_page)
    started = time.monotonic()

    with pytest.raises(RegistryUnavailable) as raised:
        await make(http_client, timeout_s=0.25).lookup(query(), CONTEXT)

    assert raised.value.code == "timeout"
    assert asked == [None, "more"]  # the second page got what the first left, not 0.25 s
    assert time.monotonic() - started < 0.25 + 0.2


async def test_query_of_another_kind_is_a_programming_error(http_client: httpx.AsyncClient) -> None:
    wrong = EvidenceQuery(kind="data_certificate", holder=HOLDER, types=("x",))

    with pytest.raises(ValueError, match="e_licence"):
        await make(http_client).lookup(wrong, CONTEXT)


async def test_get_returns_one_licence(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    record = sample_licence(HOLDER, BUSINESS, licence_id="lic-0001")
    route = registry.get("/v1/licences/lic-0001").mock(
        return_value=httpx.Response(200, json=record)
    )

    evidence = await make(http_client, api_key="k").get("lic-0001", CONTEXT)

    assert evidence is not None
    assert evidence.id == "lic-0001"
    assert evidence.raw == record
    assert route.calls.last.request.headers["Authorization"] == "Bearer k"


async def test_get_unknown_licence_is_none(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    registry.get("/v1/licences/lic-0404").mock(return_value=httpx.Response(404))

    assert await make(http_client).get("lic-0404", CONTEXT) is None


async def test_get_escapes_the_licence_id_in_the_path(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.route(method="GET").mock(return_value=httpx.Response(404))

    await make(http_client).get("a/b c?", CONTEXT)

    assert route.calls.last.request.url.raw_path == b"/v1/licences/a%2Fb%20c%3F"


async def test_get_answered_with_another_licence_is_malformed(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    other = sample_licence(HOLDER, BUSINESS, licence_id="lic-9999")
    registry.get("/v1/licences/lic-0001").mock(return_value=httpx.Response(200, json=other))

    with pytest.raises(RegistryUnavailable, match="another licence"):
        await make(http_client).get("lic-0001", CONTEXT)


async def test_get_unauthorised_is_rejected(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    registry.get("/v1/licences/lic-0001").mock(return_value=httpx.Response(401))

    with pytest.raises(RegistryRejected) as raised:
        await make(http_client).get("lic-0001", CONTEXT)

    assert raised.value.code == "unauthorised"
