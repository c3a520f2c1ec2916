"""What the contract tests build on: a clock that skips sleeps, reference records, a trust store."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import anyio.lowlevel

from adapters.model import Holder

__all__ = [
    "TIMEOUT_SLACK_S",
    "ContractClock",
    "contract_trust_store",
    "sample_certificate",
    "sample_licence",
]

# How far past its budget a timed-out lookup may return: scheduling, not a second attempt.
TIMEOUT_SLACK_S = 0.3


def sample_licence(
    holder: Holder, type_code: str, serial: int = 1, /, **changes: Any
) -> dict[str, Any]:
    """An unsigned registry protocol §1 LICENCE of ``holder``, valid today; ``changes`` override."""
    today = dt.date.today()
    record: dict[str, Any] = {
        "licence_id": f"contract-licence-{serial:04d}",
        "type_code": type_code,
        "type_name": "营业执照",
        "number": f"330900{serial:012d}",
        "holder": {"id_type": holder.id_type, "id": holder.id, "name": holder.name or "持证人"},
        "issuer": {
            "name": "舟山市市场监督管理局",
            "code": "11330900002648488K",
            "region": "330900",
        },
        "issued_on": (today - dt.timedelta(days=400)).isoformat(),
        "valid_from": (today - dt.timedelta(days=400)).isoformat(),
        "valid_until": (today + dt.timedelta(days=3650)).isoformat(),
        "status": "valid",
        "surface": {"名称": "舟山某某水产有限公司", "法定代表人": "张三", "住所": "舟山市定海区"},
    }
    record.update(changes)
    return record


def sample_certificate(
    holder: Holder, cert_type: str, serial: int = 1, /, **changes: Any
) -> dict[str, Any]:
    """An unsigned registry protocol §2 CERTIFICATE of ``holder``, valid today."""
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    record: dict[str, Any] = {
        "certificate_no": f"contract-cert-{serial:06d}",
        "cert_type": cert_type,
        "cert_name": "社会保险参保证明",
        "holder": {"id_type": holder.id_type, "id": holder.id, "name": holder.name or "持证人"},
        "source": {
            "department": "舟山市人力资源和社会保障局",
            "code": "11330900002648496D",
            "region": "330900",
        },
        "issued_at": now.isoformat(),
        "valid_until": (now.date() + dt.timedelta(days=30)).isoformat(),
        "data": {"参保状态": "正常", "参保起始日期": "2015-07-01"},
    }
    record.update(changes)
    return record


class ContractClock:
    """Real monotonic time plus skipped time: ``sleep`` returns at once but counts as elapsed."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.sleeps: list[float] = []

    @property
    def slept(self) -> float:
        return sum(self.sleeps)

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.skipped += max(0.0, seconds)
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, e.g. until a circuit breaker lets a trial call through."""
        self.skipped += seconds


def contract_trust_store(key: Any, key_id: str) -> Any:
    """A trust store holding one Ed25519 key (the core's, imported only when a test runs)."""
    from matcher.waiver.evidence import TrustedKey, TrustStore

    return TrustStore({key_id: TrustedKey(key_id, "Ed25519", key.public_key())})
