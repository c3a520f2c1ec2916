"""Acceptance: a replay of 1,200 applications by real Celery workers on real Redis, against the
sandbox registry over real HTTP; one worker process is killed mid-job (SIGKILL). The job
completes and every application is counted exactly once."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from matcher.audit.celery_app import enqueue, make_celery
from matcher.audit.jobs import RedisJobStore
from matcher.audit.runner import create_job
from matcher.settings import load_settings
from matcher.store.records import Records, checks
from tests.audit import gen_applications
from tests.audit.celery_harness import start_sandbox, start_worker, write_config

APPLICATIONS = 1200


def broker_url(redis_url: str) -> str:
    # The broker on a database of its own (MATCHER_TEST_BROKER_DB, default 10); only the keys
    # Celery made there are deleted afterwards.
    base, _, _ = redis_url.rpartition("/")
    return f"{base}/{os.environ.get('MATCHER_TEST_BROKER_DB', '10')}"


@pytest.fixture
def broker(redis_url: str) -> str:
    url = broker_url(redis_url)
    yield url
    client = redis.Redis.from_url(url)
    for key in client.scan_iter("*"):
        if key.startswith((b"celery", b"_kombu", b"unacked")):
            client.delete(key)
    client.close()


def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path, redis_url: str, broker: str, postgres_url: str
) -> None:
    sandbox, url, trust = start_sandbox(tmp_path, latency_ms=5)
    Records(postgres_url).close()  # tables made once, before several processes race to
    config = write_config(
        tmp_path,
        url,
        trust,
        postgres_url,
        redis_url,
        broker,
        audit_chunk_size=40,
        audit_visibility_timeout_s=5.0,
        audit_rate_per_s=2000.0,
    )
    settings = load_settings(config)
    workers = [start_worker(config, tmp_path, f"w{i}-{uuid.uuid4().hex[:6]}") for i in range(2)]
    store = RedisJobStore(redis_url)
    try:
        apps = gen_applications.generate(APPLICATIONS, seed=11)
        path = gen_applications.write_csv(apps, tmp_path / "apps.csv")
        spec = create_job(
            store,
            settings,
            "applications",
            [path],
            tmp_path / "out",
            options={"purpose": "验收：进程被杀后的重放审计"},
        )
        assert spec.chunks == 30
        enqueue(make_celery(settings), store, spec.id)

        deadline = time.monotonic() + 120
        while (p := store.progress(spec.id)) is None or p.chunks_done < 4:
            assert time.monotonic() < deadline, "workers did not start on the job"
            time.sleep(0.05)
        workers[0].kill()  # mid-job, and with the solo pool mid-chunk
        killed_at = store.progress(spec.id)
        assert killed_at is not None and killed_at.chunks_done < spec.chunks
        log = workers[0].log_path.read_text(encoding="utf-8", errors="replace")
        # it had taken a chunk it never finished: that chunk must come back to the other worker
        assert log.count("] received") > log.count("] succeeded")

        deadline = time.monotonic() + 180
        while (p := store.progress(spec.id)) is None or p.status != "done":
            assert time.monotonic() < deadline, f"job stuck at {p}"
            time.sleep(0.2)
    finally:
        for w in workers:
            w.stop()
        sandbox.stop()

    progress = store.progress(spec.id)
    assert progress is not None
    assert progress.rows_done == progress.rows_total == APPLICATIONS
    assert progress.chunks_done == spec.chunks
    # each application in exactly one stored chunk result
    per_chunk = [
        {row["application_id"] for row in store.client and _chunk_rows(store, spec.id, i)}
        for i in range(spec.chunks)
    ]
    counted = Counter(app_id for chunk in per_chunk for app_id in chunk)
    assert set(counted) == {a["application_id"] for a in apps}
    assert set(counted.values()) == {1}
    # and one audit check per application in the usage records, however often a chunk ran
    records = Records(postgres_url)
    try:
        with records.engine.connect() as conn:
            made = conn.execute(
                select(checks.c.application_id, func.count())
                .where(checks.c.requester == f"audit:{spec.id}")
                .group_by(checks.c.application_id)
            ).all()
    finally:
        records.close()
    assert len(made) == APPLICATIONS and {n for _, n in made} == {1}
    assert Path(progress.reports["xlsx"]).exists()
    store.close()


def _chunk_rows(store: RedisJobStore, job_id: str, index: int) -> list[dict[str, str]]:
    import json

    raw = store.client.hget(f"{store.prefix}:{job_id}:out", str(index))
    rows: list[dict[str, str]] = json.loads(raw)
    return rows


def _list_config(tmp_path: Path, redis_url: str, broker: str, **extra: object) -> Path:
    """A config for material lists: Redis and the broker; no registry is asked."""
    unused = tmp_path / "unused-trust.json"
    database = f"sqlite:///{tmp_path / 'm.db'}"
    return write_config(
        tmp_path, "http://127.0.0.1:9", unused, database, redis_url, broker, **extra
    )


def test_a_material_job_runs_on_celery_workers_in_large_chunks(
    tmp_path: Path, redis_url: str, broker: str
) -> None:
    from tests.audit import gen_clerk
    from tests.audit.gen_common import write_cases

    config = _list_config(tmp_path, redis_url, broker, audit_material_chunk_size=400)
    settings = load_settings(config)
    store = RedisJobStore(redis_url)
    worker = start_worker(config, tmp_path, f"mat-{uuid.uuid4().hex[:6]}")
    try:
        listing = write_cases(gen_clerk.generate(1000), tmp_path / "list.xlsx")
        spec = create_job(store, settings, "materials", [listing], tmp_path / "out")
        assert spec.chunks == 3  # 400 rows a chunk, not audit_chunk_size's 200
        enqueue(make_celery(settings), store, spec.id)
        deadline = time.monotonic() + 120
        while (p := store.progress(spec.id)) is None or p.status != "done":
            assert time.monotonic() < deadline, p
            time.sleep(0.1)
    finally:
        worker.stop()
        store.close()

    assert p.rows_done == 1000 and Path(p.reports["xlsx"]).exists()
    rows = json.loads(Path(p.reports["json"]).read_text("utf-8"))
    assert len(rows) == 1000
    log = worker.log_path.read_text(encoding="utf-8", errors="replace")
    assert log.count("] succeeded") == 3  # the chunks ran on the worker


def test_the_cli_audits_a_material_list_here_even_with_celery(
    tmp_path: Path, redis_url: str, broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from matcher.cli import main
    from tests.audit import gen_clerk
    from tests.audit.gen_common import write_cases

    config = _list_config(tmp_path, redis_url, broker)
    listing = write_cases(gen_clerk.generate(300), tmp_path / "list.xlsx")

    code = main(
        [
            "audit",
            "materials",
            str(listing),
            "--out",
            str(tmp_path / "out"),
            "--celery",
            "--config",
            str(config),
        ]
    )  # no worker runs: the list is audited in this process

    assert code == 0
    captured = capsys.readouterr()
    printed = dict(line.split("\t") for line in captured.out.splitlines())
    assert len(json.loads(Path(printed["json"]).read_text("utf-8"))) == 300
    assert "材料清单在本机审计" in captured.err
