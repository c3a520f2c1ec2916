"""Sandbox options: what is fixed at start, and the fault settings that can change while it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["FAULT_KINDS", "FaultMode", "FaultSettings", "SandboxConfig"]

FaultMode = Literal["5xx", "timeout", "garbage", "malformed", "429", "mixed"]
# The faults `mixed` picks from.
FAULT_KINDS: tuple[FaultMode, ...] = ("5xx", "timeout", "garbage", "malformed", "429")


class FaultSettings(BaseModel):
    """Latency, faults and page size; ``PUT /_sandbox/faults`` changes them at run time."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(default=0, ge=0, le=60_000, description="added to every request")
    jitter_ms: float = Field(default=0, ge=0, le=60_000, description="plus uniform 0..jitter_ms")
    fault_rate: float = Field(default=0, ge=0, le=1, description="share of requests that fail")
    fault_mode: FaultMode = "5xx"
    page_size: int = Field(default=5, ge=1, le=1000, description="licences per list page")


class SandboxConfig(FaultSettings):
    """Everything the sandbox registry needs to start."""

    data_dir: Path | None = Field(default=None, description="None: the packaged sample data")
    seed: str = Field(default="matcher-sandbox", min_length=1, description="derives issuer keys")
    api_key: SecretStr | None = Field(default=None, description="None: no authentication")
    hang_s: float = Field(
        default=30.0, gt=0, description="how long a `timeout` fault holds a request open"
    )
    retry_after_s: int = Field(default=1, ge=0, description="Retry-After sent with a 429 fault")
    province_app_id: str = Field(
        default="matcher-sandbox", min_length=1, description="the app the province sandbox knows"
    )
    province_app_secret: SecretStr = Field(
        default=SecretStr("sandbox-app-secret"), description="that app's secret (signs requests)"
    )

    def fault_settings(self) -> FaultSettings:
        return FaultSettings.model_validate(
            self.model_dump(include=set(FaultSettings.model_fields))
        )
