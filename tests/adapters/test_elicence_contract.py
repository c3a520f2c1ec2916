"""The e-licence adapter passes the shared adapter contract."""

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import respx

from adapters.elicence import ElicenceAdapter
from adapters.model import Evidence
from adapters.testing import PaginationContract, sample_licence


class TestElicenceContract(PaginationContract):
    adapter_class = ElicenceAdapter
    type_code = "113300000000000000001"
    required_members = (
        *("licence_id", "type_code", "type_name", "number", "holder", "issuer"),
        *("issued_on", "valid_from", "valid_until", "status", "surface"),
    )

    def route(self, registry: respx.MockRouter) -> respx.Route:
        return registry.get("/v1/licences")

    def reply(
        self, records: Sequence[Mapping[str, Any]], *, next_cursor: str | None = None
    ) -> httpx.Response:
        return httpx.Response(200, json={"items": list(records), "next": next_cursor})

    def sample_record(self, serial: int) -> dict[str, Any]:
        return sample_licence(self.holder, self.type_code, serial)

    def check_mapping(self, evidence: Evidence, record: Mapping[str, Any]) -> None:
        assert evidence.id == record["licence_id"]
        assert evidence.number == record["number"]
        assert evidence.type_name == record["type_name"]
        assert evidence.issuer.model_dump() == record["issuer"]
        assert str(evidence.valid_until) == record["valid_until"]
        assert evidence.fields == record["surface"]
