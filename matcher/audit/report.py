"""Reports as data: headline figures, tables and the charts to draw from them.

Both audits build a :class:`Report`; ``xlsx.py`` and ``html.py`` render the same report, so the
spreadsheet and the web page always show the same numbers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from matcher.audit.classify import WAIVABLE

__all__ = ["Chart", "Report", "Table", "material_report", "rate"]


@dataclass(frozen=True)
class Chart:
    """A bar chart of some of a table's columns, one bar group per row (the first ``limit``)."""

    title: str
    category: str
    series: tuple[tuple[str, str], ...]  # (column key, legend label)
    value_title: str = "数量"
    limit: int = 15
    percent: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    sheet: str  # XLSX sheet name (≤ 31 characters)
    columns: tuple[tuple[str, str], ...]  # (key, heading)
    rows: list[dict[str, Any]]
    chart: Chart | None = None
    note: str = ""


@dataclass
class Report:
    title: str
    subtitle: str
    headline: list[tuple[str, str]]
    tables: list[Table]
    detail: Table  # one row per material / per collected material
    problems: Table | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


MATERIAL_DETAIL_COLUMNS = (
    ("file", "文件"),
    ("row", "行号"),
    ("matter_code", "事项编码"),
    ("matter_name", "事项名称"),
    ("department", "实施部门"),
    ("city", "城市"),
    ("name", "材料名称"),
    ("type_name", "匹配证照"),
    ("type_code", "证照类型代码"),
    ("score", "匹配分"),
    ("match_reason", "匹配说明"),
    ("classification_text", "归类"),
    ("reason", "理由"),
    ("needs_review", "需人工复核"),
)

_GROUP_COLUMNS = (
    ("matters", "事项数"),
    ("before", "材料数（审计前）"),
    ("after", "仍需提交（审计后）"),
    ("waivable", "可免提交"),
    ("commitment", "可告知承诺"),
    ("rate", "单材料免提交率"),
    ("zero_matters", "零材料事项数"),
)


