"""Dependencies as Annotated aliases; everything comes from the Services built at start-up.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread,
which cost more than half the throughput of a waive-check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from matcher.api.auth import caller_of
from matcher.wiring import Services

__all__ = ["RequesterDep", "RequesterHeader", "ServicesDep", "requester_name"]


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


RequesterHeader = Annotated[
    str | None,
    Header(
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="the calling business system's name (recorded in usage records)",
    ),
]
"""``X-Requester`` as a plain parameter: the waive-check route takes it without a dependency."""


def requester_name(request: Request, x_requester: str | None) -> str:
    """The caller authenticated by its key where callers are configured (matcher.api.auth), else
    what ``X-Requester`` says."""
    return caller_of(request.scope) or x_requester or "anonymous"


async def get_requester(request: Request, x_requester: RequesterHeader = None) -> str:
    return requester_name(request, x_requester)


ServicesDep = Annotated[Services, Depends(get_services)]
RequesterDep = Annotated[str, Depends(get_requester)]
