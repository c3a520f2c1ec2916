"""Data-problem codes (数据问题), their Chinese descriptions, and how holders appear in reports.

A report never holds a raw ID number: holders appear masked (``330902********0314``) beside a
keyed hash (:func:`matcher.waiver.cache.keyed_hash`) that finds every report of one holder again.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from matcher.catalog.ids import check_citizen_id, mask_id
from matcher.errors import InputError

__all__ = [
    "PROBLEM_TEXT",
    "STATUS_TEXT",
    "Status",
    "mask_id",
    "mask_name",
    "scrub",
    "verification_code",
]

PROBLEM_TEXT: dict[str, str] = {
    "signature_invalid": "电子签名验证失败或缺少签名（数据可能被篡改）",
    "unknown_key": "签名密钥不在信任列表中（未知密钥）",
    "issuer_mismatch": "签发机构与签名密钥不符",
    "holder_mismatch": "证照库返回了其他持证主体的证照",
    "expired_but_valid": "证照已超过有效期截止日，状态仍为“有效”",
    "licence_id_check_failed": "证照标识未通过 GB/T 36904 校验",
    "type_not_in_directory": "证照类型代码不在证照目录中",
    "upload_mismatch": "申请人上传的材料与证照库数据不一致",
    "record_missing": "本市核发的材料在共享数据中缺失",
    "source_missing": "本市核发的材料尚未接入电子证照或数据凭证（缺少电子数据源）",
    "registry_garbage": "证照库返回了无法解析的数据",
    "field_conflict": "不同证照或数据凭证的已核验数据互相矛盾（预填申请表时发现）",
}

Status = Literal["open", "acknowledged", "fixed", "verified", "rejected"]
STATUS_TEXT: dict[str, str] = {
    "open": "待处理",
    "acknowledged": "已确认",
    "fixed": "已整改（待核验）",
    "verified": "已核验关闭",
    "rejected": "已驳回",
}

# Verification findings (matcher.waiver.evidence) that are the registry's data problem, by
# report code.
_FROM_VERIFICATION = {
    "signature_invalid": "signature_invalid",
    "unsigned": "signature_invalid",
    "alg_mismatch": "signature_invalid",
    "unknown_key": "unknown_key",
    "issuer_mismatch": "issuer_mismatch",
    "holder_mismatch": "holder_mismatch",
}


def verification_code(problem: str) -> str | None:
    """The report code for a verification problem, or None when it is no data problem (an
    expired or revoked licence is the holder's affair, not bad data)."""
    return _FROM_VERIFICATION.get(problem)


# GB 11643 shape: 17 digits and a check character. Masked wherever it appears in report text.
_CITIZEN_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_name(name: str | None) -> str | None:
    """A person's name with all but its first character hidden (张伟 → 张*)."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def _mask_match(m: re.Match[str]) -> str:
    try:
        check_citizen_id(m.group(0))
    except InputError:
        return m.group(0)  # an 18-digit credit code or serial, not an ID number
    return mask_id("citizen_id", m.group(0))


def scrub(value: Any) -> Any:
    """``value`` (JSON-like) with every valid citizen ID number in its strings masked."""
    if isinstance(value, str):
        return _CITIZEN_ID.sub(_mask_match, value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value
