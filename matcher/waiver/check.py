"""The waive-check, as the sequence of its stages:

1. plan (:mod:`~matcher.waiver.plan`): the holders, checked; the fewest registry questions;
2. gather (:mod:`~matcher.waiver.gather`, :mod:`~matcher.waiver.read_uploads`): the cache and the
   registries, and the uploads, at once;
3. judge (:mod:`~matcher.waiver.judge`): verify, compare the uploads, decide each material;
4. record (:mod:`~matcher.waiver.record`): the answer, its usage records and data problems,
   committed by the recorder before the answer is sent.

This module runs them, replays an application's recorded answer, and keeps two copies of one
application from asking twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

import anyio.to_thread

from adapters.base import Adapter
from adapters.model import Evidence, EvidenceKind, Holder, RequestContext
from matcher.applications.prefill import FoundRecord
from matcher.catalog.departments import Directory, load_directory
from matcher.catalog.matters import Catalog, Matter
from matcher.errors import ConflictError
from matcher.extract.pipeline import Extractor
from matcher.problems.detect import Findings, ProblemFinder
from matcher.problems.loop import ProblemLoop
from matcher.store.checks import new_check_id
from matcher.store.files import FileStore
from matcher.store.recorder import Recorder
from matcher.store.records import Records, StoredCheck
from matcher.store.sealed import Sealer
from matcher.waiver import judge
from matcher.waiver.cache import Cache
from matcher.waiver.decide import SpecOutcome
from matcher.waiver.evidence import TrustStore
from matcher.waiver.gather import Gatherer
from matcher.waiver.payloads import UploadCheck, WaiveCheckRequest, WaiveCheckResponse
from matcher.waiver.plan import Lookup, Planner, check_holders, request_hash, require_consent
from matcher.waiver.read_uploads import UploadReader
from matcher.waiver.record import check_record, open_request, seal_request
from matcher.waiver.uploads import ReadUpload

__all__ = ["CheckOptions", "CheckResult", "Gathered", "WaiveCheckService", "request_hash"]


@dataclass(frozen=True)
class CheckOptions:
    timezone: str = "Asia/Shanghai"
    cache_ttl_s: float = 300.0
    negative_cache_ttl_s: float = 60.0
    cache_secret: bytes = b""
    accept_pre_standard_uscc: bool = False
    max_parties: int = 20
    recheck_after_s: float = 60.0


@dataclass(frozen=True)
class CheckResult:
    """A waive-check answer, and its JSON exactly as recorded (the API sends these bytes)."""

    response: WaiveCheckResponse
    body: bytes

    @classmethod
    def from_stored(cls, stored: StoredCheck) -> CheckResult:
        body = stored.response_json.encode()
        return cls(WaiveCheckResponse.model_validate_json(body), body)


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
        self.options = options
        self.planner = Planner(self.adapters)
        self.gatherer = Gatherer(
            cache=cache,
            trust_store=trust_store,
            cache_secret=options.cache_secret,
            cache_ttl_s=options.cache_ttl_s,
            negative_cache_ttl_s=options.negative_cache_ttl_s,
            sealer=sealer,
        )
        self.uploads = UploadReader(extractor, files)
        self._tz = ZoneInfo(options.timezone)
        # Applications being checked now, by (requester, application_id): a retry that arrives
        # meanwhile waits for the first copy's recorded answer instead of asking again.
        self._running: dict[tuple[str, str], asyncio.Event] = {}

    # -- the stages, in order ---------------------------------------------------------------------

    def _plan(
        self,
        request: WaiveCheckRequest,
        extra: Sequence[tuple[str, EvidenceKind, str]] = (),
    ) -> tuple[Matter, dict[str, Holder], list[str], list[Lookup]]:
        """Stage 1: the matter, its holders (checked) and warnings, and the lookups to make."""
        # The matter as this application meets it: its named situations' materials only.
        matter = self.catalog.get(request.matter_code).asked(request.situations)
        require_consent(matter, request)
        self.uploads.check(matter, request)
        holders, warnings = check_holders(
            request,
            max_parties=self.options.max_parties,
            accept_pre_standard_uscc=self.options.accept_pre_standard_uscc,
        )
        lookups = self.planner.plan(matter, holders)
        if extra:  # an application's form reads more than its materials need
            lookups += self.planner.extra(lookups, holders, extra)
        return matter, holders, warnings, lookups

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
        """Stages 2 and 3: ask the registries and read the uploads at once, then judge.
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
                self.uploads.read(request, requester), self.gatherer.gather(lookups, context)
            )
        else:  # no task for uploads that are not there
            read = {}
            await self.gatherer.gather(lookups, context)
        found = judge.outcomes(matter, lookups, holders, as_of or now.date())
        kinds = self.extractor.kinds if self.extractor is not None else None
        compared, upload_pairs = judge.compare_uploads(read, found, kinds)
        decisions = judge.decisions(matter, found, compared)
        response = WaiveCheckResponse(
            check_id=new_check_id(),
            matter_code=matter.code,
            matter_name=matter.name,
            application_id=request.application_id,
            checked_at=now,
            decisions=decisions,
            summary=judge.summary(decisions),
            warnings=warnings,
            auto_approval=judge.auto_approval(matter, decisions),
        )
        return _Answer(response, found, read, upload_pairs)

    def _findings(
        self, matter: Matter, lookups: list[Lookup], holders: dict[str, Holder], answer: _Answer
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

    # -- a waive-check ----------------------------------------------------------------------------

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
        matter, holders, warnings, lookups = self._plan(request)
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

        answer = await self._answer(
            matter, request, requester, holders, warnings, lookups, as_of=as_of
        )
        response = answer.response
        findings = self._findings(matter, lookups, holders, answer)
        record = check_record(response, requester, req_hash, lookups, answer.outcomes, findings)
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
                recheck_request=seal_request(self.sealer, request.model_dump_json(), requester),
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
        """Check a queued application again (matcher.waiver.recheck): whether its answer still
        meets an unavailable registry, and the answer's bytes."""
        request_json = open_request(self.sealer, request_json, requester)
        result = await self.check(WaiveCheckRequest.model_validate_json(request_json), requester)
        still_down = any(d.basis == "registry_unavailable" for d in result.response.decisions)
        return still_down, result.body

    # -- for an application (matcher.applications.service) ----------------------------------------

    async def gather(
        self,
        request: WaiveCheckRequest,
        requester: str,
        *,
        extra: Sequence[tuple[str, EvidenceKind, str]] = (),
    ) -> Gathered:
        """Check an application and keep everything found, for pre-filling its form.

        Unlike :meth:`check` it neither replays nor claims the application_id: the application
        keeps its own (matcher.applications.service). ``extra`` asks the registries about more
        (role, kind, type) than the matter's materials need — what its form reads. Every lookup
        is recorded (usage records) with the check before this returns.
        """
        matter, holders, warnings, lookups = self._plan(request, extra)
        answer = await self._answer(matter, request, requester, holders, warnings, lookups)
        response, now = answer.response, answer.response.checked_at
        found = judge.found_records(lookups, holders, now.date())
        findings = self._findings(matter, lookups, holders, answer)
        record = check_record(
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
