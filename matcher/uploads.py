"""Uploaded documents in a waive-check: read each one and compare it with the registry's record.

The comparison only ever adds doubt: it can turn a verified record's waiver into ``upload_verified``
or send it to review, and it can send a material with no verified record to review. It never
waives anything on its own (decide.py).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.model import Evidence
from matcher.extract.kinds import DocKinds
from matcher.extract.model import Extraction
from matcher.extract.validators import NormaliseFailed
from matcher.payloads import FieldMismatch, UploadCheck

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
        for found in extraction.fields:
            label = kind.surface_label(found.name)
            if label is None or label not in evidence.fields or found.normalised is None:
                continue
            raw = str(evidence.fields[label])
            try:
                registry = kind.field(found.name).normalise(raw)
            except (NormaliseFailed, KeyError):
                registry = raw
            check.fields_compared.append(found.name)
            if not _same(found.normalised, registry):
                check.mismatches.append(
                    FieldMismatch(
                        field=found.name,
                        label="".join(found.label.split()),
                        uploaded=found.normalised,
                        registry=registry,
                    )
                )
        return check, evidence
    return check, None
