"""Audit jobs for the API: uploads in, a job started on the configured runner, progress out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from matcher.audit.jobs import JobStore, new_job_id
from matcher.audit.runner import InProcessRunner, create_job, open_store
from matcher.errors import InputError
from matcher.settings import Settings

__all__ = ["REPORT_TYPES", "AuditService"]

REPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "summary": "application/json",
    "catalog": "application/yaml",
}
_SAFE = re.compile(r"[^\w.\-]+")


class AuditService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store: JobStore = open_store(settings)
        self.runner: InProcessRunner | None = None
        self.celery: Any = None
        if settings.audit_runner == "celery":
            from matcher.audit.celery_app import make_celery

            self.celery = make_celery(settings)
        else:
            self.runner = InProcessRunner(settings, self.store)

    def resume(self) -> list[str]:
        """Unfinished jobs of the in-process runner continue after a restart."""
        return self.runner.resume_all() if self.runner is not None else []

    def start(
        self,
        kind: str,
        files: list[tuple[str, bytes]],
        options: dict[str, Any],
        requester: str,
    ) -> dict[str, Any]:
        if not files:
            raise InputError("请上传至少一个文件", field="files")
        job_id = new_job_id()
        folder = self.settings.resolved_audit_dir() / "uploads" / job_id
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, (name, data) in enumerate(files):
            suffix = Path(name).suffix.lower()
            if suffix not in (".xlsx", ".csv", ".jsonl", ".json", ".ndjson"):
                raise InputError(f"文件 {name} 的类型不受支持（.xlsx .csv .jsonl）", field="files")
            path = folder / f"{i:03d}-{_SAFE.sub('_', Path(name).stem)[:60]}{suffix}"
            path.write_bytes(data)
            paths.append(path)
        spec = create_job(
            self.store,
            self.settings,
            kind,
            paths,
            options={**options, "requester": requester},
            job_id=job_id,
            labels=[name for name, _ in files],
        )
        for path in paths:  # the job store holds what the job needs; ID numbers are not kept twice
            path.unlink()
        folder.rmdir()
        if self.runner is not None:
            self.runner.submit(spec.id)
        else:
            from matcher.audit.celery_app import enqueue

            enqueue(self.celery, self.store, spec.id)
        progress = self.progress(spec.id, requester)
        assert progress is not None
        return progress

    def progress(self, job_id: str, requester: str) -> dict[str, Any] | None:
        spec = self.store.spec(job_id) if re.fullmatch(r"[0-9a-f]{32}", job_id) else None
        if spec is None or spec.options.get("requester") != requester:
            return None  # another system's job is as good as none
        progress = self.store.progress(job_id)
        assert progress is not None
        out = progress.as_dict()
        out["reports"] = {name: f"/v1/audits/{job_id}/reports/{name}" for name in progress.reports}
        out["file_problems"] = spec.file_problems
        return out

    def report(self, job_id: str, name: str, requester: str) -> Path | None:
        if self.progress(job_id, requester) is None or name not in REPORT_TYPES:
            return None
        progress = self.store.progress(job_id)
        assert progress is not None
        path = progress.reports.get(name)
        return Path(path) if path else None

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
