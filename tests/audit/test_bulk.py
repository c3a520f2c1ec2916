"""The whole-list helpers: a list audited in two processes gives what one process gives, and a
failure in the other process fails the audit rather than losing rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.audit.bulk import beside, in_halves
from matcher.audit.matching import MaterialMatcher
from matcher.audit.materials import audit_material_rows, load_material_lists
from matcher.catalog.licences import load_directory
from matcher.cli import main
from tests.audit import gen_clerk, gen_portal
from tests.audit.gen_common import write_cases


def test_a_large_list_audited_in_halves_matches_one_process(tmp_path: Path) -> None:
    cases = gen_portal.generate(12_000) + gen_clerk.generate(12_000)  # over the 20,000 split
    listing = write_cases(cases, tmp_path / "list.csv")

    assert main(["audit", "materials", str(listing), "--out", str(tmp_path / "out")]) == 0

    rows, _ = load_material_lists([listing])
    expected = audit_material_rows(rows, MaterialMatcher(load_directory()), "舟山市")
    written = json.loads((tmp_path / "out" / "materials.json").read_text("utf-8"))
    assert written == expected  # same rows, same order, same values


def _fails_on_the_second_half(part: list[int]) -> list[int]:
    if part and part[0] >= 15_000:
        raise ValueError("the second half breaks")
    return part


def test_a_half_that_fails_in_its_process_fails_the_whole() -> None:
    with pytest.raises(RuntimeError, match="second half"):
        in_halves(list(range(30_000)), _fails_on_the_second_half)
    assert in_halves(list(range(30_000)), lambda part: [n * 2 for n in part]) == [
        n * 2 for n in range(30_000)
    ]


def _write_or_fail(path: Path, fail: bool) -> None:
    if fail:
        raise OSError("disk full")
    path.write_text("written", encoding="utf-8")


def test_a_report_writer_that_fails_beside_is_reported(tmp_path: Path) -> None:
    beside(_write_or_fail, tmp_path / "ok.txt", False)()
    assert (tmp_path / "ok.txt").read_text("utf-8") == "written"

    wait: Any = beside(_write_or_fail, tmp_path / "no.txt", True)
    with pytest.raises(RuntimeError, match="failed in its process"):
        wait()


def test_a_process_made_ready_runs_once_sent_and_ends_when_not_needed(tmp_path: Path) -> None:
    from matcher.audit.bulk import Ready

    ready = Ready(lambda: None, _write_or_fail)
    ready.run(tmp_path / "page.txt", False)()
    assert (tmp_path / "page.txt").read_text("utf-8") == "written"

    failing = Ready(lambda: None, _write_or_fail)
    with pytest.raises(RuntimeError, match="failed in its process"):
        failing.run(tmp_path / "no.txt", True)()

    unused = Ready(lambda: None, _write_or_fail)
    unused.cancel()  # ends without writing, and without waiting forever
    assert not (tmp_path / "never.txt").exists()
