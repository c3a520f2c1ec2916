"""Running audit jobs: create a job from files, the chunk function, finalising, the in-process
runner. Celery workers (``celery_app.py``) call the same :func:`run_chunk` and :func:`finalize`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from matcher.audit.bulk import Ready, in_halves, no_gc_pauses
from matcher.audit.export import read_reviewed
from matcher.audit.html import write_html
from matcher.audit.jobs import FileJobStore, JobSpec, JobStore, RedisJobStore, new_job_id
from matcher.audit.limits import LocalRateLimiter, RateLimitedAdapter, RateLimiter, RedisRateLimiter
from matcher.audit.matching import DEFAULT_THRESHOLD, MaterialMatcher
from matcher.audit.materials import (
    audit_material_rows,
    load_material_lists,
    row_from_dict,
    write_json_rows,
    write_material_reports,
)
from matcher.audit.xlsx import write_xlsx
from matcher.catalog.licences import Directory, load_directory
from matcher.errors import InputError
from matcher.settings import Settings
from matcher.store.sealed import Sealer

__all__ = [
    "AuditWorker",
    "InProcessRunner",
    "create_job",
    "finalize",
    "open_store",
    "run_chunk",
]

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> JobStore:
    """Redis when the chunks go to Celery workers; otherwise a folder under the state folder."""
    if settings.audit_runner == "celery":
        if not settings.redis_url:
            raise InputError("audit_runner = celery 需要配置 redis_url")
        return RedisJobStore(settings.redis_url, sealer=Sealer(*settings.data_keys()))
    return FileJobStore(settings.resolved_audit_dir(), sealer=Sealer(*settings.data_keys()))


def _digest(paths: Sequence[Path], options: dict[str, Any], kind: str) -> str:
    h = hashlib.sha256(kind.encode())
    for path in paths:
        h.update(path.read_bytes())
    h.update(json.dumps(options, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()[:32]


def create_job(
    store: JobStore,
    settings: Settings,
    kind: str,
    paths: Sequence[Path],
    out_dir: Path | None = None,
    *,
    options: dict[str, Any] | None = None,
    job_id: str | None = None,
    labels: Sequence[str] | None = None,
) -> JobSpec:
    """Read the files, split them into chunks and store the job; the same files and options
    give the same job id when ``job_id`` is "auto" (a CLI run resumes where it stopped)."""
    options = dict(options or {})
    if kind == "materials":
        mapping = options.get("columns") or {}
        rows, problems = load_material_lists(paths, mapping)
        if labels:  # uploads: report the names the user gave, not the temporary files
            names = {p.name: label for p, label in zip(paths, labels, strict=True)}
            for r in rows:
                r.file = names.get(r.file, r.file)
            for i, p in enumerate(problems):
                problems[i] = type(p)(names.get(p.file, p.file), p.row, p.column, p.reason, p.fatal)
        items: list[dict[str, Any]] = [r.as_dict() for r in rows]
        file_problems = [asdict(p) for p in problems]
    elif kind == "applications":
        from matcher.audit.replay import read_applications  # the service: not for a list

        if not options.get("purpose"):
            raise InputError("多收材料审计须说明用途（purpose），它会记入用证记录", field="purpose")
        items = []
        for path, label in zip(paths, labels or [p.name for p in paths], strict=True):
            for app in read_applications(path):
                app["source"] = label
                items.append(app)
        file_problems = []
    else:
        raise InputError(f"未知的审计类型 {kind!r}（materials 或 applications）", field="kind")
    if job_id == "auto":  # the same files, options and folder for the reports: the same job
        job_id = _digest(paths, {**options, "out": str(out_dir or "")}, kind)
    job_id = job_id or new_job_id()
    size = settings.audit_material_chunk_size if kind == "materials" else settings.audit_chunk_size
    chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    out = out_dir or settings.resolved_audit_dir() / job_id / "reports"
    spec = JobSpec(job_id, kind, len(items), len(chunks), str(out), options, file_problems)
    if not store.create(spec, chunks):
        existing = store.spec(job_id)
        assert existing is not None
        return existing
    return spec


def material_matcher(directory: Directory, options: dict[str, Any]) -> MaterialMatcher:
    """The matcher a material job's options ask for: its threshold and reviewed mappings."""
    threshold = float(options.get("threshold") or DEFAULT_THRESHOLD)
    return MaterialMatcher(directory, threshold, options.get("reviewed") or {})


