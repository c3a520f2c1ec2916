"""No-touch approval (智能秒办) for an application: the check's material conditions, and its
form's. The service never approves; it tells the business system that it may."""

from __future__ import annotations

from matcher.applications.prefill import PrefilledField, PrefillResult
from matcher.waiver.payloads import AutoApproval, UnmetCondition

__all__ = ["with_form_condition"]


def _settled(field: PrefilledField) -> bool:
    """Filled from a verified record (or derived from one), or from the request itself (its
    name and ID number, checked when it came in): nothing a person typed or must look at."""
    return field.verified or (field.source is not None and field.source.kind == "request")


def with_form_condition(
    check: AutoApproval | None, form: PrefillResult | None
) -> AutoApproval | None:
    """The check's conditions of no-touch approval, and the form's: every required field
    filled from a verified source or the request, none in conflict (a clerk's choice is a
    touch)."""
    if check is None:
        return None
    unmet = list(check.unmet)
    if form is not None:
        open_fields = [
            f.label
            for f in form.fields
            if f.required and (f.value is None or f.conflict or not _settled(f))
        ]
        if open_fields:
            unmet.append(
                UnmetCondition(
                    condition="fields_verified",
                    reason="申请表有必填项未由已核验的数据填写，或来源不一致",
                    items=open_fields,
                )
            )
    return AutoApproval(status="not_eligible" if unmet else "eligible", unmet=unmet)
