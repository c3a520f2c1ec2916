"""The provincial sharing-interface adapter passes the shared adapter contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import respx

from adapters.base import AdapterOptions
from adapters.model import Evidence
from adapters.province import ProvinceAdapter
from adapters.testing import AdapterContract, Signer

PATH = "/api/v1/certificate/query"
STATUS = {"valid": "10", "expired": "20", "revoked": "30", "suspended": "40"}


def province_cert(
    holder_id: str, type_code: str, serial: int = 1, **changes: Any
) -> dict[str, Any]:
    """An unsigned CERT of a citizen holder, valid today."""
    today = dt.date.today()
    record: dict[str, Any] = {
        "certId": f"ZJ-CONTRACT-{serial:06d}",
        "certTypeCode": type_code,
        "certTypeName": "无犯罪记录证明",
        "certNo": f"浙公证〔2026〕{serial:06d}",
        "holderName": "张三",
        "holderCode": holder_id,
        "holderTypeCode": "111",
        "issueOrgName": "浙江省公安厅",
        "issueOrgCode": "11330000002482034P",
        "issueOrgDivisionCode": "330000",
        "issueDate": f"{today - dt.timedelta(days=10):%Y%m%d}",
        "validBegin": f"{today - dt.timedelta(days=10):%Y%m%d}",
        "validEnd": f"{today + dt.timedelta(days=170):%Y%m%d}",
        "certStatus": "10",
        "surface": [
            {"name": "姓名", "value": "张三"},
            {"name": "公民身份号码", "value": holder_id},
            {"name": "查询结果", "value": "未发现有犯罪记录"},
        ],
    }
    record.update(changes)
    return record


def answer(items: Sequence[Mapping[str, Any]], code: str = "0") -> httpx.Response:
    return httpx.Response(200, json={"code": code, "msg": "成功", "data": list(items)})


class TestProvinceContract(AdapterContract):
    adapter_class = ProvinceAdapter
    type_code = "11100000000013888E010"
    required_members = (
        *("certId", "certTypeCode", "certNo", "holderCode", "holderTypeCode"),
        *("issueOrgName", "issueOrgCode", "issueDate", "validBegin", "validEnd"),
        *("certStatus", "surface"),
    )

    def options(self, **overrides: Any) -> AdapterOptions:
        return super().options(app_id="contract-app", app_secret="contract-secret", **overrides)

    def route(self, registry: respx.MockRouter) -> respx.Route:
        return registry.post(PATH)

    def reply(
        self, records: Sequence[Mapping[str, Any]], *, next_cursor: str | None = None
    ) -> httpx.Response:
        return answer(
            [
                {"cert": r, "fileUrl": f"https://files.example/{r.get('certId')}.ofd?sign=abc"}
                for r in records
            ]
        )

    def sample_record(self, serial: int) -> dict[str, Any]:
        return province_cert(self.holder.id, self.type_code, serial)

    def status_record(self, serial: int, status: str | None) -> dict[str, Any]:
        return province_cert(
            self.holder.id, self.type_code, serial, certStatus=STATUS.get(status or "", "99")
        )

    def error_bodies(self) -> dict[str, httpx.Response]:
        busy = {"code": "9999", "msg": "系统繁忙", "data": None}
        record = {"cert": self.sample_record(1)}
        return {
            "9999-system-busy": httpx.Response(200, json=busy),
            "1001-sign-error-with-empty-data": answer([], code="1001"),
            "3001-quota-with-a-record": answer([record], code="3001"),
            "unknown-code-with-empty-data": answer([], code="7777"),
            "numeric-code": httpx.Response(200, json={"code": 5001, "msg": "无权限", "data": []}),
        }

    def reply_with_file_url(self, record: dict[str, Any], url: str, sign: Signer) -> httpx.Response:
        return answer([{"cert": sign(record), "fileUrl": url}])

    def check_mapping(self, evidence: Evidence, record: Mapping[str, Any]) -> None:
        assert evidence.id == record["certId"]
        assert evidence.number == record["certNo"]
        assert evidence.type_name == record["certTypeName"]
        assert evidence.issuer.name == record["issueOrgName"]
        assert evidence.issuer.code == record["issueOrgCode"]
        assert evidence.issuer.region == "330000"
        assert evidence.valid_until is not None
        assert f"{evidence.valid_until:%Y%m%d}" == record["validEnd"]
        assert evidence.fields == {i["name"]: i["value"] for i in record["surface"]}
