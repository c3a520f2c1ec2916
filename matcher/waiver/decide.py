"""Per-material decisions. The safety rule lives here and nowhere else:

**never waive on evidence that was not verified.** A bad or unknown signature, an expired, revoked
or suspended licence, a holder mismatch, or a registry that did not answer all end in ``require`` or
``review``. Only a record with no verification problem at all can waive a material.

The first of the two exemptions (本市核发材料一律免交) is decided here too: a material a city
department issued, for which the registries answered but hold no record — or for which no
electronic source is connected at all — is not handed back to the applicant: the window obtains it
from the issuing department (``review`` / ``city_issued``). It is never a waiver: nothing verified
stands behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from adapters.model import Evidence
from matcher.catalog.ids import is_citizen_id, mask_id
from matcher.catalog.matters import EvidenceSpec, Material
from matcher.waiver.evidence import Verification
from matcher.waiver.payloads import Basis, DecisionKind, MaterialDecision, UploadCheck

__all__ = ["CITY_ISSUER_FALLBACK", "Considered", "SpecOutcome", "decide"]

# Who the reason names when the catalog gives a city-issued material no issuer.
CITY_ISSUER_FALLBACK = "本市核发部门"

PROBLEM_TEXT = {
    "unsigned": "缺少签名",
    "unknown_key": "签名密钥不在信任列表中",
    "alg_mismatch": "签名算法与密钥不符",
    "issuer_mismatch": "签发机构与密钥不符",
    "signature_invalid": "签名验证失败（数据可能被篡改）",
    "holder_mismatch": "持证主体与申请人不一致",
    "type_mismatch": "证照类型不符",
    "expired": "已过有效期",
    "not_yet_valid": "尚未生效",
    "revoked": "已注销",
    "suspended": "已暂停使用",
    "status_unknown": "状态无法识别",
}

ROLE_TEXT = {
    "applicant": "申请人",
    "legal_representative": "法定代表人",
    "spouse": "配偶",
    "seller": "卖方",
    "buyer": "买方",
    "employer": "用人单位",
    "contractor": "施工单位",
}


@dataclass(frozen=True)
class Considered:
    """One registry record found for an evidence spec, with its verification."""

    evidence: Evidence
    verification: Verification


@dataclass(frozen=True)
class SpecOutcome:
    """What the registries said for one evidence spec of a material."""

    spec: EvidenceSpec
    status: Literal["answered", "unavailable", "party_missing"]
    found: tuple[Considered, ...] = ()


def _ref(c: Considered, role: str) -> dict[str, object]:
    """An EvidenceRef's fields: validated with the decision that holds it, in one pass."""
    e, v = c.evidence, c.verification
    return {
        "kind": e.kind,
        "registry": e.registry,
        "id": e.id,
        "type": e.type,
        "type_name": e.type_name,
        "number": e.number,
        "holder_role": role,
        "issuer": e.issuer.name,
        "valid_until": e.valid_until,
        "verified": v.verified,
        "problems": list(v.problems),
        "flags": list(v.flags),
    }


def _shown(number: str) -> str:
    """A licence number as a reason shows it: an ID card's number (a citizen's ID number) masked
    like the workbench masks it (330902********0314); any other as it is."""
    return mask_id("citizen_id", number) if is_citizen_id(number) else number


def _label(c: Considered) -> str:
    e = c.evidence
    name = e.type_name or e.type
    what = "电子证照" if e.kind == "e_licence" else "数据凭证"
    no = f"，编号{_shown(e.number or e.id)}" if e.kind == "e_licence" else f"，凭证号{e.id}"
    return f"{what}《{name}》（{e.issuer.name}{no}）"


def _problems_text(c: Considered) -> str:
    return "、".join(PROBLEM_TEXT.get(p, p) for p in c.verification.problems)


