"""The workbench's dependencies: the signed-in session, its role, and the CSRF check on forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request

from matcher.access.users import Session, UserStore, allowed
from matcher.api.deps import ServicesDep

__all__ = [
    "COOKIE",
    "CsrfSessionDep",
    "Forbidden",
    "SessionDep",
    "SignInRequired",
    "permitted",
    "require",
]

COOKIE = "matcher_session"


class SignInRequired(Exception):
    """No live session: pages redirect to the sign-in page, JSON twins answer 401."""


class Forbidden(Exception):
    """Signed in, but this role may not do this (or a form's CSRF token is wrong): 403."""

    def __init__(
        self, message: str, session: Session | None = None, *, status_code: int = 403
    ) -> None:
        super().__init__(message)
        self.message = message
        self.session = session
        self.status_code = status_code


async def get_session(request: Request, services: ServicesDep) -> Session:
    token = request.cookies.get(COOKIE, "")
    session = await anyio.to_thread.run_sync(services.users.session, token) if token else None
    if session is None:
        raise SignInRequired()
    request.state.ui_session = session
    return session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_csrf_session(request: Request, session: SessionDep) -> Session:
    """The session of a form post whose ``csrf_token`` is this session's."""
    form = await request.form()
    token = form.get("csrf_token")
    if not UserStore.csrf_ok(session, token if isinstance(token, str) else None):
        raise Forbidden("页面已过期或来源不明，请刷新页面后重试。", session)
    return session


CsrfSessionDep = Annotated[Session, Depends(get_csrf_session)]


def require(session: Session, permission: str) -> None:
    """Stop here unless the session's role holds ``permission`` (checked on every request)."""
    if not allowed(session.user, permission):
        raise Forbidden(f"您的角色（{session.user.role_name}）无权进行此操作。", session)


def permitted(permission: str) -> Callable[[Session], Awaitable[Session]]:
    """A dependency that lets through only the roles holding ``permission``."""

    async def check(session: SessionDep) -> Session:
        require(session, permission)
        return session

    return check
