"""Matching accuracy on two independently generated material lists with known truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.audit.matching import DEFAULT_THRESHOLD, MaterialMatcher
from matcher.audit.materials import audit_material_rows, load_material_lists
from matcher.catalog.licences import load_directory
from tests.audit import gen_clerk, gen_portal
from tests.audit.gen_common import precision_recall, write_cases

ROWS = 5200


@pytest.mark.parametrize(
    ("generator", "suffix"), [(gen_portal, ".xlsx"), (gen_clerk, ".csv")], ids=["portal", "clerk"]
)
def test_precision_and_recall_at_the_default_threshold(
    tmp_path: Path, generator: object, suffix: str
) -> None:
    cases = generator.generate(ROWS)  # type: ignore[attr-defined]
    path = write_cases(cases, tmp_path / f"list{suffix}")
    rows, problems = load_material_lists([path])
    assert problems == [] and len(rows) == ROWS

    results = audit_material_rows(
        rows, MaterialMatcher(load_directory(), DEFAULT_THRESHOLD), "舟山市"
    )

    precision, recall = precision_recall(
        [c.truth for c in cases], [r["type_code"] for r in results]
    )
    assert precision >= 0.95, f"precision {precision:.4f}"
    assert recall >= 0.9, f"recall {recall:.4f}"
    negatives = [r for r, c in zip(results, cases, strict=True) if c.truth is None]
    assert negatives and all(r["classification"] != "e_licence" for r in negatives)
