"""Dependencies as Annotated aliases; everything comes from the Services built at start-up.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread,
which cost more than half the throughput of a waive-check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from matcher.check import WaiveCheckService
from matcher.wiring import Services

__all__ = ["CheckerDep", "RequesterDep", "ServicesDep"]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_checker(request: Request) -> WaiveCheckService:
    services: Services = request.app.state.services
    return services.checker


async def get_requester(
    x_requester: Annotated[
        str | None,
        Header(
            max_length=128,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="the calling business system's name (recorded in usage records)",
        ),
    ] = None,
) -> str:
    return x_requester or "anonymous"


ServicesDep = Annotated[Services, Depends(get_services)]
CheckerDep = Annotated[WaiveCheckService, Depends(get_checker)]
RequesterDep = Annotated[str, Depends(get_requester)]
