"""Find the data problems one waive-check met, as reports to file (数据问题发现).

Each problem has a subject — a record, a holder as one registry answers for them, or a registry —
and its report key is a keyed hash of (registry, subject, code): the same problem met again is
the same report. With ``watching`` on (some report awaits verification) the finder also names the
keys of problems it checked for and did not meet: a fixed report among them is verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.base import Adapter
from adapters.model import Evidence, EvidenceQuery, Holder
from matcher.catalog.departments import Directory
from matcher.catalog.ids import normalise_holder_id
from matcher.catalog.matters import Material, Matter
from matcher.problems.codes import mask_id, mask_name, scrub, verification_code
from matcher.store.records import DataProblem
from matcher.waiver.cache import keyed_hash
from matcher.waiver.decide import SpecOutcome
from matcher.waiver.evidence import check_licence_id
from matcher.waiver.payloads import MaterialDecision, UploadCheck

# A missing source has no registry to name: its reports are filed under the catalog.
SOURCE_REGISTRY = "catalog"

__all__ = ["Findings", "LookupView", "ProblemFinder"]

SIGNATURE_CODES = ("signature_invalid", "unknown_key", "issuer_mismatch")


class LookupView(Protocol):
    """What the finder reads of one registry question (matcher.waiver.check.Lookup)."""

    adapter: Adapter
    query: EvidenceQuery
    status: str
    items: list[Evidence]
    error_code: str | None


@dataclass
class Findings:
    problems: dict[str, DataProblem] = field(default_factory=dict)
    clean: set[str] = field(default_factory=set)


class ProblemFinder:
    def __init__(self, directory: Directory, secret: bytes) -> None:
        self.directory = directory
        self.secret = secret

    # -- keys ------------------------------------------------------------------------------

    def key(self, registry: str, subject: str, code: str) -> str:
        return keyed_hash(self.secret, "problem", registry, subject, code)

    def holder_hash(self, id_type: str, holder_id: str) -> str:
        return keyed_hash(self.secret, "holder", id_type, normalise_holder_id(id_type, holder_id))

    def _holder_subject(self, holder: Holder, *more: str) -> str:
        return ":".join(("holder", self.holder_hash(holder.id_type, holder.id), *more))

    # -- building reports --------------------------------------------------------------------

    def _file(
        self,
        found: Findings,
        code: str,
        registry: str,
        subject: str,
        evidence: Mapping[str, Any],
        *,
        record: Evidence | None = None,
        holder: Holder | None = None,
        department: str | None = None,
    ) -> None:
        key = self.key(registry, subject, code)
        who = holder or (record.holder if record is not None else None)
        found.problems[key] = DataProblem(
            registry=registry,
            evidence_id=scrub(record.id) if record is not None else None,
            evidence_type=record.type if record is not None else evidence.get("type"),
            issuer_code=record.issuer.code if record is not None else None,
            problem=code,
            key=key,
            department=department,
            subject=subject.split(":", 1)[0],
            holder_masked=mask_id(who.id_type, who.id) if who is not None else None,
            holder_hash=self.holder_hash(who.id_type, who.id) if who is not None else None,
            evidence_json=json.dumps(scrub(dict(evidence)), ensure_ascii=False, sort_keys=True),
        )

    def record_problem(self, code: str, record: Evidence, **facts: Any) -> DataProblem:
        """A report of ``code`` about one registry record, routed to its issuer (for problems
        found outside a check's own findings, e.g. pre-filling a form)."""
        found = Findings()
        self._file(
            found,
            code,
            record.registry,
            f"record:{record.id}",
            self._record_facts(record, **facts),
            record=record,
            department=self._owner(record),
        )
        return next(iter(found.problems.values()))

    def _owner(self, record: Evidence) -> str | None:
        return self.directory.route(
            issuer_code=record.issuer.code, issuer_name=record.issuer.name, registry=record.registry
        )

    @staticmethod
    def _record_facts(e: Evidence, **more: Any) -> dict[str, Any]:
        sig = e.raw.get("signature") if isinstance(e.raw, dict) else None
        facts = {
            "kind": e.kind,
            "registry": e.registry,
            "id": e.id,
            "type": e.type,
            "type_name": e.type_name,
            "number": e.number,
            "issuer": e.issuer.name,
            "issuer_code": e.issuer.code,
            "holder": mask_id(e.holder.id_type, e.holder.id),
            "holder_name": mask_name(e.holder.name),
            "status": e.status,
            "valid_until": e.valid_until.isoformat() if e.valid_until else None,
            "key_id": sig.get("key_id") if isinstance(sig, dict) else None,
        }
        facts.update(more)
        return facts

    # -- the finder --------------------------------------------------------------------------

    def find(
        self,
        matter: Matter,
        lookups: Sequence[LookupView],
        outcomes: Mapping[str, Sequence[SpecOutcome]],
        decisions: Iterable[MaterialDecision],
        holders: Mapping[str, Holder],
        uploads: Sequence[tuple[UploadCheck, Evidence]] = (),
        *,
        watching: bool = False,
    ) -> Findings:
        found = Findings()
        for lk in lookups:
            self._lookup(found, lk, matter.code, watching)
        for material_code, specs in outcomes.items():
            for outcome in specs:
                for c in outcome.found:
                    self._record(
                        found, c.evidence, c.verification.problems, material_code, watching
                    )
        self._missing(found, matter, decisions, holders, lookups, watching)
        for check, against in uploads:
            if check.mismatches:
                self._file(
                    found,
                    "upload_mismatch",
                    against.registry,
                    f"record:{against.id}",
                    self._record_facts(
                        against,
                        file_id=check.file_id,
                        mismatches=[m.model_dump() for m in check.mismatches],
                    ),
                    record=against,
                    department=self._owner(against),
                )
            elif watching and check.fields_compared:
                found.clean.add(
                    self.key(against.registry, f"record:{against.id}", "upload_mismatch")
                )
        found.clean.difference_update(found.problems)
        return found

    def _lookup(self, found: Findings, lk: LookupView, matter_code: str, watching: bool) -> None:
        registry = lk.adapter.name
        if lk.status == "unavailable" and lk.error_code == "malformed_response":
            self._file(
                found,
                "registry_garbage",
                registry,
                "registry",
                {"registry": registry, "error": lk.error_code, "kind": lk.query.kind},
                department=self.directory.route(registry=registry),
            )
            return
        if lk.status != "answered":
            return
        if watching:
            found.clean.add(self.key(registry, "registry", "registry_garbage"))
        asked = lk.query.holder
        wanted = normalise_holder_id(asked.id_type, asked.id)
        wrong = [
            e
            for e in lk.items
            if e.holder.id_type != asked.id_type
            or normalise_holder_id(asked.id_type, e.holder.id) != wanted
        ]
        if wrong:
            subject = self._holder_subject(asked)
            # The registry answers for one holder with another's records: its index is wrong.
            self._file(
                found,
                "holder_mismatch",
                registry,
                subject,
                {
                    "registry": registry,
                    "queried_holder": mask_id(asked.id_type, asked.id),
                    "matter_code": matter_code,
                    "records": [self._record_facts(e) for e in wrong],
                },
                holder=asked,
                department=self.directory.route(registry=registry) or self._owner(wrong[0]),
            )
        elif watching:  # the holder's keyed hash only where it is used (a few µs each)
            found.clean.add(self.key(registry, self._holder_subject(asked), "holder_mismatch"))
        for e in lk.items:
            subject = f"record:{e.id}"
            if e.kind != "e_licence":
                continue
            if not self.directory.knows_type(e.type):
                self._file(
                    found,
                    "type_not_in_directory",
                    registry,
                    subject,
                    self._record_facts(e),
                    record=e,
                    department=self._owner(e),
                )
            elif watching:
                found.clean.add(self.key(registry, subject, "type_not_in_directory"))
            id_ok = check_licence_id(e.id)
            if id_ok is False:
                self._file(
                    found,
                    "licence_id_check_failed",
                    registry,
                    subject,
                    self._record_facts(e, standard="GB/T 36904"),
                    record=e,
                    department=self._owner(e),
                )
            elif watching and id_ok:
                found.clean.add(self.key(registry, subject, "licence_id_check_failed"))

    def _record(
        self,
        found: Findings,
        e: Evidence,
        problems: tuple[str, ...],
        material_code: str,
        watching: bool,
    ) -> None:
        subject = f"record:{e.id}"
        codes = {verification_code(p) for p in problems} - {None, "holder_mismatch"}
        if "expired" in problems and e.status == "valid":
            codes.add("expired_but_valid")
        for code in sorted(c for c in codes if c is not None):
            self._file(
                found,
                code,
                e.registry,
                subject,
                self._record_facts(e, material_code=material_code, found=list(problems)),
                record=e,
                department=self._owner(e),
            )
        if watching:
            for code in (*SIGNATURE_CODES, "expired_but_valid"):
                if code not in codes:
                    found.clean.add(self.key(e.registry, subject, code))

    def _no_source(self, found: Findings, matter: Matter, material: Material) -> None:
        """A city-issued material with no electronic source: one report per matter and
        material (no holder in it), to the issuer, counted each time a check meets it."""
        self._file(
            found,
            "source_missing",
            SOURCE_REGISTRY,
            f"material:{matter.code}/{material.code}",
            {
                "matter_code": matter.code,
                "matter_name": matter.name,
                "material_code": material.code,
                "material_name": material.name,
                "issuer": material.issuer,
            },
            department=self.directory.route(issuer_name=material.issuer),
        )

    def _missing(
        self,
        found: Findings,
        matter: Matter,
        decisions: Iterable[MaterialDecision],
        holders: Mapping[str, Holder],
        lookups: Sequence[LookupView],
        watching: bool,
    ) -> None:
        """A city-issued material the registries hold no record of, or that has no electronic
        source at all (``city_issued``)."""
        for d in decisions:
            if d.basis != "city_issued" and not (watching and d.decision == "waive"):
                continue
            material = matter.material(d.material_code)
            if not material.issued_by_city:
                continue
            if not material.evidence:
                if d.basis == "city_issued":
                    self._no_source(found, matter, material)
                continue
            spec = material.evidence[0]
            holder = holders.get(spec.holder_role)
            registry = next((lk.adapter.name for lk in lookups if lk.query.kind == spec.kind), None)
            if holder is None or registry is None:
                continue
            types = ",".join(sorted(s.type for s in material.evidence))
            subject = self._holder_subject(holder, types)
            if d.basis != "city_issued":
                found.clean.add(self.key(registry, subject, "record_missing"))
                continue
            self._file(
                found,
                "record_missing",
                registry,
                subject,
                {
                    "matter_code": matter.code,
                    "material_code": material.code,
                    "material_name": material.name,
                    "issuer": material.issuer,
                    "type": spec.type,
                    "types": [s.type for s in material.evidence],
                    "holder": mask_id(holder.id_type, holder.id),
                    "holder_name": mask_name(holder.name),
                },
                holder=holder,
                department=self.directory.route(issuer_name=material.issuer)
                or self.directory.route(registry=registry),
            )
