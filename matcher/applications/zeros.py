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

from matcher.applications.approval import with_form_condition
from matcher.applications.prefill import PrefillResult
from matcher.applications.service import ApplicationService
from matcher.waiver.judge import to_bring
from matcher.waiver.payloads import WaiveCheckResponse

__all__ = ["LIMIT", "MatterZeros", "five_zeros", "nothing_to_bring", "nothing_typed"]


def nothing_to_bring(check: WaiveCheckResponse) -> bool:
    return not to_bring(check.decisions)


def nothing_typed(form: PrefillResult | None) -> bool:
    if form is None:
        return False
    return all(f.value is not None and f.source is not None for f in form.fields if f.required)


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


# Applications counted per report at most: each is opened (its check unsealed) to be counted.
LIMIT = 5_000


def five_zeros(
    service: ApplicationService,
    since: dt.datetime,
    until: dt.datetime,
    *,
    matters: Collection[str] | None = None,
    limit: int = LIMIT,
) -> list[MatterZeros]:
    """One row per matter with applications made in [since, until) (the first ``limit``), most
    applications first. Reads each application's check and pre-filled form as kept, not the
    clerk's edits since (the zeros are what the service did on its own)."""
    catalog = service.checker.catalog
    records = service.checker.records
    rows: dict[str, MatterZeros] = {}
    for kept in service.store.between(since, until, matters=matters, limit=limit):
        body = records.get_check(kept.check_id)
        if body is None:  # the row's foreign key makes this a broken database
            continue
        check = WaiveCheckResponse.model_validate(body)
        form = PrefillResult.model_validate_json(kept.prefill_json) if kept.prefill_json else None
        approval = with_form_condition(check.auto_approval, form)
        z = rows.get(kept.matter_code)
        if z is None:
            marked = kept.matter_code in catalog and catalog.get(kept.matter_code).auto_approval
            z = rows[kept.matter_code] = MatterZeros(
                kept.matter_code,
                check.matter_name,
                has_form=form is not None,
                auto_approval_marked=marked,
            )
        z.applications += 1
        z.zero_materials += nothing_to_bring(check)
        z.zero_fields += nothing_typed(form)
        z.auto_approval_eligible += approval is not None and approval.status == "eligible"
        z.archived += kept.evidence_json is not None
    return sorted(rows.values(), key=lambda z: (-z.applications, z.matter_code))
