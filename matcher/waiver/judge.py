"""Stage 3, judge: verify each record against the evidence spec that asked for it (signature,
validity, status, holder, type), compare the uploads with the verified records, and decide each
required material. The safety rule lives in :mod:`matcher.waiver.decide`: only verified
evidence waives."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from adapters.model import Evidence, Holder
from matcher.applications.prefill import FoundRecord
from matcher.catalog.matters import EvidenceSpec, Matter
from matcher.extract.kinds import DocKinds
from matcher.observe import DECISIONS, labelled
from matcher.waiver.decide import Considered, SpecOutcome, decide
from matcher.waiver.evidence import check_evidence
from matcher.waiver.payloads import (
    AutoApproval,
    MaterialDecision,
    Summary,
    UnmetCondition,
    UploadCheck,
)
from matcher.waiver.plan import Lookup
from matcher.waiver.uploads import ReadUpload, compare_upload

__all__ = ["compare_uploads", "decisions", "found_records", "outcomes", "summary", "to_bring"]


def outcomes(
    matter: Matter, lookups: list[Lookup], holders: dict[str, Holder], today: dt.date
) -> dict[str, list[SpecOutcome]]:
    """Material code → what each of its evidence specs met: the records returned for it, each
    verified once, and whether every registry asked answered."""
    verified: dict[tuple[int, str], Considered] = {}

    def consider(lookup: Lookup, index: int, spec: EvidenceSpec) -> Considered:
        e = lookup.items[index]
        memo = (id(e), spec.type)
        if memo not in verified:
            holder = holders[spec.holder_role]
            verified[memo] = Considered(
                e,
                check_evidence(
                    e,
                    lookup.signature_problems[index],
                    holder_id_type=holder.id_type,
                    holder_id=holder.id,
                    expected_type=spec.type,
                    today=today,
                ),
            )
        return verified[memo]

    # (role, kind, type) → the lookups that asked for it, and the records they returned.
    asked: dict[tuple[str, str, str], list[Lookup]] = {}
    returned: dict[tuple[str, str, str], list[tuple[Lookup, int]]] = {}
    for lk in lookups:
        for t in lk.query.types:
            asked.setdefault((lk.role, lk.query.kind, t), []).append(lk)
        for i, e in enumerate(lk.items):
            if e.type in lk.query.types:
                returned.setdefault((lk.role, lk.query.kind, e.type), []).append((lk, i))

    result: dict[str, list[SpecOutcome]] = {}
    for material in matter.materials:
        if not material.required:
            continue
        found_for: list[SpecOutcome] = []
        for spec in material.evidence:
            if spec.holder_role not in holders:
                found_for.append(SpecOutcome(spec, "party_missing"))
                continue
            key = (spec.holder_role, spec.kind, spec.type)
            mine = asked.get(key, [])
            found = tuple(consider(lk, i, spec) for lk, i in returned.get(key, ()))
            down = any(lk.status != "answered" for lk in mine) or not mine
            found_for.append(SpecOutcome(spec, "unavailable" if down else "answered", found))
        result[material.code] = found_for
    return result


def compare_uploads(
    read: dict[str, ReadUpload], found: dict[str, list[SpecOutcome]], kinds: DocKinds | None
) -> tuple[dict[str, UploadCheck], list[tuple[UploadCheck, Evidence]]]:
    """Each upload against its material's verified record; also (check, record) pairs for
    the data-problem finder (paper and registry disagreeing: one of them is wrong)."""
    compared: dict[str, UploadCheck] = {}
    pairs: list[tuple[UploadCheck, Evidence]] = []
    if not read:
        return compared, pairs
    assert kinds is not None
    for code, upload in read.items():
        verified = [c.evidence for o in found[code] for c in o.found if c.verification.verified]
        check, against = compare_upload(upload, verified, kinds)
        compared[code] = check
        if against is not None:
            pairs.append((check, against))
    return compared, pairs


def decisions(
    matter: Matter, found: dict[str, list[SpecOutcome]], compared: dict[str, UploadCheck]
) -> list[MaterialDecision]:
    """One decision per required material, in the matter's order (and counted in /metrics)."""
    made = [decide(m, found[m.code], compared.get(m.code)) for m in matter.materials if m.required]
    for (decision, basis), n in Counter((d.decision, d.basis) for d in made).items():
        labelled(DECISIONS, decision, basis).inc(n)
    return made


VERIFIED_BASES = frozenset({"e_licence", "data_certificate", "upload_verified"})


def to_bring(made: Iterable[MaterialDecision]) -> list[MaterialDecision]:
    """What the applicant still brings (申请零材料 when none): every ``require`` but the
    pre-filled application form, which is confirmed on line."""
    return [d for d in made if d.decision == "require" and d.basis != "application_form"]


def auto_approval(matter: Matter, made: list[MaterialDecision]) -> AutoApproval | None:
    """The material conditions of no-touch approval (智能秒办), for a matter marked for it."""
    if not matter.auto_approval:
        return None
    unmet = []
    # The application form is the form's condition (fields_verified), not a material's.
    brought = [d.material_name for d in to_bring(made)]
    if brought:
        unmet.append(
            UnmetCondition(
                condition="materials_waived",
                reason="有材料未能以已核验的电子证照或数据凭证免交",
                items=brought,
            )
        )
    reviewed = [
        d.material_name
        for d in made
        if d.decision == "review" or (d.decision == "waive" and d.basis not in VERIFIED_BASES)
    ]
    if reviewed:
        unmet.append(
            UnmetCondition(condition="no_review", reason="有材料需要人工核查", items=reviewed)
        )
    return AutoApproval(status="not_eligible" if unmet else "eligible", unmet=unmet)


def summary(made: list[MaterialDecision]) -> Summary:
    return Summary(
        waived=sum(d.decision == "waive" for d in made),
        required=sum(d.decision == "require" for d in made),
        review=sum(d.decision == "review" for d in made),
    )


def found_records(
    lookups: list[Lookup], holders: dict[str, Holder], today: dt.date
) -> list[FoundRecord]:
    """Every record the lookups returned for a type they asked about, with its verification
    (what an application's form is pre-filled from)."""
    found: list[FoundRecord] = []
    for lk in lookups:
        holder = holders[lk.role]
        for e, signature in zip(lk.items, lk.signature_problems, strict=True):
            if e.type not in lk.query.types:
                continue  # a record the registry should not have sent: never used
            verification = check_evidence(
                e,
                signature,
                holder_id_type=holder.id_type,
                holder_id=holder.id,
                expected_type=e.type,
                today=today,
            )
            found.append(FoundRecord(lk.role, e, verification.problems))
    return found
