"""Stage 1, plan: who the holders are, and the fewest registry questions that cover every
required material's evidence (plus, for an application, what its form reads)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.base import Adapter
from adapters.model import Evidence, EvidenceKind, EvidenceQuery, Holder
from matcher.catalog.ids import check_holder_id
from matcher.catalog.matters import Matter
from matcher.errors import ConsentRequired, InputError
from matcher.waiver.payloads import WaiveCheckRequest

__all__ = ["Lookup", "Planner", "check_holders", "request_hash", "require_consent"]

# (adapter, role, kind, types): one question of a matter's plan, before its holder is known.
Question = tuple[Adapter, str, EvidenceKind, tuple[str, ...]]


@dataclass
class Lookup:
    """One question to one registry, and its answer."""

    adapter: Adapter
    role: str
    query: EvidenceQuery
    status: str = "pending"  # answered | unavailable | rejected
    items: list[Evidence] = field(default_factory=list)
    signature_problems: list[str | None] = field(default_factory=list)
    from_cache: bool = False
    error_code: str | None = None


def require_consent(matter: Matter, request: WaiveCheckRequest) -> None:
    """A matter that needs the holder's consent is refused without it, before any lookup."""
    if matter.requires_consent and not request.consent_token:
        raise ConsentRequired(
            f"事项「{matter.name}」须经持证主体授权后方可调取其证照和数据，"
            "请在请求中提供 consent_token"
        )


def request_hash(request: WaiveCheckRequest) -> str:
    body = request.model_dump(mode="json", exclude={"consent_token"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def check_holders(
    request: WaiveCheckRequest, *, max_parties: int, accept_pre_standard_uscc: bool
) -> tuple[dict[str, Holder], list[str]]:
    """Role → checked holder; the applicant is role ``applicant``. Also flags to report."""
    if len(request.parties) > max_parties:
        raise InputError(f"参与方过多（最多{max_parties}个）", field="parties")
    warnings: list[str] = []
    holders: dict[str, Holder] = {}
    people = [("applicant", request.applicant, "applicant")]
    people += [(p.role, p, f"parties[{i}]") for i, p in enumerate(request.parties)]
    for role, person, where in people:
        if role in holders:
            raise InputError(f"角色 {role} 重复出现", field=f"{where}.role")
        try:
            checked = check_holder_id(
                person.id_type, person.id, accept_pre_standard_uscc=accept_pre_standard_uscc
            )
        except InputError as exc:
            raise type(exc)(str(exc), field=f"{where}.id") from None
        warnings += [f"{where}.id: {flag}" for flag in checked.flags]
        holders[role] = Holder(id_type=person.id_type, id=checked.value, name=person.name)
    return holders, warnings


class Planner:
    """Plans a check's lookups over the configured adapters; a matter's plan is worked out once
    for each set of roles present, then filled in with the holders."""

    def __init__(self, adapters: Sequence[Adapter]) -> None:
        self.adapters = list(adapters)
        self._plans: dict[tuple[str, tuple[str, ...], frozenset[str]], list[Question]] = {}
        # per matter object (Matter.asked hands out the same one for the same situations): the
        # roles its materials use and the materials it asks for; the matter is kept alive here
        self._shapes: dict[int, tuple[Matter, frozenset[str], tuple[str, ...]]] = {}

    def plan(self, matter: Matter, holders: dict[str, Holder]) -> list[Lookup]:
        """The fewest registry questions that cover every required material's evidence specs."""
        # Keyed by the roles the matter uses, not every role a caller sends: the memo stays
        # bounded by the catalog, whatever parties arrive.
        known = self._shapes.get(id(matter))
        if known is None or known[0] is not matter:
            used = frozenset(
                spec.holder_role for m in matter.materials if m.required for spec in m.evidence
            )
            # The materials asked for are part of the shape: a situation adds some.
            asked = tuple(m.code for m in matter.materials if m.required)
            known = (matter, used, asked)
            if len(self._shapes) < 4096:
                self._shapes[id(matter)] = known
        _, used, asked = known
        shape = (matter.code, asked, used.intersection(holders))
        template = self._plans.get(shape)
        if template is None:
            template = self._plans[shape] = self._template(matter, shape[2])
        return [
            Lookup(adapter, role, EvidenceQuery(kind=kind, holder=holders[role], types=types))
            for adapter, role, kind, types in template
        ]

    def _template(self, matter: Matter, roles: frozenset[str]) -> list[Question]:
        """Which adapter asks what, for which role: fixed for a matter and the roles present."""
        licence_types: dict[str, set[str]] = {}
        cert_types: dict[str, set[str]] = {}
        for material in matter.materials:
            if not material.required:
                continue
            for spec in material.evidence:
                if spec.holder_role not in roles:
                    continue
                target = licence_types if spec.kind == "e_licence" else cert_types
                target.setdefault(spec.holder_role, set()).add(spec.type)
        template: list[Question] = []
        for adapter in self.adapters:
            if adapter.kind == "e_licence":
                template += [
                    (adapter, role, "e_licence", tuple(sorted(types)))
                    for role, types in licence_types.items()
                ]
            else:
                template += [
                    (adapter, role, "data_certificate", (t,))
                    for role, types in cert_types.items()
                    for t in sorted(types)
                ]
        return template

    def extra(
        self,
        planned: list[Lookup],
        holders: dict[str, Holder],
        extra: Sequence[tuple[str, EvidenceKind, str]],
    ) -> list[Lookup]:
        """Lookups for the (role, kind, type) triples the plan does not already ask about."""
        asked = {(lk.role, lk.query.kind, t) for lk in planned for t in lk.query.types}
        wanted: dict[tuple[str, EvidenceKind], list[str]] = {}
        for role, kind, type_ in extra:
            if role in holders and (role, kind, type_) not in asked:
                types = wanted.setdefault((role, kind), [])
                if type_ not in types:
                    types.append(type_)
        lookups: list[Lookup] = []
        for (role, kind), types in wanted.items():
            for adapter in self.adapters:
                if adapter.kind != kind:
                    continue
                # As in the plan: one e-licence question per role, one per certificate type.
                groups = [tuple(sorted(types))] if kind == "e_licence" else [(t,) for t in types]
                lookups += [
                    Lookup(adapter, role, EvidenceQuery(kind=kind, holder=holders[role], types=g))
                    for g in groups
                ]
        return lookups
