"""The five zeros (五个零) per matter, from the applications the service kept: what share of
them reached 申请零材料, 填报零字段 and 审批零人工 (智能秒办), and what share has its signed
archive package (存档零纸件). 领证零上门 is the business system's (it delivers the licence).

Per application:

- 零材料: no material is left for the applicant to bring: every decision is a waiver, a review
  the window settles (部门协查, a registry to retry), or the pre-filled application form;
- 零字段: the matter has a form, and every required field was filled from a source (a registry,
  a value derived from one, or the request) — the applicant typed nothing;
- 秒办: the application met the no-touch conditions (a matter marked for it);
- 存档: the application was kept with the registry records its check was given, so its archive
  package (docs/archive.md) proves it without paper.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import asdict, dataclass

from matcher.applications.service import ApplicationResponse, ApplicationService

__all__ = ["MatterZeros", "five_zeros", "nothing_to_bring", "nothing_typed"]


def nothing_to_bring(view: ApplicationResponse) -> bool:
    return not any(
        d.decision == "require" and d.basis != "application_form" for d in view.check.decisions
    )


def nothing_typed(view: ApplicationResponse) -> bool:
    if view.form is None:
        return False
    return all(f.value is not None and f.source is not None for f in view.form.fields if f.required)


@dataclass
class MatterZeros:
    matter_code: str
    matter_name: str
    applications: int = 0
    zero_materials: int = 0
    zero_fields: int = 0
    has_form: bool = False
    auto_approval_marked: bool = False
    auto_approval_eligible: int = 0
    archived: int = 0

    def share(self, count: int) -> float:
        return round(count / self.applications, 4) if self.applications else 0.0

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        for name in ("zero_materials", "zero_fields", "auto_approval_eligible", "archived"):
            out[f"{name}_share"] = self.share(getattr(self, name))
        return out


def five_zeros(
    service: ApplicationService,
    since: dt.datetime,
    until: dt.datetime,
    *,
    matters: Collection[str] | None = None,
) -> list[MatterZeros]:
    """One row per matter with applications made in [since, until), most applications first."""
    catalog = service.checker.catalog
    rows: dict[str, MatterZeros] = {}
    for kept in service.store.between(since, until, matters=matters):
        view = service.view(kept)
        z = rows.get(kept.matter_code)
        if z is None:
            marked = kept.matter_code in catalog and catalog.get(kept.matter_code).auto_approval
            z = rows[kept.matter_code] = MatterZeros(
                kept.matter_code,
                view.matter_name,
                has_form=view.form is not None,
                auto_approval_marked=marked,
            )
        z.applications += 1
        z.zero_materials += nothing_to_bring(view)
        z.zero_fields += nothing_typed(view)
        z.auto_approval_eligible += (
            view.auto_approval is not None and view.auto_approval.status == "eligible"
        )
        z.archived += kept.evidence_json is not None
    return sorted(rows.values(), key=lambda z: (-z.applications, z.matter_code))
