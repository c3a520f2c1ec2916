"""The material-list audit (材料清单审计): lists in, a classified row per material, reports out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from matcher.audit.bulk import Ready, beside, here
from matcher.audit.classify import classify_row
from matcher.audit.export import catalog_from_rows, write_catalog
from matcher.audit.html import write_html
from matcher.audit.matching import MaterialMatcher
from matcher.audit.report import material_report
from matcher.audit.sheets import MaterialRow, RowProblem, read_material_rows
from matcher.audit.xlsx import write_xlsx
from matcher.catalog.licences import Directory

__all__ = ["audit_material_rows", "load_material_lists", "write_material_reports"]


def load_material_lists(
    paths: Sequence[Path], mapping: dict[str, str] | None = None
) -> tuple[list[MaterialRow], list[RowProblem]]:
    rows: list[MaterialRow] = []
    problems: list[RowProblem] = []
    for path in paths:
        found, file_problems = read_material_rows(path, mapping)
        rows += found
        problems += file_problems
    return rows, problems


def row_from_dict(data: dict[str, Any]) -> MaterialRow:
    problems = [RowProblem(**p) for p in data["problems"]]
    return MaterialRow(**{**data, "problems": problems})


def audit_material_rows(
    rows: Sequence[MaterialRow], matcher: MaterialMatcher, city: str
) -> list[dict[str, Any]]:
    """The chunk function's core: every row classified, none dropped."""
    return [classify_row(row, matcher, city) for row in rows]


def write_json_rows(rows: Iterable[dict[str, Any]], path: Path) -> None:
    """A JSON array written one row per line, as it goes (orjson: UTF-8, compact)."""
    with path.open("wb") as out:
        out.write(b"[")
        lead = b"\n"
        batch: list[bytes] = []
        for row in rows:
            batch.append(orjson.dumps(row))
            if len(batch) == 5000:
                out.write(lead + b",\n".join(batch))
                lead = b",\n"
                batch.clear()
        if batch:
            out.write(lead + b",\n".join(batch))
        out.write(b"\n]\n")


def write_material_reports(
    results: list[dict[str, Any]],
    file_problems: Sequence[RowProblem],
    out: Path,
    directory: Directory,
    *,
    two_processes: bool = False,
    page: Ready | None = None,
) -> dict[str, Path]:
    """report.xlsx, report.html, materials.json (a row per material), summary.json, catalog.yaml.
    With ``two_processes`` the workbook and the page are written by forked processes beside
    this one (the command line does; a server's or a Celery worker's thread does not fork)."""
    out.mkdir(parents=True, exist_ok=True)
    problems = [
        {
            "file": p.file,
            "row": p.row,
            "problem": f"{p.column}：{p.reason}" if p.column else p.reason,
        }
        for p in file_problems
    ]
    report = material_report(results, problems)
    paths = {
        "xlsx": out / "report.xlsx",
        "html": out / "report.html",
        "json": out / "materials.json",
        "summary": out / "summary.json",
        "catalog": out / "catalog.yaml",
    }
    # The page and the workbook, each in a process of its own beside this one. The page's
    # process gets its arguments first: a process forked after that holds no copy of its pipe.
    start = beside if two_processes else here
    waits = [
        page.run(replace(report, detail=replace(report.detail, rows=[])), paths["html"])
        if page is not None  # made ready for the page: it needs no detail rows
        else start(write_html, report, paths["html"]),
        start(write_xlsx, report, paths["xlsx"]),
    ]
    try:
        write_json_rows(results, paths["json"])  # each row as classified: nothing left out
        summary = {
            "headline": dict(report.headline),
            **report.extra,
            "tables": {t.sheet: t.rows for t in report.tables[:3]},
        }
        text = json.dumps(summary, ensure_ascii=False, indent=1)
        paths["summary"].write_text(text, encoding="utf-8")
        write_catalog(catalog_from_rows(results, directory), paths["catalog"])
    finally:
        for wait in waits:
            wait()
    return paths
