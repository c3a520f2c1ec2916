"""Audit jobs: input split into chunks, one chunk function, results kept idempotently by chunk.

A job's spec and chunk inputs are written once. A chunk's result is written only if none is
there yet (file: a hard link that fails when the name exists; Redis: HSETNX in one script with
the counters), so a chunk run twice — a worker killed mid-chunk and its message delivered again —
is counted once. A job whose process stopped resumes by running the chunks without a result.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from matcher.errors import RecordsUnavailable
from matcher.store.sealed import Sealer, SealError

__all__ = ["FileJobStore", "JobSpec", "JobStore", "Progress", "RedisJobStore", "new_job_id"]


def new_job_id() -> str:
    return uuid.uuid4().hex


@dataclass
class JobSpec:
    id: str
    kind: str  # materials | applications
    total_rows: int
    chunks: int
    out_dir: str
    options: dict[str, Any] = field(default_factory=dict)
    file_problems: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)


@dataclass
class Progress:
    job_id: str
    kind: str
    status: str  # queued | running | done | failed
    rows_total: int
    rows_done: int
    chunks_total: int
    chunks_done: int
    started_at: float | None
    updated_at: float | None
    reports: dict[str, str]
    error: str | None = None

    @property
    def rate(self) -> float:
        """Rows per second since the job started."""
        if not self.started_at or not self.updated_at or self.updated_at <= self.started_at:
            return 0.0
        return self.rows_done / (self.updated_at - self.started_at)

    def as_dict(self) -> dict[str, Any]:
        left = self.rows_total - self.rows_done
        eta = round(left / self.rate, 1) if self.rate and left else (0.0 if not left else None)
        return {**asdict(self), "rate_per_s": round(self.rate, 1), "eta_s": eta}


class JobStore(Protocol):
    def create(self, spec: JobSpec, inputs: list[list[dict[str, Any]]]) -> bool: ...
    def spec(self, job_id: str) -> JobSpec | None: ...
    def chunk_input(self, job_id: str, index: int) -> list[dict[str, Any]]: ...
    def has_result(self, job_id: str, index: int) -> bool: ...
    def put_result(
        self, job_id: str, index: int, rows: list[dict[str, Any]], counted: int
    ) -> bool: ...
    def results(self, job_id: str) -> list[dict[str, Any]]: ...
    def progress(self, job_id: str) -> Progress | None: ...
    def set_state(self, job_id: str, **state: Any) -> None: ...
    def mark_started(self, job_id: str) -> None: ...
    def claim_finalize(self, job_id: str) -> bool: ...
    def job_ids(self) -> list[str]: ...
    def drop_inputs(self, job_id: str) -> None: ...


def _dump(value: Any) -> bytes:
    return orjson.dumps(value)


def _seal_input(sealer: Sealer | None, job_id: str, rows: list[dict[str, Any]]) -> bytes:
    """A chunk's input rows (holders' ID numbers) as kept: sealed with the data key."""
    data = _dump(rows)
    return sealer.seal(data, f"audit:{job_id}".encode()) if sealer is not None else data


def _open_input(sealer: Sealer | None, job_id: str, blob: bytes) -> list[dict[str, Any]]:
    if sealer is not None:
        try:
            blob = sealer.open(blob, f"audit:{job_id}".encode())
        except SealError as exc:
            raise RecordsUnavailable(f"an audit chunk cannot be opened: {exc}") from None
    rows: list[dict[str, Any]] = orjson.loads(blob)
    return rows


class FileJobStore:
    """Jobs in a folder (one process at a time: the in-process runner and the CLI)."""

    def __init__(self, root: Path, sealer: Sealer | None = None) -> None:
        self.root = root
        self.sealer = sealer

    def _dir(self, job_id: str) -> Path:
        return self.root / job_id

    def _write_new(self, path: Path, data: bytes) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        tmp.write_bytes(data)
        try:
            os.link(tmp, path)  # fails if another run already wrote this chunk
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink()

    def create(self, spec: JobSpec, inputs: list[list[dict[str, Any]]]) -> bool:
        folder = self._dir(spec.id)
        if (folder / "spec.json").exists():
            return False
        for i, rows in enumerate(inputs):
            self._write_new(
                folder / "inputs" / f"{i:06d}.json", _seal_input(self.sealer, spec.id, rows)
            )
        self._write_new(folder / "spec.json", _dump(asdict(spec)))
        self.set_state(spec.id, status="queued")
        return True

    def spec(self, job_id: str) -> JobSpec | None:
        path = self._dir(job_id) / "spec.json"
        if not path.exists():
            return None
        return JobSpec(**json.loads(path.read_bytes()))

    def chunk_input(self, job_id: str, index: int) -> list[dict[str, Any]]:
        blob = (self._dir(job_id) / "inputs" / f"{index:06d}.json").read_bytes()
        return _open_input(self.sealer, job_id, blob)

    def _result_path(self, job_id: str, index: int) -> Path:
        return self._dir(job_id) / "results" / f"{index:06d}.json"

    def has_result(self, job_id: str, index: int) -> bool:
        return self._result_path(job_id, index).exists()

    def put_result(self, job_id: str, index: int, rows: list[dict[str, Any]], counted: int) -> bool:
        body = _dump({"counted": counted, "rows": rows})
        return self._write_new(self._result_path(job_id, index), body)

    def _result_files(self, job_id: str) -> list[Path]:
        folder = self._dir(job_id) / "results"
        return sorted(folder.glob("[0-9]*.json")) if folder.exists() else []

    def results(self, job_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for path in self._result_files(job_id):
            rows += orjson.loads(path.read_bytes())["rows"]
        return rows

    def _state(self, job_id: str) -> dict[str, Any]:
        path = self._dir(job_id) / "state.json"
        return json.loads(path.read_bytes()) if path.exists() else {}

    def set_state(self, job_id: str, **state: Any) -> None:
        path = self._dir(job_id) / "state.json"
        merged = {**self._state(job_id), **state, "updated_at": time.time()}
        tmp = path.with_name(f".state.{uuid.uuid4().hex}")
        tmp.write_bytes(_dump(merged))
        os.replace(tmp, path)

    def mark_started(self, job_id: str) -> None:
        """Running, from now, unless a chunk started before (one process: no race here)."""
        if "started_at" not in self._state(job_id):
            self.set_state(job_id, status="running", started_at=time.time())

    def progress(self, job_id: str) -> Progress | None:
        spec = self.spec(job_id)
        if spec is None:
            return None
        state = self._state(job_id)
        files = self._result_files(job_id)
        done = 0
        for path in files:
            with path.open("rb") as f:
                head = f.read(64)
            done += int(head.split(b",", 1)[0].split(b":")[1])
        return Progress(
            job_id,
            spec.kind,
            state.get("status", "queued"),
            spec.total_rows,
            done,
            spec.chunks,
            len(files),
            state.get("started_at"),
            state.get("updated_at"),
            state.get("reports", {}),
            state.get("error"),
        )

    def claim_finalize(self, job_id: str) -> bool:
        return self._write_new(self._dir(job_id) / "finalizing", b"1")

    def drop_inputs(self, job_id: str) -> None:
        for path in (self._dir(job_id) / "inputs").glob("*.json"):
            path.unlink()

    def job_ids(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.parent.name for p in self.root.glob("*/spec.json"))


# KEYS: results hash, state hash. ARGV: chunk index, result JSON, rows counted, now.
_PUT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'rows_done', ARGV[3])
  redis.call('HINCRBY', KEYS[2], 'chunks_done', 1)
  redis.call('HSET', KEYS[2], 'updated_at', ARGV[4])
  return 1
end
return 0
"""