def _matters(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["classification"] == "invalid":
            continue
        m = by.setdefault(
            r["matter_code"],
            {
                "matter_code": r["matter_code"],
                "matter_name": r["matter_name"],
                "department": r["department"],
                "city": r["city"],
                "before": 0,
                "waivable": 0,
                "commitment": 0,
            },
        )
        m["before"] += 1
        m["waivable"] += r["classification"] in WAIVABLE
        m["commitment"] += r["classification"] == "commitment"
    for m in by.values():
        m["after"] = m["before"] - m["waivable"]
        m["rate"] = rate(m["waivable"], m["before"])
        m["zero"] = "是" if m["after"] == 0 else ""
    return sorted(by.values(), key=lambda m: (-m["waivable"], m["matter_code"]))


def _groups(matters: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    for m in matters:
        g = by.setdefault(
            m[key],
            {
                key: m[key],
                "matters": 0,
                "before": 0,
                "after": 0,
                "waivable": 0,
                "commitment": 0,
                "zero_matters": 0,
            },
        )
        g["matters"] += 1
        for k in ("before", "after", "waivable", "commitment"):
            g[k] += m[k]
        g["zero_matters"] += m["after"] == 0
    for g in by.values():
        g["rate"] = rate(g["waivable"], g["before"])
    return sorted(by.values(), key=lambda g: (-g["before"], g[key]))


def material_report(rows: list[dict[str, Any]], file_problems: list[dict[str, Any]]) -> Report:
    """The material-list audit's report: per matter, department and city, and what to look at."""
    matters = _matters(rows)
    departments = _groups(matters, "department")
    cities = _groups(matters, "city")
    valid = [r for r in rows if r["classification"] != "invalid"]
    classes = Counter(r["classification"] for r in rows)
    waivable = sum(classes[c] for c in WAIVABLE)
    zero = sum(m["after"] == 0 for m in matters)

    unmatched: dict[str, dict[str, Any]] = {}
    seen_matters: dict[str, set[str]] = defaultdict(set)
    for r in valid:
        if r["type_code"] is None and r["classification"] == "not_waivable":
            if "文书" in r["reason"]:
                continue  # an application form: no e-licence will replace it
            u = unmatched.setdefault(
                r["normalised"], {"normalised": r["normalised"], "example": r["name"], "count": 0}
            )
            u["count"] += 1
            seen_matters[r["normalised"]].add(r["matter_code"])
    for key, u in unmatched.items():
        u["matters"] = len(seen_matters[key])
    top_unmatched = sorted(unmatched.values(), key=lambda u: (-u["count"], u["normalised"]))[:50]

    review = [
        {**r, "state": "已匹配，分数偏低" if r["type_code"] else "未达阈值的候选"}
        for r in valid
        if r["needs_review"] or (r["candidate_code"] and r["score"] >= 60)
    ]
    review.sort(key=lambda r: (r["score"], r["file"], r["row"]))

    problems = [
        {"file": r["file"], "row": r["row"], "problem": p} for r in rows for p in r["problems"]
    ] + file_problems
    headline = [
        ("事项", str(len(matters))),
        ("材料（审计前）", str(len(valid))),
        ("可免提交", f"{waivable}（{_pct(rate(waivable, len(valid)))}）"),
        ("仍需提交（审计后）", str(len(valid) - waivable)),
        ("其中可告知承诺", str(classes["commitment"])),
        ("零材料事项", f"{zero} / {len(matters)}"),
        ("低置信度待复核", str(len(review))),
        ("问题行", str(len(problems))),
    ]
    group_chart = (("before", "审计前"), ("after", "审计后"))
    return Report(
        title="材料清单审计报告",
        subtitle="按“两个免于提交”逐项归类：本市核发的材料免交；有电子证照或数据凭证的免交",
        headline=headline,
        tables=[
            Table(
                "按部门：材料数 审计前 → 审计后",
                "按部门",
                (("department", "实施部门"), *_GROUP_COLUMNS),
                departments,
                Chart("各部门材料数：审计前与审计后", "department", group_chart, "材料数"),
            ),
            Table(
                "按部门：单材料免提交率",
                "免提交率",
                (
                    ("department", "实施部门"),
                    ("waivable", "可免提交"),
                    ("before", "材料数"),
                    ("rate", "单材料免提交率"),
                ),
                sorted(departments, key=lambda g: -g["rate"]),
                Chart(
                    "各部门单材料免提交率",
                    "department",
                    (("rate", "免提交率"),),
                    "比例",
                    percent=True,
                ),
            ),
            Table(
                "按城市",
                "按城市",
                (("city", "城市"), *_GROUP_COLUMNS),
                cities,
                Chart("各城市材料数：审计前与审计后", "city", group_chart, "材料数"),
            ),
            Table(
                "按事项",
                "按事项",
                (
                    ("matter_code", "事项编码"),
                    ("matter_name", "事项名称"),
                    ("department", "实施部门"),
                    ("before", "审计前"),
                    ("after", "审计后"),
                    ("waivable", "可免提交"),
                    ("commitment", "可告知承诺"),
                    ("rate", "单材料免提交率"),
                    ("zero", "零材料"),
                ),
                matters,
            ),
            Table(
                "出现最多的未匹配材料（新增电子证照类型收益最大处）",
                "未匹配高频材料",
                (
                    ("normalised", "规范化名称"),
                    ("example", "原名称示例"),
                    ("count", "出现次数"),
                    ("matters", "涉及事项数"),
                ),
                top_unmatched,
                Chart("出现最多的未匹配材料", "normalised", (("count", "出现次数"),), "次数"),
            ),
            Table(
                "低置信度匹配（请人工复核）",
                "低置信度匹配",
                (
                    ("file", "文件"),
                    ("row", "行号"),
                    ("name", "材料名称"),
                    ("state", "状态"),
                    ("type_name", "匹配证照"),
                    ("candidate_name", "候选证照"),
                    ("score", "匹配分"),
                    ("match_reason", "匹配说明"),
                ),
                review,
            ),
        ],
        detail=Table("材料明细", "材料明细", MATERIAL_DETAIL_COLUMNS, rows),
        problems=Table(
            "问题行", "问题行", (("file", "文件"), ("row", "行号"), ("problem", "问题")), problems
        ),
        extra={"totals": dict(classes), "matters": len(matters), "zero_matters": zero},
    )
