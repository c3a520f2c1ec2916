"""Small parts for the stage tests: a matter, registries that answer as told, records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from adapters.base import AdapterOptions
from adapters.model import Evidence, EvidenceKind, EvidenceQuery, Holder, Issuer, RequestContext
from matcher.catalog.matters import EvidenceSpec, Material, Matter

LICENCE = "11100000000013888E001"
HOUSEHOLD_LICENCE = "11100000000013888E002"
CERT = "household_record"
APPLICANT = Holder(id_type="citizen_id", id="330902198103150314", name="张伟")


def matter(*materials: Material, code: str = "m") -> Matter:
    return Matter(code=code, name="测试事项", department="测试部门", materials=materials)


def material(code: str, *specs: EvidenceSpec, required: bool = True) -> Material:
    return Material(code=code, name=code, required=required, issued_by_city=False, evidence=specs)


def licence_spec(type_code: str = LICENCE, role: str = "applicant") -> EvidenceSpec:
    return EvidenceSpec(kind="e_licence", type_code=type_code, holder_role=role)


def cert_spec(cert_type: str = CERT, role: str = "applicant") -> EvidenceSpec:
    return EvidenceSpec(kind="data_certificate", cert_type=cert_type, holder_role=role)


def record(type_: str = LICENCE, *, id_: str = "E1", registry: str = "r-licence") -> Evidence:
    kind: EvidenceKind = "data_certificate" if type_ == CERT else "e_licence"
    return Evidence(
        kind=kind,
        registry=registry,
        id=id_,
        type=type_,
        type_name="测试证照",
        holder=APPLICANT,
        issuer=Issuer(name="舟山市公安局"),
        raw={},
    )


class Registry:
    """An adapter whose answer is a function of the query (or an exception it raises)."""

    options_model: ClassVar[type[AdapterOptions]] = AdapterOptions

    def __init__(
        self,
        name: str,
        kind: EvidenceKind,
        answer: Callable[[EvidenceQuery], list[Evidence]] = lambda q: [],
    ) -> None:
        self.name = name
        self.kind = kind  # type: ignore[misc]
        self.answer = answer
        self.options = AdapterOptions(base_url="http://127.0.0.1:9", timeout_s=1.0)
        self.asked: list[EvidenceQuery] = []

    async def lookup(self, query: EvidenceQuery, context: RequestContext) -> list[Evidence]:
        self.asked.append(query)
        return self.answer(query)


def adapter(*args: Any, **kwargs: Any) -> Any:
    """A Registry, typed as any adapter."""
    return Registry(*args, **kwargs)
