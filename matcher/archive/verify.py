"""Verifying an archive package offline: the file alone, no database, no network.

Checks, and names what fails:

1. the zip itself (no path outside its folder, no links, bounded size);
2. the bag's checksums (the ``bagit`` library: payload manifest, tag manifest, Payload-Oxum);
3. that the tag manifest covers ``bagit.txt``, ``bag-info.txt`` and the payload manifest;
4. the service's Ed25519 signature over the tag manifest — and, given the service's published
   keys, that the signing key is one of them;
5. every registry record's signature against the trust-store entries inside, and that the
   answer's decisions used no record the package lacks;
6. the hash-chain links of the usage records inside.
"""

from __future__ import annotations

import base64
import binascii
import json
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from matcher.errors import InputError, TrustStoreError
from matcher.store.checkpoints import service_key_id
from matcher.store.usage_chain import link
from matcher.waiver.evidence import signature_problem, trust_store_from

__all__ = ["Report", "verify_package"]

MAX_ENTRIES = 10_000
MAX_BYTES = 1 << 30  # what the package may unpack to, whatever its headers say
SIGNATURE_PROBLEMS = frozenset(
    {"unsigned", "unknown_key", "alg_mismatch", "issuer_mismatch", "signature_invalid"}
)


@dataclass
class Report:
    """What verifying a package found: ``failures`` empty ⇔ the package is intact."""

    failures: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    key_id: str | None = None
    info: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_package(path: Path, published: list[dict[str, Any]] | None = None) -> Report:
    """Verify the package at ``path``; ``published``: the service's keys as ``/service-keys``
    lists them (without them, the report names the signing key to compare by hand)."""
    report = Report()
    with tempfile.TemporaryDirectory(prefix="matcher-verify-") as tmp:
        root = _unzip(path, Path(tmp))
        _check_bag(root, report)
        _check_signature(root, report, published)
        answer = _read_json(root / "data" / "answer.json", report)
        _check_records(root, report, answer)
        _check_chain(root, report, answer)
        _check_ids(root, report, answer)
    return report


