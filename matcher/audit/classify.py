"""Each material under the two exemptions (两个免于提交), with the reason in Chinese.

Classes, first that applies:

- ``data_certificate`` / ``e_licence``: a data certificate or e-licence of the matched type exists
  (the second exemption), named in ``evidence``;
- ``city_issued``: a department of this city issues it (the first exemption) — from the directory,
  or, for a material that matches no type, from a 来源渠道 of 政府部门核发 whose 来源说明 names
  this city;
- ``commitment``: the list allows 告知承诺 for it;
- ``not_waivable``: none of these, and why; ``invalid``: the row lacks what classifying needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matcher.audit.matching import MaterialMatcher
from matcher.audit.sheets import MaterialRow

__all__ = ["CLASS_TEXT", "WAIVABLE", "classify_row"]

CLASS_TEXT = {
    "e_licence": "可免提交（电子证照）",
    "data_certificate": "可免提交（数据凭证）",
    "city_issued": "可免提交（本市核发）",
    "commitment": "告知承诺",
    "not_waivable": "仍需提交",
    "invalid": "数据有误",
}
WAIVABLE = frozenset({"e_licence", "data_certificate", "city_issued"})


@dataclass(frozen=True)
class Classification:
    code: str
    reason: str
    evidence: str | None = None  # 《name》 of the e-licence or data certificate


def _classify(row: MaterialRow, matcher: MaterialMatcher, city: str) -> tuple[Any, Classification]:
    if not row.valid:
        reasons = "；".join(p.reason for p in row.problems if p.fatal)
        return None, Classification("invalid", f"本行无法归类：{reasons}")
    match = matcher.match(row.name)
    t = match.type
    if t is not None:
        if t.kind == "data_certificate":
            return match, Classification(
                "data_certificate", f"可调取数据凭证《{t.name}》，免于提交", t.name
            )
        if t.electronic:
            return match, Classification(
                "e_licence", f"已有电子证照《{t.name}》，实体证照免于提交", t.name
            )
        if t.issued_by_city:
            return match, Classification(
                "city_issued", f"《{t.name}》由本市部门（{t.issuer}）核发，由窗口向核发部门获取"
            )
    elif row.channel == "政府部门核发" and (city in row.channel_note or "本市" in row.channel_note):
        return match, Classification(
            "city_issued",
            f"来源说明为本市部门核发（{row.channel_note}），应由核发部门共享；证照目录尚无对应类型",
        )
    if row.commitment:
        return match, Classification("commitment", "清单允许以告知承诺替代")
    if t is not None:
        why = f"《{t.name}》暂无电子证照，且由{t.issuer}核发（非本市部门）"
    elif match.document:
        why = "申请人填写或签署的文书（申请书、承诺书、声明等），无证照可替代"
    else:
        why = "证照目录中没有对应的证照或数据凭证，且非本市部门核发"
    return match, Classification("not_waivable", why)


def classify_row(row: MaterialRow, matcher: MaterialMatcher, city: str) -> dict[str, Any]:
    """One material's audit row (the JSON row and the spreadsheet's row sheet)."""
    match, cls = _classify(row, matcher, city)
    t = match.type if match is not None else None
    candidate = match.candidate if match is not None else None
    return {
        "file": row.file,
        "row": row.row,
        "matter_code": row.matter_code,
        "matter_name": row.matter_name,
        "department": row.department,
        "city": row.city,
        "name": row.name,
        "normalised": match.normalised if match is not None else "",
        "necessary": row.necessary,
        "commitment_allowed": row.commitment,
        "channel": row.channel,
        "type_code": t.code if t else None,
        "type_name": t.name if t else None,
        "type_kind": t.kind if t else None,
        "candidate_code": candidate.code if candidate and not t else None,
        "candidate_name": candidate.name if candidate and not t else None,
        "score": match.score if match is not None else 0.0,
        "match_reason": match.reason if match is not None else "",
        "needs_review": bool(match is not None and match.needs_review),
        "classification": cls.code,
        "classification_text": CLASS_TEXT[cls.code],
        "reason": cls.reason,
        "evidence": cls.evidence,
        "problems": [f"{p.column}：{p.reason}" for p in row.problems],
    }
