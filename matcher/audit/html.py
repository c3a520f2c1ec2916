"""A report as one self-contained HTML file: headline figures, charts drawn with matplotlib
(inline PNG) in a font that has the Chinese glyphs, and the tables."""

from __future__ import annotations

import base64
import functools
import html
import io
import logging
from pathlib import Path
from typing import Any

from matcher.audit.report import Chart, Report, Table
from matcher.extras import charts_available

__all__ = ["cjk_font", "write_html"]

log = logging.getLogger(__name__)

# Families that carry the Chinese glyphs, best first (Debian: fonts-noto-cjk).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
)
_TABLE_ROWS = 200  # longer tables are cut in the page; the XLSX and JSON hold every row


@functools.cache
def cjk_font() -> str | None:
    """A font family with Chinese glyphs registered with matplotlib, or None (and a warning)."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    # Installed after matplotlib built its font cache: register the files directly.
    for path in font_manager.findSystemFonts():
        if "NotoSansCJK" in path or "NotoSansSC" in path or "wqy" in path.lower():
            font_manager.fontManager.addfont(path)
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    log.warning("no font with Chinese glyphs found; install fonts-noto-cjk (Debian)")
    return None


def prepare_charts() -> None:
    """Import what drawing charts needs and find the font (1–2 s): a process that will write a
    page can do it before the page's data is ready."""
    if charts_available():
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401

        cjk_font()


def _figure(table: Table, chart: Chart) -> str:
    if not charts_available():
        return (
            f'<p class="note">（{html.escape(chart.title)}：图表需安装 matplotlib，'
            "pip install 'matcher[reports]'；数据见下表与 XLSX 中的图表。）</p>"
        )
    # The object-oriented API with Agg's canvas: no pyplot (0.9 s to import) and no figure
    # manager, which a server's thread and a forked process both do without.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = table.rows[: chart.limit]
    family = cjk_font()
    labels = [str(r.get(chart.category, ""))[:18] for r in rows]
    style: dict[str, Any] = {"font.size": 10, "axes.unicode_minus": False}
    if family:
        style["font.family"] = [family]
    with matplotlib.rc_context(style):  # type: ignore[arg-type]
        fig = Figure(figsize=(8.0, 0.42 * len(rows) + 1.6), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        width = 0.8 / len(chart.series)
        positions = range(len(rows))
        for i, (key, label) in enumerate(chart.series):
            values = [float(r.get(key) or 0) * (100 if chart.percent else 1) for r in rows]
            bars = ax.barh(
                [p + i * width - 0.4 + width / 2 for p in positions],
                values,
                height=width,
                label=label,
            )
            ax.bar_label(bars, fmt="%.1f%%" if chart.percent else "%g", fontsize=8, padding=2)
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
        ax.set_xlabel(chart.value_title + ("（%）" if chart.percent else ""))
        ax.set_title(chart.title)
        ax.spines[["top", "right"]].set_visible(False)
        if len(chart.series) > 1:
            ax.legend(loc="lower right")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        f'<img class="chart" alt="{html.escape(chart.title)}" src="data:image/png;base64,{data}">'
    )


def _cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else ""
    if key == "rate" and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if isinstance(value, list):
        return html.escape("；".join(map(str, value)))
    return html.escape(str(value))


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(k, r.get(k))}</td>" for k, _ in table.columns) + "</tr>"
        for r in table.rows[:_TABLE_ROWS]
    )
    more = ""
    if len(table.rows) > _TABLE_ROWS:
        more = (
            f'<p class="note">共 {len(table.rows)} 行，此处显示前 {_TABLE_ROWS} 行；'
            "全部见 XLSX 与 JSON。</p>"
        )
    if not table.rows:
        body = f'<tr><td colspan="{len(table.columns)}">（无）</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px auto;max-width:1100px;
color:#0b0c0c;padding:0 16px}
h1{font-size:28px;margin-bottom:4px}
h2{font-size:20px;margin-top:36px;border-bottom:2px solid #1d70b8}
.sub{color:#505a5f}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border-left:5px solid #1d70b8;background:#f3f2f1;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:22px}.chart{max-width:100%;display:block;margin:12px 0}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border:1px solid #b1b4b6;
padding:4px 6px;text-align:left;vertical-align:top}th{background:#f3f2f1}.note{color:#505a5f}
"""


def write_html(report: Report, path: Path) -> None:
    cards = "".join(
        f'<div class="card">{html.escape(label)}<b>{html.escape(value)}</b></div>'
        for label, value in report.headline
    )
    sections = []
    for table in [*report.tables, *([report.problems] if report.problems else [])]:
        chart = _figure(table, table.chart) if table.chart and table.rows else ""
        note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
        sections.append(f"<h2>{html.escape(table.title)}</h2>{note}{chart}{_table(table)}")
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(report.title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{html.escape(report.title)}</h1><p class="sub">{html.escape(report.subtitle)}</p>'
        f'<div class="cards">{cards}</div>{"".join(sections)}'
        '<p class="note">逐条明细见同目录下的 XLSX（材料明细表）与 JSON 文件。</p></body></html>'
    )
    path.write_text(page, encoding="utf-8")
