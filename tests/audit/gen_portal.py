"""Generator A: names built from the directory's own type names, dressed the way portal exports
dress them (roles, 原件/复印件, brackets in either width, 份数), with negatives that put a type's
name inside an application form, commitment, statement or change request."""

from __future__ import annotations

import random

from matcher.catalog.licences import load_directory
from tests.audit.gen_common import Case, matter_rows

ROLES = ["", "", "申请人", "法定代表人", "经办人", "委托代理人", "配偶", "买方", "卖方"]
BEFORE = ["", "", "有效的", "加盖公章的"]
AFTER = [
    "",
    "",
    "复印件",
    "原件",
    "原件及复印件",
    "（复印件加盖公章）",
    "(原件)",
    "正反面复印件",
    "1份",
    "复印件2份",
    "（正、副本）",
    "　原件",
]
DOCUMENT_SUFFIX = [
    "变更申请书",
    "注销申请表",
    "遗失声明",
    "真实性承诺书",
    "补领申请",
    "核查情况说明",
    "申领表",
    "使用承诺书",
    "代领委托书",
]
UNRELATED = [
    "公司章程",
    "股东会决议",
    "房屋租赁合同",
    "验资报告",
    "项目可行性研究报告",
    "经营场所平面图",
    "现场照片",
    "设计图纸",
    "劳动合同",
    "购房合同",
    "工程款支付担保",
    "环境影响登记表",
    "消防设计文件",
    "职工名册",
    "财务审计报告",
    "安全管理制度",
]


def generate(count: int, seed: int = 1) -> list[Case]:
    rng = random.Random(seed)
    types = load_directory().types
    names: list[tuple[str, str | None]] = []
    for _ in range(count):
        roll = rng.random()
        t = rng.choice(types)
        if roll < 0.62:
            name = rng.choice(ROLES) + rng.choice(BEFORE) + t.name + rng.choice(AFTER)
            names.append((name, t.code))
        elif roll < 0.82:
            names.append((rng.choice(ROLES) + t.name + rng.choice(DOCUMENT_SUFFIX), None))
        else:
            names.append((rng.choice(UNRELATED) + rng.choice(["", "复印件", "1份"]), None))
    return matter_rows(rng, count, names)