def _unzip(path: Path, into: Path) -> Path:
    """The package's bag folder, unpacked with every name and size checked first."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a zip archive ({exc})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise InputError(f"{path}: more than {MAX_ENTRIES} entries")
        tops = set()
        for entry in entries:
            name = PurePosixPath(entry.filename)
            if (
                name.is_absolute()
                or ".." in name.parts
                or "\\" in entry.filename
                or len(name.parts) < 2
            ):
                raise InputError(f"{path}: entry {entry.filename!r} is outside the package folder")
            if stat.S_ISLNK(entry.external_attr >> 16):
                raise InputError(f"{path}: entry {entry.filename!r} is a link")
            tops.add(name.parts[0])
        if len(tops) != 1:
            raise InputError(f"{path}: expected one package folder, found {len(tops)}")
        total = 0
        for entry in entries:
            if entry.is_dir():
                continue
            target = into.joinpath(*PurePosixPath(entry.filename).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as src, target.open("wb") as dst:
                while chunk := src.read(1 << 16):
                    total += len(chunk)
                    if total > MAX_BYTES:
                        raise InputError(f"{path}: unpacks to more than {MAX_BYTES} bytes")
                    dst.write(chunk)
    return into / tops.pop()


def _check_bag(root: Path, report: Report) -> None:
    try:
        bag = bagit.Bag(str(root))
        report.info = {k: str(v) for k, v in bag.info.items()}
        bag.validate()
    except bagit.BagValidationError as exc:
        details = getattr(exc, "details", None) or []
        for d in details or [exc]:
            report.failures.append(f"checksums: {d}")
        return
    except bagit.BagError as exc:
        report.failures.append(f"not a valid bag: {exc}")
        return
    report.passed.append("checksums: every payload and tag file matches its manifest")
    listed = _tag_manifest_names(root)
    missing = [n for n in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt") if n not in listed]
    if missing:
        report.failures.append(f"the tag manifest does not cover {', '.join(missing)}")


def _tag_manifest_names(root: Path) -> set[str]:
    path = root / "tagmanifest-sha256.txt"
    if not path.is_file():
        return set()
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2:
            names.add(parts[1])
    return names


def _check_signature(root: Path, report: Report, published: list[dict[str, Any]] | None) -> None:
    doc = _read_json(root / "service-signature.json", report)
    signed = root / "tagmanifest-sha256.txt"
    if not isinstance(doc, dict) or not signed.is_file():
        report.failures.append("signature: service-signature.json or the tag manifest is missing")
        return
    try:
        key = serialization.load_pem_public_key(str(doc.get("public_key_pem")).encode())
        signature = base64.b64decode(str(doc.get("signature")), validate=True)
    except (ValueError, binascii.Error):
        report.failures.append("signature: the key or the signature cannot be read")
        return
    if not isinstance(key, Ed25519PublicKey) or doc.get("alg") != "Ed25519":
        report.failures.append("signature: not an Ed25519 key")
        return
    report.key_id = service_key_id(key)
    if doc.get("key_id") != report.key_id:
        report.failures.append("signature: key_id does not belong to the key beside it")
    try:
        key.verify(signature, signed.read_bytes())
    except InvalidSignature:
        report.failures.append(
            "signature: the service's signature does not match the tag manifest "
            "(a file or its checksums were changed after signing)"
        )
        return
    raw_sig = root / "tagmanifest-sha256.txt.sig"
    if raw_sig.is_file() and raw_sig.read_bytes() != signature:
        report.failures.append("signature: tagmanifest-sha256.txt.sig differs from the JSON's")
    report.passed.append(f"signature: the tag manifest is signed by service key {report.key_id}")
    if published is None:
        report.notes.append(
            f"the signing key is {report.key_id}: compare it with the service's published keys "
            "(GET /service-keys), or pass them with --keys"
        )
        return
    known = {k.get("key_id"): k.get("public_key_pem") for k in published if isinstance(k, dict)}
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    if known.get(report.key_id) != pem:
        report.failures.append(
            f"signature: key {report.key_id} is not among the service's published keys"
        )
    else:
        report.passed.append(f"signature: key {report.key_id} is one the service publishes")


def _check_records(root: Path, report: Report, answer: Any) -> None:
    folder = root / "data" / "registry-records"
    index = _read_json(folder / "index.json", report)
    if not isinstance(index, dict):
        return
    if not index.get("kept"):
        report.notes.append("registry records: not kept with this application (kept earlier)")
        return
    try:
        store = trust_store_from(_read_json(folder / "trust-store.json", report) or {}, "trust")
    except TrustStoreError as exc:
        report.failures.append(f"registry records: the trust-store entries cannot be read: {exc}")
        return
    present = set()
    checked = 0
    for entry in index.get("records") or []:
        name = str(entry.get("file"))
        record = _read_json(root / "data" / name, report)
        if not isinstance(record, dict):
            continue
        present.add((entry.get("registry"), entry.get("id")))
        problem = signature_problem(record, store, entry.get("issuer_code"))
        flagged = set(entry.get("problems") or []) & SIGNATURE_PROBLEMS
        if problem is None and not flagged:
            checked += 1
        elif problem is not None and flagged:
            report.notes.append(
                f"registry record {name} ({entry.get('id')}): its signature does not verify "
                f"({problem}); the answer did not rely on it ({', '.join(sorted(flagged))})"
            )
        elif problem is not None:
            report.failures.append(
                f"registry record {name} ({entry.get('id')}): signature {problem}, yet the "
                "answer took it as verified"
            )
        else:
            report.failures.append(
                f"registry record {name} ({entry.get('id')}): its signature verifies now, but "
                "the answer recorded it failing"
            )
    if checked:
        report.passed.append(f"registry records: {checked} signatures verify against the keys")
    used = {
        (e.get("registry"), e.get("id"))
        for d in (answer or {}).get("decisions", [])
        for e in d.get("evidence", [])
    }
    for registry, record_id in sorted(used - present, key=str):
        report.failures.append(
            f"registry records: the answer used {record_id} ({registry}), not in the package"
        )


def _check_chain(root: Path, report: Report, answer: Any) -> None:
    doc = _read_json(root / "data" / "usage-records.json", report)
    if not isinstance(doc, dict):
        return
    records = doc.get("records") or []
    check_id = (answer or {}).get("check_id")
    before: dict[str, Any] | None = None
    for r in records:
        seq, material = r.get("seq"), r.get("material") or []
        if link(str(r.get("prev_hash")), (seq, *material)) != r.get("row_hash"):
            report.failures.append(f"usage record #{seq}: does not match its link")
        elif (
            before is not None
            and before.get("seq") == seq - 1
            and (r.get("prev_hash") != before.get("row_hash"))
        ):
            report.failures.append(f"usage record #{seq}: does not follow #{seq - 1}")
        if material and material[0] != check_id:
            report.failures.append(f"usage record #{seq}: belongs to another check")
        before = r
    if records and not any(f.startswith("usage record") for f in report.failures):
        report.passed.append(f"usage records: {len(records)} chain links hold")
    elif not records:
        report.notes.append("usage records: none in the package")


def _check_ids(root: Path, report: Report, answer: Any) -> None:
    application = _read_json(root / "data" / "application.json", report)
    ids = {
        "bag-info.txt": report.info.get("Check-Id"),
        "application.json": (application or {}).get("check_id"),
        "answer.json": (answer or {}).get("check_id"),
    }
    if len(set(ids.values())) != 1:
        report.failures.append(f"the check named differs: {ids}")


def _read_json(path: Path, report: Report) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.failures.append(f"{path.name}: missing")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        report.failures.append(f"{path.name}: not readable JSON")
    return None
