"""An audit's inputs (past applications with holders' ID numbers) are kept sealed while the job
runs, in the folder store and in Redis, and read back whole by the chunk that needs them."""

from __future__ import annotations

import secrets
from pathlib import Path

import redis

from matcher.audit.jobs import FileJobStore, JobSpec, RedisJobStore
from matcher.store.sealed import Sealer

ROWS = [[{"application_id": "A-1", "applicant_id": "330902198103150314", "name": "张伟"}]]


def _spec(job_id: str) -> JobSpec:
    return JobSpec(id=job_id, kind="applications", total_rows=1, chunks=1, out_dir="/nonexistent")


def _sealer() -> Sealer:
    return Sealer({"k1": secrets.token_bytes(32)}, "k1")


def test_folder_store_keeps_inputs_sealed(tmp_path: Path) -> None:
    store = FileJobStore(tmp_path, sealer=_sealer())
    assert store.create(_spec("job-1"), ROWS)
    raw = (tmp_path / "job-1" / "inputs" / "000000.json").read_bytes()
    assert raw.startswith(b"MS1") and b"330902198103150314" not in raw
    assert store.chunk_input("job-1", 0) == ROWS[0]


def test_redis_store_keeps_inputs_sealed(redis_url: str) -> None:
    prefix = f"matcher:test-audit:{secrets.token_hex(4)}"
    store = RedisJobStore(redis_url, prefix=prefix, sealer=_sealer())
    assert store.create(_spec("job-2"), ROWS)
    raw = redis.Redis.from_url(redis_url).hget(f"{prefix}:job-2:in", "0")
    assert raw is not None and raw.startswith(b"MS1") and b"330902198103150314" not in raw
    assert store.chunk_input("job-2", 0) == ROWS[0]