def audit_city(settings: Settings, options: dict[str, Any]) -> str:
    """本市 for a material job: its option, else the configured one."""
    return str(options.get("city") or settings.audit_city)


class AuditWorker:
    """What one process needs to run chunks: the directory, matchers, and for replays the
    waive-check service on an event loop of its own, with rate-limited adapters."""

    def __init__(self, settings: Settings, *, may_fork: bool = False) -> None:
        self.settings = settings
        # A Celery worker process may fork report writers; a server's thread may not.
        self.may_fork = may_fork
        self._directory: Directory | None = None
        self._matchers: dict[str, MaterialMatcher] = {}
        self._loop = asyncio.Runner()
        self._services: Any = None
        self._checker: Any = None
        self._limiter: RateLimiter | None = None

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = load_directory(self.settings.audit_directory)
        return self._directory

    def matcher(self, options: dict[str, Any]) -> MaterialMatcher:
        key = json.dumps(
            [options.get("threshold"), options.get("reviewed")], sort_keys=True, ensure_ascii=False
        )
        if key not in self._matchers:
            self._matchers[key] = material_matcher(self.directory, options)
        return self._matchers[key]

    def process(self, spec: JobSpec, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if spec.kind == "materials":
            with no_gc_pauses():
                rows = [row_from_dict(item) for item in items]
                city = audit_city(self.settings, spec.options)
                return audit_material_rows(rows, self.matcher(spec.options), city)
        return self._loop.run(self._replay(spec, items))

    async def _replay(self, spec: JobSpec, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from matcher.audit.replay import replay_applications
        from matcher.waiver.check import WaiveCheckService
        from matcher.wiring import build_services

        s = self.settings
        if self._checker is None:
            self._services = services = build_services(s)
            if s.audit_runner == "celery" and s.redis_url:
                self._limiter = RedisRateLimiter(
                    s.redis_url, s.audit_rate_limits, s.audit_rate_per_s, "matcher:audit"
                )
            else:
                self._limiter = LocalRateLimiter(s.audit_rate_limits, s.audit_rate_per_s)
            limiter = self._limiter
            self._checker = WaiveCheckService(
                catalog=services.catalog,
                adapters=[RateLimitedAdapter(a, limiter) for a in services.adapters],  # type: ignore[misc]
                trust_store=services.trust_store,
                cache=services.cache,
                records=services.records,
                options=services.checker.options,
            )
        return await replay_applications(
            items,
            self._checker,
            self._services.catalog,
            requester=f"{s.audit_requester}:{spec.id}"[:128],
            purpose=str(spec.options["purpose"]),
            concurrency=int(spec.options.get("concurrency") or s.audit_concurrency),
            forms=self._services.forms,
        )

    def close(self) -> None:
        async def shut() -> None:
            if self._services is not None:
                await self._services.aclose()
            if isinstance(self._limiter, RedisRateLimiter):
                await self._limiter.aclose()

        self._loop.run(shut())
        self._loop.close()


def run_chunk(
    worker: AuditWorker,
    store: JobStore,
    job_id: str,
    index: int,
    on_rows: Callable[[int], None] | None = None,
) -> bool:
    """The chunk function: True when this run stored the chunk's result, False when a run
    before it had (its rows are then not counted again). ``on_rows`` hears how many rows the
    chunk held."""
    if store.has_result(job_id, index):
        return False
    spec = store.spec(job_id)
    if spec is None:
        raise InputError(f"没有编号为 {job_id} 的审计任务")
    items = store.chunk_input(job_id, index)
    store.mark_started(job_id)
    results = worker.process(spec, items)
    stored = store.put_result(job_id, index, results, counted=len(items))
    if on_rows is not None:
        on_rows(len(items))
    return stored


def finalize(worker: AuditWorker, store: JobStore, job_id: str) -> dict[str, str]:
    """Write the reports from every chunk's result; the job is then done."""
    spec = store.spec(job_id)
    assert spec is not None
    with no_gc_pauses():
        return _finalize(worker, store, job_id, spec)


def _finalize(worker: AuditWorker, store: JobStore, job_id: str, spec: JobSpec) -> dict[str, str]:
    rows = store.results(job_id)
    out = Path(spec.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if spec.kind == "materials":
        from matcher.audit.sheets import RowProblem

        problems = [RowProblem(**p) for p in spec.file_problems]
        paths = write_material_reports(
            rows, problems, out, worker.directory, two_processes=worker.may_fork
        )
    else:
        from matcher.audit.replay_report import replay_report

        report = replay_report(rows)
        paths = {
            "xlsx": out / "report.xlsx",
            "html": out / "report.html",
            "json": out / "applications.json",
            "summary": out / "summary.json",
        }
        write_xlsx(report, paths["xlsx"])
        write_html(report, paths["html"])
        write_json_rows(rows, paths["json"])
        summary = {"headline": dict(report.headline), **report.extra}
        paths["summary"].write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    reports = {name: str(path) for name, path in paths.items()}
    store.set_state(job_id, status="done", reports=reports)
    # The inputs hold holders' ID numbers and are needed only until every chunk has its result.
    store.drop_inputs(job_id)
    return reports


def audit_materials_here(
    settings: Settings,
    paths: Sequence[Path],
    out: Path,
    options: dict[str, Any],
    on_rows: Callable[[int], None] | None = None,
) -> tuple[dict[str, str], int, int]:
    """A material-list audit from start to end in this process, with no job kept: matching costs
    a few microseconds a row, less than keeping the rows for a resume would (sealed chunks in,
    results out, read back). Returns the reports, the rows and the files that could not be read."""
    from matcher.audit.html import prepare_charts

    # The page's process, forked now, imports matplotlib while this one reads the list.
    page = Ready(prepare_charts, write_html)
    try:
        with no_gc_pauses():
            return _audit_list(settings, paths, out, options, on_rows, page)
    finally:
        page.cancel()


def _audit_list(
    settings: Settings,
    paths: Sequence[Path],
    out: Path,
    options: dict[str, Any],
    on_rows: Callable[[int], None] | None,
    page: Ready,
) -> tuple[dict[str, str], int, int]:
    from matcher.audit.classify import classify_row
    from matcher.audit.sheets import RowProblem, read_list_body

    directory = load_directory(settings.audit_directory)
    matcher = material_matcher(directory, options)
    city = audit_city(settings, options)
    results: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    for path in paths:
        body, file_problems = read_list_body(path, options.get("columns") or {})
        problems += file_problems
        if body is None:
            continue

        def classify(part: list[tuple[int, list[str]]], body: Any = body) -> list[dict[str, Any]]:
            return [classify_row(body.row(number, cells), matcher, city) for number, cells in part]

        results += in_halves(body.cells, classify)  # two processes, a half each
        if on_rows is not None:
            on_rows(len(body.cells))
    written = write_material_reports(
        results, problems, out, directory, two_processes=True, page=page
    )
    return {name: str(path) for name, path in written.items()}, len(results), len(problems)


def pending_chunks(store: JobStore, spec: JobSpec) -> list[int]:
    return [i for i in range(spec.chunks) if not store.has_result(spec.id, i)]


class InProcessRunner:
    """Runs jobs one after another on one thread of this process: nothing else to start."""

    def __init__(self, settings: Settings, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
        self._worker: AuditWorker | None = None

    def run(self, job_id: str, on_chunk: Callable[[int], None] | None = None) -> dict[str, str]:
        """Run a job's remaining chunks here and now, then finalise it."""
        if self._worker is None:
            self._worker = AuditWorker(self.settings)
        spec = self.store.spec(job_id)
        assert spec is not None
        try:
            for index in pending_chunks(self.store, spec):
                run_chunk(self._worker, self.store, job_id, index, on_rows=on_chunk)
            return finalize(self._worker, self.store, job_id)
        except Exception as exc:
            log.exception("audit job %s failed", job_id)
            self.store.set_state(job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise

    def submit(self, job_id: str) -> Future[dict[str, str]]:
        return self._pool.submit(self.run, job_id)

    def resume_all(self) -> list[str]:
        """Queue every job that has not finished (after a restart)."""
        resumed = []
        for job_id in self.store.job_ids():
            progress = self.store.progress(job_id)
            if progress is not None and progress.status in ("queued", "running"):
                self.submit(job_id)
                resumed.append(job_id)
        return resumed

    def close(self) -> None:
        worker = self._worker

        def shut() -> None:
            if worker is not None:
                worker.close()

        self._pool.submit(shut).result()
        self._pool.shutdown()


def reviewed_from(path: Path | None) -> dict[str, str | None]:
    return read_reviewed(path) if path is not None else {}
