"""Signed checkpoints of the usage chain's head, kept outside the records database.

The hash chain (:mod:`matcher.store.usage_chain`) shows a record edited, moved or deleted in the
middle; its head is in the same database, so deleting the last records and rewinding the head
would go unseen. A checkpoint is the head (sequence number and hash) at a moment, signed with the
service's own Ed25519 key and appended, one JSON line each, to a file in another place
(``checkpoint_dir``; in production an append-only store). ``matcher records verify`` then checks
the chain against the latest checkpoint and names a cut tail.

The service writes one at least every ``checkpoint_interval_s`` while records are written (and
one when it stops); several workers may append to one file (each line is one ``write``).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio.to_thread
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine, select

from matcher.errors import ConfigError
from matcher.store.checks import usage_chain, usage_records
from matcher.store.keyfiles import write_once
from matcher.store.usage_chain import read_head

__all__ = [
    "CHECKPOINT_FILE",
    "Checkpoint",
    "Checkpointer",
    "ServiceKey",
    "check_tail",
    "checkpoint_file",
    "latest_checkpoint",
    "load_public_key",
    "public_key_entry",
    "service_key_id",
    "stored_service_key",
    "write_checkpoint",
]

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "usage-checkpoints-{database}.jsonl"  # one file per records database
SERVICE_KEY_FILE = "service-key.pem"


@dataclass(frozen=True)
class ServiceKey:
    """The service's own signing key (Ed25519) and its id (from the public key)."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return service_key_id(self.public)

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> ServiceKey:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise ConfigError(f"{where}: not a PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"{where}: the service key must be an Ed25519 key")
        return cls(key)


def service_key_id(public: Ed25519PublicKey) -> str:
    """A service key's id: ``svc-`` and the start of its public key's SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "svc-" + hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(pem: str, where: str) -> Ed25519PublicKey:
    """A service public key from its PEM; ConfigError naming ``where`` for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise ConfigError(f"{where}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{where}: a service key is an Ed25519 key")
    return key


def public_key_entry(key: Ed25519PublicKey) -> dict[str, str]:
    """A service public key as published: id, algorithm and PEM."""
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return {"key_id": service_key_id(key), "alg": "Ed25519", "public_key_pem": pem}


def stored_service_key(folder: Path) -> ServiceKey:
    """The service key kept in ``folder`` (made on first use, owner-only, appears whole)."""
    path = folder / SERVICE_KEY_FILE
    write_once(
        path,
        lambda: Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return ServiceKey.from_pem(path.read_bytes(), str(path))


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    at: str  # ISO 8601, UTC
    key_id: str
    signature: str = ""  # base64 Ed25519 over the RFC 8785 form of the other members

    def _signed(self) -> bytes:
        members = asdict(self)
        del members["signature"]
        return rfc8785.dumps(members)

    def signed_by(self, key: ServiceKey) -> Checkpoint:
        signature = base64.b64encode(key.private.sign(self._signed())).decode()
        return Checkpoint(self.seq, self.head_hash, self.at, key.key_id, signature)

    def verify(self, key: ServiceKey | Ed25519PublicKey) -> bool:
        """Signed by ``key`` (the service's, or a public key it used before) and unchanged."""
        public = key.public if isinstance(key, ServiceKey) else key
        if self.key_id != service_key_id(public):
            return False
        try:
            public.verify(base64.b64decode(self.signature), self._signed())
        except (InvalidSignature, ValueError):
            return False
        return True


def checkpoint_file(folder: Path, database_url: str) -> Path:
    """The file of one records database's checkpoints (named by a digest of its URL)."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return folder / CHECKPOINT_FILE.format(database=digest)


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line (one ``write`` on an O_APPEND file, flushed to disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(asdict(checkpoint), separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def latest_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint with the highest sequence number in ``path`` (None: there is none).
    A line that is not a checkpoint is skipped (a torn last write); signatures are checked by
    the caller."""
    if not path.exists():
        return None
    best: Checkpoint | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            found = Checkpoint(**json.loads(line))
        except (ValueError, TypeError):
            continue
        if best is None or found.seq >= best.seq:
            best = found
    return best


class Checkpointer:
    """Writes a signed checkpoint whenever the chain's head has moved, every ``interval_s``."""

    def __init__(self, engine: Engine, path: Path, key: ServiceKey, interval_s: float) -> None:
        self.engine = engine
        self.path = path
        self.key = key
        self.interval_s = interval_s
        self._written = -1
        self._task: asyncio.Task[None] | None = None

    def write_now(self) -> Checkpoint | None:
        """A checkpoint of the head as it is, unless it was already written (blocking)."""
        with self.engine.connect() as conn:
            head = read_head(conn, usage_chain, lock=False)
        if head.seq == self._written:
            return None
        at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        checkpoint = Checkpoint(head.seq, head.head_hash, at, self.key.key_id).signed_by(self.key)
        write_checkpoint(self.path, checkpoint)
        self._written = head.seq
        return checkpoint

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-checkpoints")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await anyio.to_thread.run_sync(self.write_now)
        except Exception:
            log.exception("the last usage checkpoint was not written")

    async def _run(self) -> None:
        # Workers starting together spread their writes a little.
        await asyncio.sleep(self.interval_s * secrets.randbelow(100) / 100)
        while True:
            try:
                await anyio.to_thread.run_sync(self.write_now)
            except Exception:
                log.exception("usage checkpoint not written")
            await asyncio.sleep(self.interval_s)


def check_tail(
    engine: Engine,
    checkpoint: Checkpoint,
    key: ServiceKey,
    retired: Sequence[Ed25519PublicKey] = (),
) -> str | None:
    """What is wrong with the chain's end, judged by a checkpoint (None: nothing): a checkpoint
    not signed by this service (its key, or one it used before: ``retired``), records cut off
    after it, or its record rewritten."""
    candidates: list[ServiceKey | Ed25519PublicKey] = [key, *retired]
    if not any(checkpoint.verify(k) for k in candidates):
        return (
            f"the checkpoint of {checkpoint.at} is not signed by this service's key "
            f"({key.key_id}): it cannot vouch for the chain"
        )
    with engine.connect() as conn:
        head = read_head(conn, usage_chain, lock=False)
        stored = conn.execute(
            select(usage_records.c.row_hash).where(usage_records.c.seq == checkpoint.seq)
        ).scalar_one_or_none()
    if head.seq < checkpoint.seq:
        return (
            f"the tail is cut: the checkpoint of {checkpoint.at} names usage record "
            f"#{checkpoint.seq}, the chain ends at #{head.seq} "
            f"(records #{head.seq + 1}–#{checkpoint.seq} deleted)"
        )
    if checkpoint.seq and stored != checkpoint.head_hash:
        return (
            f"usage record #{checkpoint.seq} is not the one the checkpoint of {checkpoint.at} "
            "signed: the chain was rewritten from there"
        )
    return None
