"""Audit chunks on Celery workers, Redis as the broker (``pip install 'matcher[celery]'``).

Start workers with ``matcher audit worker --config matcher.toml`` on as many machines as wanted.
A task is the chunk function of ``runner.py`` and may run twice: its result is stored once. Tasks
are acknowledged after they finish and given back when their worker process is lost, and a
message unacknowledged for ``audit_visibility_timeout_s`` goes to another worker.
"""

from __future__ import annotations

import logging
from typing import Any

from matcher.audit.jobs import JobStore, RedisJobStore
from matcher.audit.runner import AuditWorker, finalize, pending_chunks, run_chunk
from matcher.errors import ConfigError
from matcher.settings import Settings
from matcher.store.sealed import Sealer

__all__ = ["CHUNK_TASK", "enqueue", "make_celery"]

log = logging.getLogger(__name__)

CHUNK_TASK = "matcher.audit.chunk"
MAX_RETRIES = 5


def make_celery(settings: Settings) -> Any:
    """The Celery app for these settings, with the chunk task registered."""
    try:
        from celery import Celery  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the install
        raise ConfigError("Celery 未安装：pip install 'matcher[celery]'") from None
    broker = settings.audit_broker_url or settings.redis_url
    if not broker or not settings.redis_url:
        raise ConfigError("audit_runner = celery needs redis_url (and optionally audit_broker_url)")
    app = Celery("matcher-audit", broker=broker)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.audit_visibility_timeout_s,
            "unacked_restore_interval": 1,
        },
        worker_hijack_root_logger=False,
    )
    state: dict[str, Any] = {}

    def context() -> tuple[AuditWorker, JobStore]:
        if "worker" not in state:  # one per worker process, made on its first task
            state["worker"] = AuditWorker(settings, may_fork=True)
            assert settings.redis_url
            state["store"] = RedisJobStore(settings.redis_url, sealer=Sealer(*settings.data_keys()))
        return state["worker"], state["store"]

    @app.task(name=CHUNK_TASK, bind=True, max_retries=MAX_RETRIES)  # type: ignore[untyped-decorator]
    def chunk(self: Any, job_id: str, index: int) -> bool:
        worker, store = context()
        try:
            stored = run_chunk(worker, store, job_id, index)
        except Exception as exc:
            # Redis or the records database failing for a moment: run the chunk again later.
            if self.request.retries >= MAX_RETRIES:
                log.exception("audit job %s chunk %d failed for good", job_id, index)
                store.set_state(job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
                raise
            log.warning("audit job %s chunk %d failed (%s); retrying", job_id, index, exc)
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 30)) from exc
        spec = store.spec(job_id)
        assert spec is not None
        if not pending_chunks(store, spec) and store.claim_finalize(job_id):
            finalize(worker, store, job_id)
        return stored

    return app


def enqueue(app: Any, store: JobStore, job_id: str) -> int:
    """Send every chunk without a result (a new job, or one resumed after a restart)."""
    spec = store.spec(job_id)
    if spec is None:
        raise ConfigError(f"no audit job {job_id}")
    missing = pending_chunks(store, spec)
    for index in missing:
        app.send_task(CHUNK_TASK, args=[job_id, index])
    progress = store.progress(job_id)
    if not missing and progress is not None and progress.status != "done":
        # Every chunk has its result but the reports were not written: a task finalises.
        app.send_task(CHUNK_TASK, args=[job_id, 0])
    return len(missing)