def decide(
    material: Material, outcomes: Sequence[SpecOutcome], upload: UploadCheck | None = None
) -> MaterialDecision:
    """One decision for one material from everything its evidence specs turned up, and from the
    comparison of an uploaded document with the verified registry record, when there is one."""
    base = _decide(material, outcomes)
    if upload is None:
        return base
    base.upload = upload
    label = f"上传的材料（文件 {upload.file_id}）"
    if upload.mismatches:
        fields = "、".join(m.label for m in upload.mismatches)
        base.decision, base.basis = "review", "upload_mismatch"
        base.reason = f"{label}与已核验的电子证照不一致：{fields}；请人工核查"
    elif base.decision == "waive" and upload.fields_compared:
        base.basis = "upload_verified"
        base.reason = (
            f"{label}与已核验的电子证照一致（比对{len(upload.fields_compared)}项）；{base.reason}"
        )
    elif base.basis == "city_issued":
        base.reason += "；已上传的材料无可比对的已核验电子证照，仅供参考"
    elif base.decision == "require":
        # A document is in hand but nothing verified stands behind it: a person must look.
        base.decision, base.basis = "review", "upload_unverified"
        base.reason = f"{label}无可比对的已核验电子证照，请人工核查原件"
    return base


def _decide(material: Material, outcomes: Sequence[SpecOutcome]) -> MaterialDecision:
    refs = [_ref(c, o.spec.holder_role) for o in outcomes for c in o.found]

    def make(decision: DecisionKind, basis: Basis, reason: str) -> MaterialDecision:
        allowed = material.accept_commitment and decision != "waive"
        if allowed:
            reason += "；本材料可采用告知承诺方式办理"
        return MaterialDecision.model_validate(
            {
                "material_code": material.code,
                "material_name": material.name,
                "decision": decision,
                "basis": basis,
                "reason": reason,
                "commitment_allowed": allowed,
                "evidence": refs,
            }
        )

    if material.application_form:
        # Filled in by the service from the verified records (POST /v1/applications): the
        # applicant confirms it on line and brings nothing.
        return make(
            "require",
            "application_form",
            "申请表由系统依据已核验的数据预填，申请人核对确认即可，无需另行准备",
        )
    if not material.evidence:
        if material.issued_by_city:
            # No electronic source is connected, but the city issued it: still not the
            # applicant's errand (部门协查); a data problem asks the issuer for a source.
            issuer = material.issuer or CITY_ISSUER_FALLBACK
            return make(
                "review",
                "city_issued",
                f"该材料属本市核发（{issuer}），尚未接入电子证照或数据凭证；不需申请人提交，"
                f"请窗口通过部门协查向{issuer}获取（已反馈数据问题：缺少电子数据源）",
            )
        return make(
            "require", "no_evidence_source", "该材料暂无可替代的电子证照或数据凭证，需申请人提交"
        )

    found = [c for o in outcomes for c in o.found]
    verified = [c for c in found if c.verification.verified]
    if verified:
        # Prefer an e-licence: the physical licence it replaces is what the applicant would bring.
        best = min(verified, key=lambda c: c.evidence.kind != "e_licence")
        basis: Basis = "e_licence" if best.evidence.kind == "e_licence" else "data_certificate"
        return make("waive", basis, f"已核验{_label(best)}，免于提交")

    broken = [c for c in found if c.verification.integrity_failed]
    if broken:
        return make(
            "review",
            "evidence_invalid",
            f"查询到{_label(broken[0])}，但未通过核验：{_problems_text(broken[0])}；请人工核查",
        )

    if any(o.status == "unavailable" for o in outcomes):
        return make(
            "review",
            "registry_unavailable",
            "证照库或数据凭证服务未能及时答复，无法核验；请稍后重试或人工核查",
        )

    if found:
        return make(
            "require",
            "evidence_invalid",
            f"{_label(found[0])}{_problems_text(found[0])}，需提交有效材料",
        )

    missing = [o.spec.holder_role for o in outcomes if o.status == "party_missing"]
    if missing and len(missing) == len(outcomes):
        roles = "、".join(dict.fromkeys(ROLE_TEXT.get(r, r) for r in missing))
        return make("require", "party_missing", f"申请中未提供{roles}信息，无法查询，需提交材料")

    if material.issued_by_city:
        # The registries answered and hold nothing: the record the city should hold is missing.
        # The applicant is not sent to fetch it (部门协查); a data problem goes to the issuer.
        issuer = material.issuer or CITY_ISSUER_FALLBACK
        return make(
            "review",
            "city_issued",
            f"未查询到该材料的电子证照或数据凭证；该材料属本市核发（{issuer}），不需申请人提交，"
            f"请窗口通过部门协查向{issuer}获取（已反馈数据问题：数据缺失）",
        )

    return make("require", "no_evidence", "未查询到可用的电子证照或数据凭证，需申请人提交")
