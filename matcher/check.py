"""The waive-check flow: plan lookups → query registries concurrently → verify → decide → record."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

import anyio.to_thread

from adapters.base import Adapter
from adapters.errors import RegistryError, RegistryRejected
from adapters.model import Evidence, EvidenceKind, EvidenceQuery, Holder, RequestContext
from matcher.cache import Cache, cache_key
from matcher.catalog import Catalog, EvidenceSpec, Matter
from matcher.decide import Considered, SpecOutcome, decide
from matcher.errors import ConflictError, ConsentRequired, ExtractionError, InputError
from matcher.evidence import TrustStore, check_evidence, signature_problem
from matcher.extract.pipeline import Extractor
from matcher.files import FileStore, StoredFile
from matcher.ids import check_holder_id
from matcher.observe import (
    BREAKER_OPEN,
    CACHE_LOOKUPS,
    DECISIONS,
    REGISTRY_ERRORS,
    REGISTRY_LATENCY,
)
from matcher.payloads import Summary, Upload, UploadCheck, WaiveCheckRequest, WaiveCheckResponse
from matcher.prefill import FoundRecord
from matcher.problems.detect import Findings, ProblemFinder
from matcher.problems.directory import Directory, load_directory
from matcher.problems.loop import ProblemLoop
from matcher.recorder import Recorder
from matcher.records import CheckRecord, Records, StoredCheck, UsageRecord
from matcher.sealed import Sealer, open_text, seal_text
from matcher.uploads import ReadUpload, compare_upload

__all__ = ["CheckOptions", "CheckResult", "Gathered", "WaiveCheckService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOptions:
    timezone: str = "Asia/Shanghai"
    cache_ttl_s: float = 300.0
    negative_cache_ttl_s: float = 60.0
    cache_secret: bytes = b""
    accept_pre_standard_uscc: bool = False
    max_parties: int = 20
    recheck_after_s: float = 60.0


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


@dataclass(frozen=True)
class CheckResult:
    """A waive-check answer, and its JSON exactly as recorded (the API sends these bytes)."""

    response: WaiveCheckResponse
    body: bytes

    @classmethod
    def from_stored(cls, stored: StoredCheck) -> CheckResult:
        body = stored.response_json.encode()
        return cls(WaiveCheckResponse.model_validate_json(body), body)


def _recheck_context(requester: str) -> bytes:
    return f"rechecks:{requester}".encode()  # matcher.recheck.reseal_requests uses the same


@dataclass(frozen=True)
class Gathered:
    """A check made for an application: its answer, every registry record its lookups returned
    (with what verifying it found), and the uploads as read — what pre-filling a form needs."""

    result: CheckResult
    records: list[FoundRecord]
    uploads: list[ReadUpload]
    checked_at: dt.datetime


@dataclass(frozen=True)
class _Answer:
    """What one round of lookups, uploads and decisions produced, before it is recorded."""

    response: WaiveCheckResponse
    outcomes: dict[str, list[SpecOutcome]]
    read: dict[str, ReadUpload]
    upload_pairs: list[tuple[UploadCheck, Evidence]]  # each upload and the record it met


def _require_consent(matter: Matter, request: WaiveCheckRequest) -> None:
    """A matter that needs the holder's consent is refused without it, before any lookup."""
    if matter.requires_consent and not request.consent_token:
        raise ConsentRequired(
            f"事项「{matter.name}」须经持证主体授权后方可调取其证照和数据，"
            "请在请求中提供 consent_token"
        )


