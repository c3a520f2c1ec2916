"""The assessment as a workbook with native charts and as a chart image (matplotlib).

The image uses a CJK font (Noto Sans CJK, Debian ``fonts-noto-cjk``) so that department names and
titles show; without one the labels would be empty boxes, so a missing font is an error.
matplotlib is imported on the first chart, not at start-up, and keeps its font cache in the
folder it is given (the state folder), not in the home folder.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.chart import BarChart, Reference  # type: ignore[import-untyped, unused-ignore]
from openpyxl.drawing.image import Image  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]

from matcher.errors import ConfigError
from matcher.extras import require_charts
from matcher.problems.assess import AssessmentRow

__all__ = ["assessment_png", "assessment_xlsx", "cjk_font"]

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei")


@functools.cache
def cjk_font(cache_dir: Path | None = None) -> str:
    """The family name of an installed CJK font, registered with matplotlib."""
    if cache_dir is not None:
        os.environ.setdefault("MPLCONFIGDIR", str(cache_dir))
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if "CJK" in path or "wqy" in path.lower():
            font_manager.fontManager.addfont(path)
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    raise ConfigError(
        "no CJK font for the assessment chart: install fonts-noto-cjk (apt-get install "
        "fonts-noto-cjk)"
    )


HEADERS = (
    ("部门", "department_name"),
    ("月份", "month"),
    ("发现", "found"),
    ("未整改", "open"),
    ("已整改", "fixed"),
    ("已核验", "verified"),
    ("已驳回", "rejected"),
    ("逾期", "overdue"),
    ("整改后复发", "reopened"),
    ("整改用时中位数（天）", "median_days_to_fix"),
    ("整改用时90分位（天）", "p90_days_to_fix"),
)


def _by_department(rows: Sequence[AssessmentRow]) -> list[tuple[str, int, int, int]]:
    totals: dict[str, list[int]] = {}
    for r in rows:
        t = totals.setdefault(r.department_name, [0, 0, 0])
        t[0] += r.found
        t[1] += r.fixed
        t[2] += r.overdue
    return [(name, *t) for name, t in totals.items()]  # type: ignore[misc]


def _title(period: str) -> str:
    return f"各部门数据问题整改情况（{period}）"


def assessment_png(
    rows: Sequence[AssessmentRow], period: str, cache_dir: Path | None = None
) -> bytes:
    """A grouped bar chart per department: found, fixed, overdue."""
    require_charts("考核图表")
    family = cjk_font(cache_dir)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    data = _by_department(rows)
    fig = Figure(figsize=(10, 5.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    names = [d[0] for d in data] or ["（无数据）"]
    width = 0.26
    xs = range(len(names))
    for i, (label, colour) in enumerate(
        (("发现", "#1d70b8"), ("已整改", "#00703c"), ("逾期", "#d4351c"))
    ):
        values = [d[1 + i] for d in data] or [0]
        bars = ax.bar([x + (i - 1) * width for x in xs], values, width, label=label, color=colour)
        ax.bar_label(bars, fontsize=8, fontfamily=family)
    ax.set_xticks(list(xs), names, rotation=20, ha="right", fontfamily=family, fontsize=9)
    ax.set_ylabel("数据问题数（件）", fontfamily=family)
    ax.set_title(_title(period), fontfamily=family)
    ax.legend(prop={"family": family})
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def assessment_xlsx(
    rows: Sequence[AssessmentRow], period: str, deadline_days: int, image: bytes | None = None
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "考核明细"
    ws.append([f"{_title(period)}；整改期限 {deadline_days} 天"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([h for h, _ in HEADERS])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        d = r.as_dict()
        ws.append([d[key] for _, key in HEADERS])
    for col, width in zip("ABCDEFGHIJK", (26, 10, 8, 8, 8, 8, 8, 8, 10, 18, 18), strict=True):
        ws.column_dimensions[col].width = width

    summary = wb.create_sheet("部门汇总")
    summary.append(["部门", "发现", "已整改", "逾期"])
    for name, found, fixed, overdue in _by_department(rows):
        summary.append([name, found, fixed, overdue])
    n = summary.max_row
    chart = BarChart()
    chart.type = "col"
    chart.title = _title(period)
    chart.y_axis.title = "数据问题数（件）"
    chart.x_axis.title = "部门"
    chart.add_data(
        Reference(summary, min_col=2, max_col=4, min_row=1, max_row=max(n, 2)),
        titles_from_data=True,
    )
    chart.set_categories(Reference(summary, min_col=1, min_row=2, max_row=max(n, 2)))
    chart.width, chart.height = 24, 12
    summary.add_chart(chart, "F2")
    summary.column_dimensions["A"].width = 26
    if image is not None:
        pictures = wb.create_sheet("图表")
        pictures.add_image(Image(io.BytesIO(image)), "A1")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
