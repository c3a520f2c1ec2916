"""Uploaded documents in a waive-check: read each one and compare it with the registry's record.

The comparison only ever adds doubt: it can turn a verified record's waiver into ``upload_verified``
or send it to review, and it can send a material with no verified record to review. It never
waives anything on its own (decide.py). A field the extraction marked invalid — a wrong check
digit, or a failed cross-check such as a printed birth date that disagrees with the number —
counts as a mismatch when it was compared or takes part in one of its kind's cross-checks, so
such an upload goes to review, with the reason in the mismatch's label.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.model import Evidence
from matcher.extract.kinds import DocKinds
from matcher.extract.model import Extraction
from matcher.extract.validators import NormaliseFailed
from matcher.waiver.payloads import FieldMismatch, UploadCheck

__all__ = ["ReadUpload", "compare_upload"]


@dataclass(frozen=True)
class ReadUpload:
    """An upload of the application, read (or not: ``error`` says why, in Chinese)."""

    material_code: str
    file_id: str
    extraction: Extraction | None
    error: str | None = None


def _same(a: str, b: str) -> bool:
    return unicodedata.normalize("NFKC", a).strip() == unicodedata.normalize("NFKC", b).strip()


def compare_upload(
    upload: ReadUpload, verified: Sequence[Evidence], kinds: DocKinds
) -> tuple[UploadCheck, Evidence | None]:
    """Compare the upload's fields with the first verified record of a matching kind.

    Returns the comparison and the record it was made against (None when there was none).
    """
    extraction = upload.extraction
    check = UploadCheck(file_id=upload.file_id, kind=extraction.kind if extraction else None)
    if extraction is None or extraction.kind is None:
        return check, None
    for evidence in verified:
        kind = next(
            (k for k in kinds.for_evidence_type(evidence.type) if k.code == extraction.kind), None
        )
        if kind is None:
            continue
        checked = {name for spec in kind.cross_checks for _, name in spec.fields}
        for found in extraction.fields:
            label = kind.surface_label(found.name)
            registry: str | None = None
            if label is not None and label in evidence.fields and found.normalised is not None:
                raw = str(evidence.fields[label])
                try:
                    registry = kind.field(found.name).normalise(raw)
                except (NormaliseFailed, KeyError):
                    registry = raw
                check.fields_compared.append(found.name)
            differs = registry is not None and not _same(found.normalised or "", registry)
            # A field that failed its own check or a cross-check with another field (出生 against
            # the number) casts doubt on the paper itself, even where the registry agrees.
            doubtful = not found.valid and (registry is not None or found.name in checked)
            if differs or doubtful:
                check.mismatches.append(
                    FieldMismatch(
                        field=found.name,
                        label=f"{found.label}（{found.reason}）" if doubtful else found.label,
                        uploaded=found.normalised if found.normalised is not None else found.value,
                        registry=registry,
                    )
                )
        return check, evidence
    return check, None
