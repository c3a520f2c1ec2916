"""考核 figures from reports built by hand, checked against numbers worked out independently."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
from openpyxl import load_workbook
from PIL import Image

from matcher.problems.assess import assess
from matcher.problems.charts import assessment_png, assessment_xlsx, cjk_font

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 2, 12, tzinfo=TZ)


def _report(i: int, dept: str | None, day: str, status: str, fixed_after_days: float | None) -> Any:
    first = dt.datetime.fromisoformat(f"{day}T09:00:00+08:00")
    fixed = first + dt.timedelta(days=fixed_after_days) if fixed_after_days is not None else None
    return {"id": i, "department": dept, "first_seen": first, "status": status, "fixed_at": fixed}


REPORTS = [
    _report(1, "zs-nrp", "2026-11-03", "verified", 2),
    _report(2, "zs-nrp", "2026-11-05", "fixed", 4),
    _report(3, "zs-nrp", "2026-11-07", "verified", 20),  # fixed late: overdue
    _report(4, "zs-nrp", "2026-11-09", "open", None),  # 23 days open by NOW: overdue
    _report(5, "zs-nrp", "2026-11-10", "rejected", None),  # rejected: never overdue
    _report(6, "zs-nrp", "2026-12-01", "acknowledged", None),
    _report(7, "zs-psb", "2026-11-30", "open", 5),  # fixed once, reopened: open again
    _report(8, None, "2026-11-15", "open", None),
]
NAMES = {"zs-nrp": "舟山市自然资源和规划局", "zs-psb": "舟山市公安局"}


def _rows() -> dict[tuple[str | None, str], Any]:
    rows = assess(REPORTS, {7}, tz=TZ, deadline_days=15, now=NOW, names=NAMES)
    return {(r.department, r.month): r for r in rows}


def test_counts_per_department_and_month() -> None:
    rows = _rows()
    assert list(rows) == [
        ("zs-nrp", "2026-11"),
        ("zs-nrp", "2026-12"),
        ("zs-psb", "2026-11"),
        (None, "2026-11"),
    ]
    nov = rows[("zs-nrp", "2026-11")]
    assert (nov.found, nov.open, nov.fixed, nov.verified, nov.rejected) == (5, 1, 3, 2, 1)
    assert nov.overdue == 2 and nov.reopened == 0
    assert rows[("zs-psb", "2026-11")].reopened == 1
    assert rows[(None, "2026-11")].department_name == "未确定责任部门"
    dec = rows[("zs-nrp", "2026-12")]
    assert (dec.found, dec.open, dec.overdue, dec.median_days_to_fix) == (1, 1, 0, None)


def test_time_to_fix_median_and_p90_agree_with_numpy() -> None:
    nov = _rows()[("zs-nrp", "2026-11")]
    days = [2.0, 4.0, 20.0]
    assert nov.median_days_to_fix == float(np.median(days)) == 4.0
    # numpy's default (linear) percentile is Excel's PERCENTILE.INC: 4 + 0.8 × 16 = 16.8
    assert nov.p90_days_to_fix == round(float(np.percentile(days, 90)), 1) == 16.8


def test_chart_image_and_workbook_with_a_native_chart() -> None:
    rows = list(_rows().values())
    assert "CJK" in cjk_font()
    png = assessment_png(rows, "2026-11 至 2026-12")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 800
    # A chart, not a blank canvas: many colours drawn.
    assert len(image.convert("RGB").getcolors(1 << 16) or []) > 20
    book = load_workbook(io.BytesIO(assessment_xlsx(rows, "2026-11 至 2026-12", 15, png)))
    assert book.sheetnames == ["考核明细", "部门汇总", "图表"]
    detail = book["考核明细"]
    assert [c.value for c in detail[2]][:3] == ["部门", "月份", "发现"]
    assert detail.max_row == 2 + len(rows)
    summary = book["部门汇总"]
    assert len(summary._charts) == 1
    assert [r[0].value for r in summary.iter_rows(min_row=2)] == [
        "舟山市自然资源和规划局",
        "舟山市公安局",
        "未确定责任部门",
    ]
    assert [r[1].value for r in summary.iter_rows(min_row=2)] == [6, 1, 1]
    assert len(book["图表"]._images) == 1
