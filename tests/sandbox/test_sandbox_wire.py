"""The sandbox speaks the registry protocol over real HTTP: shapes, signatures, pages, errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from matcher.sandbox import SampleHolder
from matcher.sandbox.samples import load_samples
from matcher.waiver.evidence import TrustStore, signature_problem
from tests.sandbox.conftest import FetchLicences

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
ID_CARD = "11100000000013888E001"
MARRIAGE = "11100000000010888Q001"
TITLE = "11100000MB1D08888P001"
SAMPLES = load_samples()
CERTIFICATE_CASES = [(c.holder, c.cert_type) for c in SAMPLES.certificates]


def _validator(name: str, pointer: str = "") -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    if not pointer:
        return Draft202012Validator(schema)
    registry: Registry[Any] = Registry().with_resource(
        schema["$id"], Resource.from_contents(schema)
    )
    return Draft202012Validator({"$ref": f"{schema['$id']}#{pointer}"}, registry=registry)


LICENCE = _validator("registry-licence.schema.json")
PAGE = _validator("registry-licence.schema.json", "/$defs/licence_page")
CERTIFICATE = _validator("registry-certificate.schema.json")


def _ask(client: httpx.Client, holder: SampleHolder, cert_type: str) -> httpx.Response:
    body = {
        "cert_type": cert_type,
        "holder": {"id_type": holder.id_type, "id": holder.id},
        "purpose": {"matter_code": "sandbox-test", "application_id": "APP-1"},
    }
    return client.post("/v1/certificates", json=body)


def test_every_page_and_licence_matches_the_wire_schema(
    client: httpx.Client, holders: dict[str, SampleHolder]
) -> None:
    seen = 0
    for holder in holders.values():
        params: dict[str, str] = {"holder_id_type": holder.id_type, "holder_id": holder.id}
        while True:
            page = client.get("/v1/licences", params=params).json()
            PAGE.validate(page)
            for item in page["items"]:
                LICENCE.validate(item)
                assert "_sandbox" not in item
                seen += 1
            if page["next"] is None:
                break
            params["cursor"] = page["next"]
    assert seen >= len(SAMPLES.licences)


def test_licence_by_id_is_the_listed_record(
    client: httpx.Client, holders: dict[str, SampleHolder], fetch_licences: FetchLicences
) -> None:
    for item in fetch_licences(holders["zhang_wei"]):
        response = client.get(f"/v1/licences/{item['licence_id']}")
        assert response.status_code == 200
        LICENCE.validate(response.json())
        assert response.json() == item


def test_unknown_licence_id_is_404_with_an_error_body(client: httpx.Client) -> None:
    response = client.get("/v1/licences/1.2.156.3005.2.nothing.here.1.001.0")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(("holder_key", "cert_type"), CERTIFICATE_CASES)
def test_every_certificate_matches_the_wire_schema_and_verifies(
    client: httpx.Client,
    holders: dict[str, SampleHolder],
    trust_store: TrustStore,
    holder_key: str,
    cert_type: str,
) -> None:
    response = _ask(client, holders[holder_key], cert_type)
    assert response.status_code == 201, response.text
    certificate = response.json()
    CERTIFICATE.validate(certificate)
    assert certificate["holder"]["id"] == holders[holder_key].id
    assert signature_problem(certificate, trust_store, certificate["source"]["code"]) is None


def test_licence_signatures_verify_except_the_deliberately_bad_ones(
    holders: dict[str, SampleHolder], trust_store: TrustStore, fetch_licences: FetchLicences
) -> None:
    found: dict[str, str | None] = {}
    for holder in holders.values():
        for item in fetch_licences(holder):
            found[item["licence_id"]] = signature_problem(item, trust_store, item["issuer"]["code"])
    expected = {
        e.licence_id: "signature_invalid"
        if e.directive.tamper
        else "unknown_key"
        if e.directive.key == "unknown"
        else None
        for e in SAMPLES.licences
    }
    assert found == expected
    assert sorted(p for p in found.values() if p) == ["signature_invalid", "unknown_key"]


def test_pages_hold_page_size_items_and_together_every_licence(
    client: httpx.Client, holders: dict[str, SampleHolder], fetch_licences: FetchLicences
) -> None:
    holder = holders["zhang_wei"]
    first = client.get(
        "/v1/licences", params={"holder_id_type": holder.id_type, "holder_id": holder.id}
    ).json()
    assert len(first["items"]) == 5
    assert isinstance(first["next"], str)
    every = fetch_licences(holder)
    ids = [item["licence_id"] for item in every]
    assert len(ids) == len(set(ids)) == 8
    assert ids[:5] == [item["licence_id"] for item in first["items"]]


def test_type_code_filter_returns_only_those_types(
    holders: dict[str, SampleHolder], fetch_licences: FetchLicences
) -> None:
    found = fetch_licences(holders["zhang_wei"], ID_CARD, MARRIAGE)
    assert sorted(item["type_code"] for item in found) == sorted([ID_CARD, MARRIAGE])
    assert fetch_licences(holders["zhang_wei"], "11100000000000000X999") == []


def test_holder_without_licences_gets_an_empty_page_not_404(
    client: httpx.Client, holders: dict[str, SampleHolder]
) -> None:
    holder = holders["sun_hao"]
    response = client.get(
        "/v1/licences", params={"holder_id_type": holder.id_type, "holder_id": holder.id}
    )
    assert response.status_code == 200
    assert response.json() == {"items": [], "next": None}


def test_lowercase_check_x_finds_the_same_holder(
    holders: dict[str, SampleHolder], fetch_licences: FetchLicences
) -> None:
    li_na = holders["li_na"]
    assert li_na.id.endswith("X")
    lower = li_na.model_copy(update={"id": li_na.id.lower()})
    assert fetch_licences(lower) == fetch_licences(li_na) != []


def test_lying_registry_returns_another_holders_licence(
    holders: dict[str, SampleHolder], fetch_licences: FetchLicences
) -> None:
    found = fetch_licences(holders["zhou_jie"], TITLE)
    assert [item["holder"]["id"] for item in found] == [holders["huang_min"].id]


@pytest.mark.parametrize(
    "params",
    [
        {"holder_id_type": "citizen_id"},
        {"holder_id": "330902198103150314"},
        {"holder_id_type": "passport", "holder_id": "330902198103150314"},
        {"holder_id_type": "citizen_id", "holder_id": "3309021981"},
        {"holder_id_type": "citizen_id", "holder_id": "330902198103150314", "cursor": "bm9wZQ"},
        {"holder_id_type": "citizen_id", "holder_id": "330902198103150314", "cursor": "%%%"},
    ],
    ids=["no-id", "no-id-type", "bad-id-type", "short-id", "foreign-cursor", "garbled-cursor"],
)
def test_bad_query_is_400_with_an_error_body(client: httpx.Client, params: dict[str, str]) -> None:
    response = client.get("/v1/licences", params=params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["message"]


def test_no_data_is_404_no_data(client: httpx.Client, holders: dict[str, SampleHolder]) -> None:
    response = _ask(client, holders["lin_hai"], "no_criminal_record")
    assert response.status_code == 404
    assert response.json()["error"] == "no_data"


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"holder": {"id_type": "citizen_id", "id": "330902198103150314"}}',
        b'{"cert_type": "tax_payment_record"}',
        b'{"cert_type": "tax_payment_record", "holder": {"id_type": "passport", "id": "E1"}}',
        b'{"cert_type": 7, "holder": {"id_type": "citizen_id", "id": "330902198103150314"}}',
        b'{"cert_type": "tax_payment_record", "holder": {"id_type": "citizen_id", "id": "12"}}',
        b'{"cert_type": "horoscope", "holder": {"id_type": "uscc", "id": "91330900MA2A1K8N01"}}',
    ],
)
def test_malformed_certificate_request_is_400(client: httpx.Client, content: bytes) -> None:
    response = client.post(
        "/v1/certificates", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] in {"bad_request", "unknown_cert_type"}


def test_certificates_are_issued_fresh_for_thirty_days(
    client: httpx.Client, holders: dict[str, SampleHolder]
) -> None:
    first = _ask(client, holders["zhang_wei"], "tax_payment_record").json()
    second = _ask(client, holders["zhang_wei"], "tax_payment_record").json()
    assert first["certificate_no"] != second["certificate_no"]
    issued = dt.datetime.fromisoformat(first["issued_at"])
    assert issued.utcoffset() == dt.timedelta(hours=8)
    assert abs(issued - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    until = dt.date.fromisoformat(first["valid_until"])
    assert until == issued.date() + dt.timedelta(days=30)
