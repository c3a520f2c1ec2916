"""The data-certificate adapter passes the shared adapter contract."""

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import respx

from adapters.datacert import DatacertAdapter
from adapters.model import Evidence
from adapters.testing import AdapterContract, sample_certificate


class TestDatacertContract(AdapterContract):
    adapter_class = DatacertAdapter
    type_code = "social_insurance_record"
    ok_status = 201
    required_members = (
        *("certificate_no", "cert_type", "cert_name", "holder", "source"),
        *("issued_at", "valid_until", "data"),
    )

    def route(self, registry: respx.MockRouter) -> respx.Route:
        return registry.post("/v1/certificates")

    def reply(
        self, records: Sequence[Mapping[str, Any]], *, next_cursor: str | None = None
    ) -> httpx.Response:
        if not records:
            return httpx.Response(404, json={"error": "no_data", "message": "无数据"})
        [record] = records  # one certificate per request
        return httpx.Response(201, json=record)

    def sample_record(self, serial: int) -> dict[str, Any]:
        return sample_certificate(self.holder, self.type_code, serial)

    def check_mapping(self, evidence: Evidence, record: Mapping[str, Any]) -> None:
        assert evidence.id == record["certificate_no"]
        assert evidence.type_name == record["cert_name"]
        assert evidence.issuer.name == record["source"]["department"]
        assert evidence.issuer.code == record["source"]["code"]
        assert evidence.issued_at is not None
        assert evidence.issued_at.isoformat() == record["issued_at"]
        assert evidence.fields == record["data"]
        assert evidence.status == "valid"
