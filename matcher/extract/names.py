"""Canonical field names: the one list every document kind, form and comparison uses.

A document kind's YAML may only name fields listed here; the loader refuses any other name and
suggests the closest. Adding a field to a kind that needs a new name means adding it here first,
with what it means in Chinese.
"""

from __future__ import annotations

import difflib
from typing import Final

__all__ = [
    "ADDRESS",
    "BIRTH_DATE",
    "CERTIFICATE_NUMBER",
    "FIELD_NAMES",
    "ID_NUMBER",
    "NAME",
    "SEX",
    "USCC",
    "closest_field_names",
]

# The names other modules refer to in code; the rest are used only by the kind files.
NAME: Final = "name"
SEX: Final = "sex"
BIRTH_DATE: Final = "birth_date"
ADDRESS: Final = "address"
ID_NUMBER: Final = "id_number"
USCC: Final = "uscc"
CERTIFICATE_NUMBER: Final = "certificate_number"

# canonical name → what it is (zh-CN), in the order the kinds first use them.
FIELD_NAMES: Final[dict[str, str]] = {
    # people
    NAME: "姓名或名称",
    SEX: "性别",
    "ethnicity": "民族",
    BIRTH_DATE: "出生日期",
    "birthplace": "出生地",
    "nationality": "国籍",
    ADDRESS: "住址或住所",
    ID_NUMBER: "公民身份号码",
    "relation_to_head": "户主或与户主关系",
    "household_number": "户号",
    # issuing and validity
    "issuer": "签发机关",
    "issued_on": "签发日期",
    "valid_period": "有效期限（起止）",
    "valid_until": "有效期至",
    "registration_authority": "登记机关",
    CERTIFICATE_NUMBER: "证书编号或字号",
    # organisations
    USCC: "统一社会信用代码",
    "company_type": "主体类型",
    "legal_representative": "法定代表人或经营者",
    "business_scope": "经营范围",
    "registered_capital": "注册资本",
    "established_on": "成立日期",
    "business_term": "营业期限（起止）",
    # real estate
    "right_holder": "权利人",
    "co_ownership": "共有情况",
    "location": "坐落",
    "unit_number": "不动产单元号",
    "right_type": "权利类型",
    "right_nature": "权利性质",
    "purpose": "用途",
    "area": "面积",
    "use_term": "使用期限",
    # marriage
    "holder_name": "持证人",
    "registered_on": "登记日期",
    "husband_name": "男方姓名",
    "husband_sex": "男方性别",
    "husband_nationality": "男方国籍",
    "husband_birth_date": "男方出生日期",
    "husband_id_number": "男方身份证件号",
    "wife_name": "女方姓名",
    "wife_sex": "女方性别",
    "wife_nationality": "女方国籍",
    "wife_birth_date": "女方出生日期",
    "wife_id_number": "女方身份证件号",
    # seafarers
    "grade": "等级",
    "position": "职务",
    "grade_position": "等级/职务（印在一处时）",
    "sailing_area": "适用航区",
    # social insurance
    "employer": "参保单位",
    "insurance_status": "参保状态",
    "insured_since": "参保起始日期",
    "paid_months": "缴费月数",
}


def closest_field_names(name: str) -> list[str]:
    """Canonical names that look like ``name``, for a "did you mean" hint."""
    return difflib.get_close_matches(name, FIELD_NAMES, n=3)
