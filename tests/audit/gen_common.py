"""What both list generators share: the portal layout and writing a list to CSV or XLSX."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

import openpyxl

HEADER = [
    "事项编码",
    "事项名称",
    "实施部门",
    "材料名称",
    "来源渠道",
    "来源说明",
    "是否必要",
    "材料形式",
    "份数",
]
DEPARTMENTS = [
    "舟山市市场监督管理局",
    "舟山市自然资源和规划局",
    "舟山市住房和城乡建设局",
    "舟山市人力资源和社会保障局",
    "舟山市民政局",
    "舟山市交通运输局",
    "舟山市卫生健康委员会",
    "舟山市公安局",
    "岱山县市场监督管理局",
    "嵊泗县民政局",
]


@dataclass(frozen=True)
class Case:
    """One generated row and the type code it truly is (None: no licence type)."""

    cells: list[str]
    truth: str | None


def matter_rows(rng: random.Random, count: int, names: list[tuple[str, str | None]]) -> list[Case]:
    """Spread ``names`` over matters of 4–12 materials each, in the portal layout."""
    cases: list[Case] = []
    i = 0
    matter = 0
    while i < count:
        matter += 1
        department = rng.choice(DEPARTMENTS)
        code = f"3309{rng.randint(0, 99):02d}-{matter:05d}-000"
        for _ in range(rng.randint(4, 12)):
            if i >= count:
                break
            name, truth = names[i]
            channel = rng.choice(["申请人自备", "申请人自备", "政府部门核发", "其他"])
            cells = [
                code,
                f"事项{matter}",
                department,
                name,
                channel,
                "",
                rng.choice(["是", "否"]),
                rng.choice(["纸质", "电子"]),
                str(rng.randint(1, 3)),
            ]
            cases.append(Case(cells, truth))
            i += 1
    return cases


def write_cases(cases: list[Case], path: Path) -> Path:
    rows = [HEADER, *(c.cells for c in cases)]
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        for row in rows:
            sheet.append(row)
        book.save(path)
    else:
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    return path


def precision_recall(truths: list[str | None], found: list[str | None]) -> tuple[float, float]:
    matched = [(t, f) for t, f in zip(truths, found, strict=True) if f is not None]
    correct = sum(t == f for t, f in matched)
    positives = sum(t is not None for t in truths)
    precision = correct / len(matched) if matched else 1.0
    recall = correct / positives if positives else 1.0
    return precision, recall
