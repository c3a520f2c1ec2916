"""Workbench accounts: clerks and officers, their sign-in sessions, and the audit trail.

Passwords are kept as Argon2id hashes (argon2-cffi; RFC 9106 parameters, memory-hard). A session
is a random token held in an HttpOnly cookie; the database keeps only its SHA-256, with the
session's CSRF token and expiry, so every instance behind a load balancer sees the same sessions.
Blocking, like Records: call from a worker thread.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from matcher.errors import ConflictError, InputError, RecordsUnavailable
from matcher.store.records import Records
from matcher.store.users import audit_events, ui_sessions, users

__all__ = [
    "ROLES",
    "AuditEvent",
    "Role",
    "Session",
    "User",
    "UserStore",
    "allowed",
]

Role = Literal["clerk", "window", "data_officer", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
ROLE_NAMES: dict[str, str] = {
    "clerk": "窗口人员",
    "window": "综合窗口人员",
    "data_officer": "数据专员",
    "admin": "管理员",
}

# What each role may do, checked on the server for every request (never only hidden in a page).
PERMISSIONS: dict[str, frozenset[str]] = {
    # A clerk sees and handles the applications for their own department's matters; a
    # comprehensive window (综合窗口, 一窗受理) takes every department's, as does an admin.
    "applications.view": frozenset({"clerk", "window", "admin"}),
    "applications.all_departments": frozenset({"window", "admin"}),
    "applications.confirm": frozenset({"clerk", "window", "admin"}),
    "holder_id.reveal": frozenset({"clerk", "window", "admin"}),
    # data problems: an officer sees and acts on their department's reports, an admin on all
    "problems.view": frozenset({"data_officer", "admin"}),
    "problems.act": frozenset({"data_officer", "admin"}),
}

MIN_PASSWORD = 10
# Sign-in failures for one user name within the window that stop further tries until it passes.
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
# Attempts from one source address, whatever the account (one machine trying many names).
MAX_FROM_SOURCE = 20
# Past MAX_FAILURES attempts on an account from anywhere, each further one waits this long,
# doubling, up to BACKOFF_CAP_S: guessing slows down without locking the clerk out.
BACKOFF_CAP_S = 30.0
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{2,64}$"


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: str
    department: str | None

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class AuditEvent:
    at: dt.datetime
    username: str
    action: str
    subject: str | None
    detail: dict[str, Any]


def allowed(user: User, permission: str) -> bool:
    return user.role in PERMISSIONS[permission]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class UserStore:
    def __init__(
        self,
        records: Records,
        session_lifetime: dt.timedelta = dt.timedelta(hours=8),
        clock: Callable[[], dt.datetime] | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.engine = records.engine
        self.session_lifetime = session_lifetime
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self._hasher = hasher or PasswordHasher()

    @functools.cached_property
    def _dummy(self) -> str:
        """Verified against when the name is unknown, so both answers take the same time."""
        return self._hasher.hash(secrets.token_urlsafe(16))

    def add_user(
        self, username: str, role: str, password: str, department: str | None = None
    ) -> User:
        if not re.fullmatch(USERNAME_PATTERN, username):
            raise InputError("用户名只能包含字母、数字和 _.@-，2 至 64 个字符", field="username")
        if role not in ROLES:
            raise InputError(f"未知角色 {role}（可选：{'、'.join(ROLES)}）", field="role")
        if len(password) < MIN_PASSWORD:
            raise InputError(f"密码至少 {MIN_PASSWORD} 个字符", field="password")
        hashed = self._hasher.hash(password)
        try:
            with self.engine.begin() as conn:
                user_id = conn.execute(
                    insert(users)
                    .values(
                        username=username,
                        role=role,
                        department=department,
                        password_hash=hashed,
                        active=True,
                        created_at=self._now(),
                    )
                    .returning(users.c.user_id)
                ).scalar_one()
        except IntegrityError:
            raise ConflictError(f"用户 {username} 已存在") from None
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the records database failed: {type(exc).__name__}") from exc
        return User(user_id, username, role, department)

    def set_password(self, username: str, password: str) -> bool:
        """A new password for an existing user (ends their sessions); False if no such user."""
        if len(password) < MIN_PASSWORD:
            raise InputError(f"密码至少 {MIN_PASSWORD} 个字符", field="password")
        hashed = self._hasher.hash(password)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(users).where(users.c.username == username).values(password_hash=hashed)
            ).rowcount
            if done:
                ended = select(users.c.user_id).where(users.c.username == username)
                conn.execute(delete(ui_sessions).where(ui_sessions.c.user_id.in_(ended)))
        return bool(done)

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this name and password, else None (same work either way)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(users).where(users.c.username == username, users.c.active.is_(True))
            ).first()
        stored = row.password_hash if row is not None else self._dummy
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self.engine.begin() as conn:
                conn.execute(
                    update(users)
                    .where(users.c.user_id == row.user_id)
                    .values(password_hash=self._hasher.hash(password))
                )
        return User(row.user_id, row.username, row.role, row.department)

    def begin_sign_in(self, username: str, source: str) -> tuple[bool, float]:
        """Count this attempt before its password is checked: (allowed, seconds to wait first).

        The attempt is recorded first (``sign_in_attempt``, its source address as subject), then
        counted with the others since the account's last sign-in: concurrent guesses each see
        the ones before them, so no more than :data:`MAX_FAILURES` from one source are ever
        checked. A source is refused past that for this account, or past
        :data:`MAX_FROM_SOURCE` for any; other sources are not (nobody can lock a clerk out
        from elsewhere), but attempts on an account from anywhere past the limit wait, doubling."""
        subject = f"source:{source}"[:128]
        self.audit(username, "sign_in_attempt", subject)
        since = self._now() - FAILURE_WINDOW
        last_ok = (
            select(func.max(audit_events.c.at))
            .where(audit_events.c.username == username, audit_events.c.action == "sign_in")
            .scalar_subquery()
        )
        attempts = (
            select(func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "sign_in_attempt", audit_events.c.at > since)
        )
        mine = attempts.where(
            audit_events.c.username == username,
            (last_ok.is_(None)) | (audit_events.c.at > last_ok),
        )
        with self.engine.connect() as conn:
            pair = conn.execute(mine.where(audit_events.c.subject == subject)).scalar_one()
            from_source = conn.execute(
                attempts.where(audit_events.c.subject == subject)
            ).scalar_one()
            account = conn.execute(mine).scalar_one()
        allowed = int(pair) <= MAX_FAILURES and int(from_source) <= MAX_FROM_SOURCE
        extra = int(account) - MAX_FAILURES
        wait = 0.0 if extra <= 0 else min(float(2 ** min(extra, 16)), BACKOFF_CAP_S)
        return allowed, wait

    def start_session(self, user: User) -> tuple[str, Session]:
        """A new session for ``user``: the cookie's token and the session it opens."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        session = Session(user, secrets.token_urlsafe(32), now + self.session_lifetime)
        with self.engine.begin() as conn:
            conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_at < now))
            conn.execute(
                insert(ui_sessions).values(
                    token_hash=_token_hash(token),
                    user_id=user.user_id,
                    csrf_token=session.csrf_token,
                    created_at=now,
                    expires_at=session.expires_at,
                )
            )
        return token, session

    def session(self, token: str) -> Session | None:
        """The live session this cookie token opens, if any."""
        if not token:
            return None
        query = (
            select(ui_sessions, users.c.username, users.c.role, users.c.department)
            .join(users, users.c.user_id == ui_sessions.c.user_id)
            .where(ui_sessions.c.token_hash == _token_hash(token), users.c.active.is_(True))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or _aware(row.expires_at) <= self._now():
            return None
        user = User(row.user_id, row.username, row.role, row.department)
        return Session(user, row.csrf_token, _aware(row.expires_at))

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(ui_sessions).where(ui_sessions.c.token_hash == _token_hash(token)))

    @staticmethod
    def csrf_ok(session: Session, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            session.csrf_token.encode(), (presented or "").encode()
        )

    def audit(
        self, username: str, action: str, subject: str | None, detail: dict[str, Any] | None = None
    ) -> None:
        """Record what a person did (sign-in, revealing an ID number, confirming); durable."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(audit_events).values(
                        at=self._now(),
                        username=username,
                        action=action,
                        subject=subject,
                        detail=json.dumps(detail or {}, ensure_ascii=False),
                    )
                )
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the records database failed: {type(exc).__name__}") from exc

    def audit_trail(self, subject: str | None = None, limit: int = 200) -> list[AuditEvent]:
        query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(audit_events.c.subject == subject)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AuditEvent(_aware(r.at), r.username, r.action, r.subject, json.loads(r.detail or "{}"))
            for r in rows
        ]