class RedisJobStore:
    """Jobs in Redis, shared by the API, the CLI and every Celery worker."""

    def __init__(
        self,
        url: str,
        prefix: str = "matcher:audit",
        ttl_s: int = 30 * 86400,
        sealer: Sealer | None = None,
    ) -> None:
        import redis

        self.sealer = sealer
        self.client: Any = redis.Redis.from_url(url)
        self.prefix = prefix
        self.ttl_s = ttl_s
        self._put = self.client.register_script(_PUT)

    def _key(self, job_id: str, part: str) -> str:
        return f"{self.prefix}:{job_id}:{part}"

    def create(self, spec: JobSpec, inputs: list[list[dict[str, Any]]]) -> bool:
        if not self.client.set(self._key(spec.id, "spec"), _dump(asdict(spec)), nx=True):
            return False
        pipe = self.client.pipeline()
        for i, rows in enumerate(inputs):
            pipe.hset(self._key(spec.id, "in"), str(i), _seal_input(self.sealer, spec.id, rows))
        pipe.hset(
            self._key(spec.id, "state"),
            mapping={"status": "queued", "rows_done": 0, "chunks_done": 0},
        )
        pipe.sadd(f"{self.prefix}:jobs", spec.id)
        for part in ("spec", "in", "state"):
            pipe.expire(self._key(spec.id, part), self.ttl_s)
        pipe.execute()
        return True

    def spec(self, job_id: str) -> JobSpec | None:
        raw = self.client.get(self._key(job_id, "spec"))
        return JobSpec(**json.loads(raw)) if raw else None

    def chunk_input(self, job_id: str, index: int) -> list[dict[str, Any]]:
        return _open_input(
            self.sealer, job_id, self.client.hget(self._key(job_id, "in"), str(index))
        )

    def has_result(self, job_id: str, index: int) -> bool:
        return bool(self.client.hexists(self._key(job_id, "out"), str(index)))

    def put_result(self, job_id: str, index: int, rows: list[dict[str, Any]], counted: int) -> bool:
        out = self._key(job_id, "out")
        written = bool(
            self._put(
                keys=[out, self._key(job_id, "state")],
                args=[str(index), _dump(rows), counted, time.time()],
            )
        )
        self.client.expire(out, self.ttl_s)
        return written

    def results(self, job_id: str) -> list[dict[str, Any]]:
        stored = self.client.hgetall(self._key(job_id, "out"))
        rows: list[dict[str, Any]] = []
        for index in sorted(stored, key=int):
            rows += orjson.loads(stored[index])
        return rows

    def set_state(self, job_id: str, **state: Any) -> None:
        values = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in state.items()}
        values["updated_at"] = time.time()
        self.client.hset(self._key(job_id, "state"), mapping=values)

    def mark_started(self, job_id: str) -> None:
        """Running, from now, unless another worker's chunk started before."""
        key = self._key(job_id, "state")
        now = time.time()
        if self.client.hsetnx(key, "started_at", now):
            self.client.hset(key, mapping={"status": "running", "updated_at": now})

    def progress(self, job_id: str) -> Progress | None:
        spec = self.spec(job_id)
        if spec is None:
            return None
        raw = {
            k.decode(): v.decode()
            for k, v in self.client.hgetall(self._key(job_id, "state")).items()
        }
        started = float(raw["started_at"]) if "started_at" in raw else None
        return Progress(
            job_id,
            spec.kind,
            raw.get("status", "queued"),
            spec.total_rows,
            int(raw.get("rows_done", 0)),
            spec.chunks,
            int(raw.get("chunks_done", 0)),
            started,
            float(raw["updated_at"]) if "updated_at" in raw else None,
            json.loads(raw["reports"]) if "reports" in raw else {},
            raw.get("error"),
        )

    def claim_finalize(self, job_id: str) -> bool:
        # Expires, so a finaliser that died is followed by another.
        return bool(self.client.set(self._key(job_id, "finalizing"), 1, nx=True, ex=600))

    def job_ids(self) -> list[str]:
        return sorted(m.decode() for m in self.client.smembers(f"{self.prefix}:jobs"))

    def drop_inputs(self, job_id: str) -> None:
        self.client.delete(self._key(job_id, "in"))

    def close(self) -> None:
        self.client.close()
