"""What each matter asks of an applicant the registries know: the per-matter report behind
申请零材料 and 填报零字段 (``matcher catalog report``).

Worked out from the catalog and the forms alone, for an applicant whose every record is on file:

- a material with an electronic source (an e-licence or data-certificate type) is waived;
- a material a city department issues is obtained by the window (部门协查), source or not;
- any other material is brought by the applicant: that is what "to bring" counts;
- a material asked for only in a situation (情形) is counted apart, not in the list;
- a form field with a registry source, or derived from one, is filled by the registries; a
  field taken from the request (name, ID number) is filled from the application; any other is
  typed by the applicant or the window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from matcher.applications.forms import (
    CertificateSource,
    DerivedSource,
    Forms,
    LicenceSource,
    RequestSource,
)
from matcher.catalog.matters import Catalog, Material

__all__ = ["MatterCoverage", "coverage"]


@dataclass(frozen=True)
class MatterCoverage:
    code: str
    name: str
    department: str
    materials: int  # asked for in every application (no situation)
    waived_on_records: int  # have an electronic source
    obtained_by_window: int  # city-issued with no source: 部门协查
    to_bring: list[str]  # what the applicant still brings (names)
    situational: int  # asked for only in a named situation
    form: str | None
    fields: int
    filled_by_registries: int
    from_request: int
    typed: list[str]  # field labels the applicant or the window types

    @property
    def zero_materials(self) -> bool:
        return not self.to_bring

    @property
    def zero_fields(self) -> bool:
        return self.form is not None and not self.typed

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["zero_materials"] = self.zero_materials
        out["zero_fields"] = self.zero_fields
        return out


def _brought(material: Material) -> bool:
    return not material.evidence and not material.issued_by_city and not material.application_form


def coverage(catalog: Catalog, forms: Forms) -> list[MatterCoverage]:
    """One row per matter, in catalog order."""
    rows = []
    for matter in catalog.matters:
        asked = [m for m in matter.materials if m.required and m.situation is None]
        form = forms.get(matter.form) if matter.form else None
        registry = request = 0
        typed: list[str] = []
        for f in form.fields if form is not None else ():
            kinds = {type(s) for s in f.sources}
            if kinds & {LicenceSource, CertificateSource, DerivedSource}:
                registry += 1
            elif RequestSource in kinds:
                request += 1
            else:
                typed.append(f.label)
        rows.append(
            MatterCoverage(
                code=matter.code,
                name=matter.name,
                department=matter.department,
                materials=len(asked),
                waived_on_records=sum(bool(m.evidence) for m in asked),
                obtained_by_window=sum(not m.evidence and m.issued_by_city for m in asked),
                to_bring=[m.name for m in asked if _brought(m)],
                situational=sum(m.required and m.situation is not None for m in matter.materials),
                form=form.name if form is not None else None,
                fields=len(form.fields) if form is not None else 0,
                filled_by_registries=registry,
                from_request=request,
                typed=typed,
            )
        )
    return rows