def request_hash(request: WaiveCheckRequest) -> str:
    body = request.model_dump(mode="json", exclude={"consent_token"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _replay(stored: StoredCheck, req_hash: str, application_id: str | None) -> CheckResult:
    """The recorded answer for an application_id, if this request is the one that made it."""
    if stored.request_hash != req_hash:
        raise ConflictError(f"申请编号 {application_id} 已用于内容不同的核验请求")
    return CheckResult.from_stored(stored)


class WaiveCheckService:
    """Answers waive-checks. Built once at start-up with everything it needs injected."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        adapters: Sequence[Adapter],
        trust_store: TrustStore,
        cache: Cache,
        records: Records,
        options: CheckOptions,
        extractor: Extractor | None = None,
        files: FileStore | None = None,
        directory: Directory | None = None,
        problem_loop: ProblemLoop | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        """``sealer`` seals what the re-check queue keeps of a request (holder IDs) at rest."""
        self.catalog = catalog
        self.adapters = list(adapters)
        self.trust_store = trust_store
        self.cache = cache
        self.records = records
        self.extractor = extractor
        self.files = files
        self.finder = ProblemFinder(directory or load_directory(), options.cache_secret)
        self.problem_loop = problem_loop
        self.sealer = sealer
        self.recorder = Recorder(records)
        self._plans: dict[
            tuple[str, frozenset[str]], list[tuple[Adapter, str, EvidenceKind, tuple[str, ...]]]
        ] = {}
        self._decoded_memo: OrderedDict[str, tuple[bytes, list[Evidence], list[str | None]]] = (
            OrderedDict()
        )
        self.options = options
        self._tz = ZoneInfo(options.timezone)
        # Applications being checked now, by (requester, application_id): a retry that arrives
        # meanwhile waits for the first copy's recorded answer instead of asking again.
        self._running: dict[tuple[str, str], asyncio.Event] = {}

    # -- stages -------------------------------------------------------------------------------

    def _holders(self, request: WaiveCheckRequest) -> tuple[dict[str, Holder], list[str]]:
        """Role → checked holder; the applicant is role ``applicant``. Also flags to report."""
        if len(request.parties) > self.options.max_parties:
            raise InputError(f"参与方过多（最多{self.options.max_parties}个）", field="parties")
        warnings: list[str] = []
        holders: dict[str, Holder] = {}
        people = [("applicant", request.applicant, "applicant")]
        people += [(p.role, p, f"parties[{i}]") for i, p in enumerate(request.parties)]
        for role, person, where in people:
            if role in holders:
                raise InputError(f"角色 {role} 重复出现", field=f"{where}.role")
            try:
                checked = check_holder_id(
                    person.id_type,
                    person.id,
                    accept_pre_standard_uscc=self.options.accept_pre_standard_uscc,
                )
            except InputError as exc:
                raise type(exc)(str(exc), field=f"{where}.id") from None
            warnings += [f"{where}.id: {flag}" for flag in checked.flags]
            holders[role] = Holder(id_type=person.id_type, id=checked.value, name=person.name)
        return holders, warnings

    def _plan(self, matter: Matter, holders: dict[str, Holder]) -> list[Lookup]:
        """The fewest registry questions that cover every required material's evidence specs."""
        # Keyed by the roles the matter uses, not every role a caller sends: the memo stays
        # bounded by the catalog, whatever parties arrive.
        used = frozenset(
            spec.holder_role for m in matter.materials if m.required for spec in m.evidence
        )
        shape = (matter.code, used.intersection(holders))
        template = self._plans.get(shape)
        if template is None:
            template = self._plans[shape] = self._plan_template(matter, shape[1])
        return [
            Lookup(
                adapter,
                role,
                EvidenceQuery(kind=kind, holder=holders[role], types=types),
            )
            for adapter, role, kind, types in template
        ]

    def _plan_template(
        self, matter: Matter, roles: frozenset[str]
    ) -> list[tuple[Adapter, str, EvidenceKind, tuple[str, ...]]]:
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
        template: list[tuple[Adapter, str, EvidenceKind, tuple[str, ...]]] = []
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

    def _decoded(self, key: str, payload: bytes) -> tuple[list[Evidence], list[str | None]]:
        """Evidence and signature findings for a cached answer; the same bytes decode once."""
        known = self._decoded_memo.get(key)
        if known is not None and known[0] == payload:
            self._decoded_memo.move_to_end(key)
            return known[1], known[2]
        items = [Evidence.model_validate(x) for x in json.loads(payload)]
        return self._remember(key, payload, items)

    def _signatures(self, items: Sequence[Evidence]) -> list[str | None]:
        """What checking each record's signature against the trust store found (None: sound)."""
        return [signature_problem(e.raw, self.trust_store, e.issuer.code) for e in items]

    def _remember(
        self, key: str, payload: bytes, items: list[Evidence]
    ) -> tuple[list[Evidence], list[str | None]]:
        sigs = self._signatures(items)
        self._decoded_memo[key] = (payload, items, sigs)
        if len(self._decoded_memo) > 4096:
            self._decoded_memo.popitem(last=False)
        return items, sigs

    async def _query_all(self, lookups: list[Lookup], context: RequestContext) -> None:
        """Answer what the cache holds (one round trip), ask the registries the rest at once."""
        keys = [cache_key(self.options.cache_secret, lk.adapter.name, lk.query) for lk in lookups]
        misses: list[tuple[Lookup, str]] = []
        for lookup, key, cached in zip(lookups, keys, await self.cache.get_many(keys), strict=True):
            if cached is not None:
                try:
                    lookup.items, lookup.signature_problems = self._decoded(key, cached)
                    lookup.status, lookup.from_cache = "answered", True
                    continue
                except ValueError:
                    log.warning("ignoring an unreadable cache entry for %s", lookup.adapter.name)
            misses.append((lookup, key))
        hits = len(lookups) - len(misses)
        if hits:
            CACHE_LOOKUPS.labels("hit").inc(hits)
        if misses:
            CACHE_LOOKUPS.labels("miss").inc(len(misses))
            await asyncio.gather(*(self._ask(lk, key, context) for lk, key in misses))

    async def _ask(self, lookup: Lookup, key: str, context: RequestContext) -> None:
        """One registry question, within the adapter's budget; faults become a status."""
        name = lookup.adapter.name
        started = time.perf_counter()
        try:
            items = await self._lookup(lookup, context)
        finally:
            REGISTRY_LATENCY.labels(name, lookup.status).observe(time.perf_counter() - started)
            if lookup.error_code is not None:
                REGISTRY_ERRORS.labels(name, lookup.error_code).inc()
            BREAKER_OPEN.labels(name).set(1 if lookup.error_code == "circuit_open" else 0)
        if items is None:
            return
        ttl = self.options.cache_ttl_s if items else self.options.negative_cache_ttl_s
        if ttl <= 0:  # caching is off: nothing to serialise or remember
            lookup.items = list(items)
            lookup.signature_problems = self._signatures(items)
            return
        payload = json.dumps(
            [e.model_dump(mode="json") for e in items], ensure_ascii=False
        ).encode()
        lookup.items, lookup.signature_problems = self._remember(key, payload, list(items))
        await self.cache.set(key, payload, ttl)

    async def _lookup(self, lookup: Lookup, context: RequestContext) -> Sequence[Evidence] | None:
        """The adapter's answer, or None with the lookup's status and error code set."""
        budget = getattr(getattr(lookup.adapter, "options", None), "timeout_s", 5.0)
        try:
            # The adapter keeps its own budget; this is the backstop for one that does not.
            # (asyncio.timeout, not wait_for: no extra task per registry question.)
            async with asyncio.timeout(budget + 0.25):
                items = await lookup.adapter.lookup(lookup.query, context)
        except TimeoutError:
            lookup.status, lookup.error_code = "unavailable", "timeout"
            log.warning("registry %s overran its budget", lookup.adapter.name)
            return None
        except RegistryRejected as exc:
            lookup.status, lookup.error_code = "rejected", exc.code
            log.error("registry %s rejected the request: %s", lookup.adapter.name, exc.message)
            return None
        except RegistryError as exc:
            lookup.status, lookup.error_code = "unavailable", exc.code
            log.warning("registry %s unavailable: %s", lookup.adapter.name, exc.message)
            return None
        except Exception:  # an adapter's own bug: as good as no answer, never a 500
            lookup.status, lookup.error_code = "unavailable", "adapter_error"
            log.exception("adapter %s failed", lookup.adapter.name)
            return None
        lookup.status = "answered"
        return items

    def _outcomes(
        self, matter: Matter, lookups: list[Lookup], holders: dict[str, Holder], today: dt.date
    ) -> dict[str, list[SpecOutcome]]:
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
            outcomes: list[SpecOutcome] = []
            for spec in material.evidence:
                if spec.holder_role not in holders:
                    outcomes.append(SpecOutcome(spec, "party_missing"))
                    continue
                key = (spec.holder_role, spec.kind, spec.type)
                mine = asked.get(key, [])
                found = tuple(consider(lk, i, spec) for lk, i in returned.get(key, ()))
                down = any(lk.status != "answered" for lk in mine) or not mine
                outcomes.append(SpecOutcome(spec, "unavailable" if down else "answered", found))
            result[material.code] = outcomes
        return result

    # -- uploads -------------------------------------------------------------------------------

    def _check_uploads(self, matter: Matter, request: WaiveCheckRequest) -> None:
        """Every upload names a required material of the matter, once."""
        if not request.uploads:
            return
        if self.extractor is None or self.files is None:
            raise InputError("本服务未启用上传材料比对", field="uploads")
        required = {m.code for m in matter.materials if m.required}
        seen: set[str] = set()
        for i, upload in enumerate(request.uploads):
            if upload.material_code not in required:
                raise InputError(
                    f"事项 {matter.code} 没有需提交的材料 {upload.material_code}",
                    field=f"uploads[{i}].material_code",
                )
            if upload.material_code in seen:
                raise InputError(
                    f"材料 {upload.material_code} 重复上传", field=f"uploads[{i}].material_code"
                )
            seen.add(upload.material_code)

    async def _read_uploads(
        self, request: WaiveCheckRequest, requester: str
    ) -> dict[str, ReadUpload]:
        assert self.extractor is not None and self.files is not None
        extractor, files = self.extractor, self.files
        stored = []
        for i, upload in enumerate(request.uploads):
            found = await anyio.to_thread.run_sync(files.get, requester, upload.file_id)
            if found is None:
                raise InputError(
                    f"文件 {upload.file_id} 不存在或已过保存期限", field=f"uploads[{i}].file_id"
                )
            stored.append((upload, found))

        async def read(upload: Upload, found: StoredFile) -> ReadUpload:
            try:
                extraction = await anyio.to_thread.run_sync(
                    lambda: extractor.extract(
                        found.data, filename=found.filename, declared_type=found.media_type
                    )
                )
            except ExtractionError as exc:
                return ReadUpload(upload.material_code, upload.file_id, None, str(exc))
            return ReadUpload(upload.material_code, upload.file_id, extraction)

        results = await asyncio.gather(*(read(u, f) for u, f in stored))
        return {r.material_code: r for r in results}

    def _compare_uploads(
        self, read: dict[str, ReadUpload], outcomes: dict[str, list[SpecOutcome]]
    ) -> tuple[dict[str, UploadCheck], list[tuple[UploadCheck, Evidence]]]:
        """Each upload against its material's verified record; also (check, record) pairs for
        the data-problem finder (paper and registry disagreeing: one of them is wrong)."""
        compared: dict[str, UploadCheck] = {}
        pairs: list[tuple[UploadCheck, Evidence]] = []
        if not read:
            return compared, pairs
        assert self.extractor is not None
        for code, upload in read.items():
            verified = [
                c.evidence for o in outcomes[code] for c in o.found if c.verification.verified
            ]
            check, against = compare_upload(upload, verified, self.extractor.kinds)
            compared[code] = check
            if against is not None:
                pairs.append((check, against))
        return compared, pairs

    def _findings(
        self,
        matter: Matter,
        lookups: list[Lookup],
        holders: dict[str, Holder],
        answer: _Answer,
    ) -> Findings:
        """The data problems this answer met (matcher.problems), to file with its record."""
        loop = self.problem_loop
        return self.finder.find(
            matter,
            lookups,
            answer.outcomes,
            answer.response.decisions,
            holders,
            answer.upload_pairs,
            watching=loop is not None and loop.watching,
        )

    async def _answer(
        self,
        matter: Matter,
        request: WaiveCheckRequest,
        requester: str,
        holders: dict[str, Holder],
        warnings: list[str],
        lookups: list[Lookup],
        as_of: dt.date | None = None,
    ) -> _Answer:
        """Ask the registries (and read the uploads) at once, verify, decide: the check's answer.
        ``as_of`` judges validity on that day instead of today (a replayed application's)."""
        now = dt.datetime.now(self._tz)
        context = RequestContext(
            requester=requester,
            matter_code=matter.code,
            application_id=request.application_id,
            consent_token=request.consent_token,
        )
        if request.uploads:
            read, _ = await asyncio.gather(
                self._read_uploads(request, requester), self._query_all(lookups, context)
            )
        else:
            read = {}
            await self._query_all(lookups, context)
        outcomes = self._outcomes(matter, lookups, holders, as_of or now.date())
        compared, upload_pairs = self._compare_uploads(read, outcomes)
        decisions = [
            decide(m, outcomes[m.code], compared.get(m.code))
            for m in matter.materials
            if m.required
        ]
        for d in decisions:
            DECISIONS.labels(d.decision, d.basis).inc()
        response = WaiveCheckResponse(
            check_id=str(uuid.uuid4()),
            matter_code=matter.code,
            matter_name=matter.name,
            application_id=request.application_id,
            checked_at=now,
            decisions=decisions,
            summary=Summary(
                waived=sum(d.decision == "waive" for d in decisions),
                required=sum(d.decision == "require" for d in decisions),
                review=sum(d.decision == "review" for d in decisions),
            ),
            warnings=warnings,
        )
        return _Answer(response, outcomes, read, upload_pairs)

    # -- the flow ------------------------------------------------------------------------------

    async def check(
        self,
        request: WaiveCheckRequest,
        requester: str,
        *,
        purpose: str | None = None,
        as_of: dt.date | None = None,
    ) -> CheckResult:
        """One waive-check. Copies of one application in this process run one after another:
        the first asks the registries and records its answer, the others then replay it.
        ``purpose`` marks an audit's check (its usage records say audit use, and why);
        ``as_of`` judges validity on that day (a replayed application's)."""
        if request.application_id is None:
            return await self._check(request, requester, purpose, as_of)
        key = (requester, request.application_id)
        while (running := self._running.get(key)) is not None:
            await running.wait()
        self._running[key] = done = asyncio.Event()
        try:
            return await self._check(request, requester, purpose, as_of)
        finally:
            del self._running[key]
            done.set()

    async def _check(
        self,
        request: WaiveCheckRequest,
        requester: str,
        purpose: str | None = None,
        as_of: dt.date | None = None,
    ) -> CheckResult:
        matter = self.catalog.get(request.matter_code)
        _require_consent(matter, request)
        self._check_uploads(matter, request)
        holders, warnings = self._holders(request)
        # Only an application_id makes a request replayable; only then is its hash compared.
        req_hash = request_hash(request) if request.application_id is not None else ""

        replaces: str | None = None
        if request.application_id is not None:
            stored = await anyio.to_thread.run_sync(
                self.records.find_idempotent, requester, request.application_id
            )
            if stored is not None:
                previous = _replay(stored, req_hash, request.application_id)
                if not any(d.basis == "registry_unavailable" for d in previous.response.decisions):
                    return previous
                replaces = stored.check_id  # the registry was down then: ask again

        lookups = self._plan(matter, holders)
        answer = await self._answer(
            matter, request, requester, holders, warnings, lookups, as_of=as_of
        )
        response = answer.response
        findings = self._findings(matter, lookups, holders, answer)
        record = self._record(response, requester, req_hash, lookups, answer.outcomes, findings)
        if purpose is not None:
            # An audit's check: marked as such, and never queued for re-checking (an audit row a
            # registry did not answer stays unknown; the audit is run again instead).
            record = dataclasses.replace(record, use="audit", purpose=purpose)
        elif request.application_id is not None and any(
            d.basis == "registry_unavailable" for d in response.decisions
        ):
            # Queued with the answer, in its transaction: checked again when the registry is back.
            record = dataclasses.replace(
                record,
                recheck_request=self._seal_request(request.model_dump_json(), requester),
                recheck_after_s=self.options.recheck_after_s,
            )
        stored = await self.recorder.save(record, replaces=replaces)
        if self.problem_loop is not None and stored.check_id == response.check_id:
            self.problem_loop.observe(findings)  # off the request path: verify, reopen, notify
        if stored.check_id != response.check_id:
            # Another request with the same application_id won the race.
            return _replay(stored, req_hash, request.application_id)
        return CheckResult(response, record.response_json.encode())

    async def recheck(self, request_json: str, requester: str) -> tuple[bool, bytes]:
        """Check a queued application again (matcher.recheck): whether its answer still meets
        an unavailable registry, and the answer's bytes."""
        if self.sealer is not None:
            request_json = open_text(self.sealer, request_json, _recheck_context(requester))
        result = await self.check(WaiveCheckRequest.model_validate_json(request_json), requester)
        still_down = any(d.basis == "registry_unavailable" for d in result.response.decisions)
        return still_down, result.body

    def _seal_request(self, text: str, requester: str) -> str:
        if self.sealer is None:
            return text
        return seal_text(self.sealer, text, _recheck_context(requester))

    # -- for an application (matcher.applications) ----------------------------------------------

    def _extra_lookups(
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

    async def gather(
        self,
        request: WaiveCheckRequest,
        requester: str,
        *,
        extra: Sequence[tuple[str, EvidenceKind, str]] = (),
    ) -> Gathered:
        """Check an application and keep everything found, for pre-filling its form.

        Unlike :meth:`check` it neither replays nor claims the application_id: the application
        keeps its own (matcher.applications). ``extra`` asks the registries about more
        (role, kind, type) than the matter's materials need — what its form reads. Every lookup
        is recorded (usage records) with the check before this returns.
        """
        matter = self.catalog.get(request.matter_code)
        _require_consent(matter, request)
        self._check_uploads(matter, request)
        holders, warnings = self._holders(request)
        lookups = self._plan(matter, holders)
        lookups += self._extra_lookups(lookups, holders, extra)
        answer = await self._answer(matter, request, requester, holders, warnings, lookups)
        response, now = answer.response, answer.response.checked_at
        found = self._found(lookups, holders, now.date())
        findings = self._findings(matter, lookups, holders, answer)
        record = self._record(
            response, requester, request_hash(request), lookups, answer.outcomes, findings
        )
        # The form's own lookups are no material's evidence: their verification comes from here.
        verified: dict[tuple[str, str | None], bool] = {
            (f.evidence.registry, f.evidence.id): f.verified for f in found
        }
        usage = tuple(
            u._replace(verified=verified.get((u.registry, u.evidence_id)))
            if u.outcome == "found" and u.verified is None
            else u
            for u in record.usage
        )
        record = replace(record, usage=usage, claims_key=False)
        await self.recorder.save(record)
        if self.problem_loop is not None:
            self.problem_loop.observe(findings)
        return Gathered(
            CheckResult(response, record.response_json.encode()),
            found,
            list(answer.read.values()),
            now,
        )

    def _found(
        self, lookups: list[Lookup], holders: dict[str, Holder], today: dt.date
    ) -> list[FoundRecord]:
        """Every record the lookups returned for a type they asked about, with its verification."""
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

    def _record(
        self,
        response: WaiveCheckResponse,
        requester: str,
        req_hash: str,
        lookups: list[Lookup],
        outcomes: dict[str, list[SpecOutcome]],
        findings: Findings,
    ) -> CheckRecord:
        usage: list[UsageRecord] = []
        verified_ids = {
            (c.evidence.registry, c.evidence.id): c.verification.verified
            for specs in outcomes.values()
            for o in specs
            for c in o.found
        }
        for lk in lookups:
            q = lk.query
            who = (lk.role, q.holder.id_type, q.holder.id, lk.adapter.name, q.kind)
            if lk.items:
                usage += [
                    UsageRecord(
                        *who,
                        e.type,
                        e.id,
                        "found",
                        verified_ids.get((e.registry, e.id)),
                        lk.from_cache,
                    )
                    for e in lk.items
                ]
            else:
                outcome = "none" if lk.status == "answered" else lk.status
                usage += [UsageRecord(*who, t, None, outcome, None, lk.from_cache) for t in q.types]
        return CheckRecord(
            check_id=response.check_id,
            requester=requester,
            application_id=response.application_id,
            matter_code=response.matter_code,
            request_hash=req_hash,
            response_json=response.model_dump_json(),
            created_at=response.checked_at,
            usage=tuple(usage),
            problems=tuple(findings.problems.values()),
        )
