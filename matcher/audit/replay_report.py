"""The replay audit's report: materials collected although they could have been waived, per
department, month and matter, with the evidence that would have replaced each."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from matcher.audit.report import Chart, Report, Table, rate

__all__ = ["replay_report"]

_COUNTS = (
    ("applications", "申请数"),
    ("collected", "收取材料数"),
    ("needless", "本可免收"),
    ("unknown", "无法判断"),
    ("rate", "多收比例"),
)
DETAIL_COLUMNS = (
    ("source", "文件"),
    ("row", "行号"),
    ("application_id", "申请编号"),
    ("matter_code", "事项编码"),
    ("matter_name", "事项名称"),
    ("department", "实施部门"),
    ("month", "月份"),
    ("material_name", "收取的材料"),
    ("status_text", "结论"),
    ("evidence", "可替代的证照/凭证"),
    ("reason", "说明"),
)
_TYPE_NAME = re.compile(r"《([^》]+)》")


def _group(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    apps: dict[str, set[str]] = {}
    untouched: dict[str, set[str]] = {}
    zero: dict[str, set[str]] = {}
    for r in rows:
        if r["status"] == "invalid":
            continue
        g = by.setdefault(
            r[key], {key: r[key] or "（未知）", "collected": 0, "needless": 0, "unknown": 0}
        )
        apps.setdefault(r[key], set()).add(r["application_id"])
        if r.get("untouched"):
            untouched.setdefault(r[key], set()).add(r["application_id"])
        if r.get("zero_materials"):
            zero.setdefault(r[key], set()).add(r["application_id"])
        g["collected"] += 1
        g["needless"] += r["status"] == "needless"
        g["unknown"] += r["status"] == "unknown"
    for k, g in by.items():
        g["applications"] = len(apps[k])
        g["untouched"] = len(untouched.get(k, ()))
        g["zero_materials"] = len(zero.get(k, ()))
        g["zero_share"] = rate(g["zero_materials"], g["applications"])
        g["untouched_share"] = rate(g["untouched"], g["applications"])
        g["rate"] = rate(g["needless"], g["collected"])
    return list(by.values())


def replay_report(rows: list[dict[str, Any]]) -> Report:
    statuses = Counter(r["status"] for r in rows)
    applications = {r["application_id"] for r in rows}
    invalid_apps = {r["application_id"] for r in rows if r["status"] == "invalid"}
    collected = len(rows) - statuses["invalid"]
    departments = sorted(_group(rows, "department"), key=lambda g: -g["needless"])
    months = sorted(_group(rows, "month"), key=lambda g: g["month"])
    matters = sorted(_group(rows, "matter_code"), key=lambda g: -g["needless"])
    names = {r["matter_code"]: r["matter_name"] for r in rows}
    fields = {r["matter_code"]: r.get("zero_fields", "") for r in rows}
    marked = {r["matter_code"]: r.get("auto_approval_marked", False) for r in rows}
    for m in matters:
        m["matter_name"] = names.get(m["matter_code"], "")
        m["zero_fields"] = fields.get(m["matter_code"], "")
        if not marked.get(m["matter_code"]):
            m["untouched"] = m["untouched_share"] = "未开通"
        # Applications through the service are kept with their records and signed (存档零纸件);
        # a past paper application is not.
        m["archive"] = "是" if m["matter_name"] else ""
    evidence = Counter(
        name
        for r in rows
        if r["status"] == "needless"
        for name in _TYPE_NAME.findall(r["evidence"])
    )
    by_evidence = [{"evidence": k, "count": v} for k, v in evidence.most_common()]
    unknown = [r for r in rows if r["status"] == "unknown"]
    invalid = [r for r in rows if r["status"] == "invalid"]
    headline = [
        ("申请", str(len(applications))),
        ("收取材料", str(collected)),
        (
            "本可免收",
            f"{statuses['needless']}（{rate(statuses['needless'], collected) * 100:.1f}%）",
        ),
        ("无法判断（证照库未应答）", str(statuses["unknown"])),
        ("无法重放的申请", str(len(invalid_apps))),
    ]
    pair = (("collected", "收取"), ("needless", "本可免收"))
    return Report(
        title="多收材料审计报告（历史申请重放）",
        subtitle="按申请日重新向电子证照库与数据凭证库核验：已收取、但本可凭已核验证照免收的材料",
        headline=headline,
        tables=[
            Table(
                "按部门",
                "按部门",
                (("department", "实施部门"), *_COUNTS),
                departments,
                Chart("各部门收取材料与本可免收材料", "department", pair, "材料数"),
            ),
            Table(
                "按月份",
                "按月份",
                (("month", "月份"), *_COUNTS),
                months,
                Chart("各月本可免收的材料", "month", pair, "材料数", limit=36),
            ),
            Table(
                "按事项",
                "按事项",
                (
                    ("matter_code", "事项编码"),
                    ("matter_name", "事项名称"),
                    *_COUNTS,
                    ("zero_materials", "零材料申请"),
                    ("zero_share", "零材料比例"),
                    ("zero_fields", "零字段（申请表）"),
                    ("untouched", "可秒办申请"),
                    ("untouched_share", "秒办比例"),
                    ("archive", "经本服务受理可电子存档"),
                ),
                matters,
                Chart("本可免收最多的事项", "matter_code", (("needless", "本可免收"),), "材料数"),
            ),
            Table(
                "可替代多收材料的证照与凭证",
                "可替代证照",
                (("evidence", "证照/凭证"), ("count", "可替代次数")),
                by_evidence,
                Chart("可替代多收材料的证照与凭证", "evidence", (("count", "次数"),), "次数"),
            ),
            Table(
                "无法判断的材料（证照库未应答，未计为可免收）",
                "无法判断",
                DETAIL_COLUMNS,
                unknown,
            ),
        ],
        detail=Table("逐项明细", "逐项明细", DETAIL_COLUMNS, rows),
        problems=Table("无法重放的行", "问题行", DETAIL_COLUMNS, invalid),
        extra={
            "applications": len(applications),
            "totals": dict(statuses),
            "collected": collected,
        },
    )
