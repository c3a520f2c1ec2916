"""The admin routes every sandbox shares (``/_sandbox/…``): faults, counters, trust store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from matcher.sandbox.config import FaultSettings
from matcher.sandbox.gate import SandboxState

__all__ = ["add_control_routes"]


def add_control_routes(app: FastAPI, state: SandboxState, trust_store: bytes) -> None:
    @app.get("/_sandbox/faults", tags=["sandbox admin"])
    async def get_faults() -> FaultSettings:
        return state.faults

    @app.put("/_sandbox/faults", tags=["sandbox admin"])
    async def put_faults(changes: Annotated[dict[str, Any], Body()]) -> FaultSettings:
        """Change any of the settings; the ones not named keep their value."""
        try:
            state.faults = FaultSettings.model_validate({**state.faults.model_dump(), **changes})
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        return state.faults

    @app.get("/_sandbox/stats", tags=["sandbox admin"])
    async def get_stats() -> dict[str, Any]:
        return state.stats()

    @app.delete("/_sandbox/stats", status_code=204, tags=["sandbox admin"])
    async def reset_stats() -> Response:
        state.reset_stats()
        return Response(status_code=204)

    @app.get("/_sandbox/trust-store", tags=["sandbox admin"])
    async def get_trust_store() -> Response:
        return Response(trust_store, media_type="application/json")
