"""Workbench accounts on both databases: Argon2id hashes, sessions that expire, the CLI."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from matcher.access.users import UserStore, users
from matcher.cli import main
from matcher.errors import ConflictError, InputError
from matcher.store.records import Records


def test_passwords_are_kept_as_argon2id_hashes_only(records: Records) -> None:
    store = UserStore(records)
    store.add_user("u-hash", "clerk", "a long password 1")
    with records.engine.connect() as conn:
        stored = (
            conn.execute(users.select().where(users.c.username == "u-hash")).one().password_hash
        )
    assert stored.startswith("$argon2id$") and "a long password" not in stored
    assert store.authenticate("u-hash", "a long password 1") is not None
    assert store.authenticate("u-hash", "a long password 2") is None


def test_a_name_is_taken_once_and_weak_input_is_refused(records: Records) -> None:
    store = UserStore(records)
    store.add_user("u-once", "admin", "a long password 1")
    with pytest.raises(ConflictError):
        store.add_user("u-once", "clerk", "another password")
    with pytest.raises(InputError, match="至少 10"):
        store.add_user("u-short", "clerk", "short")
    with pytest.raises(InputError, match="未知角色"):
        store.add_user("u-role", "boss", "a long password 1")


def test_a_session_ends_at_its_expiry_and_at_sign_out(records: Records) -> None:
    now = [dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)]
    store = UserStore(records, dt.timedelta(hours=8), clock=lambda: now[0])
    user = store.add_user("u-session", "clerk", "a long password 1")
    token, session = store.start_session(user)
    assert store.session(token) == session
    now[0] += dt.timedelta(hours=7, minutes=59)
    assert store.session(token) is not None
    now[0] += dt.timedelta(minutes=2)
    assert store.session(token) is None
    token, _ = store.start_session(user)
    store.end_session(token)
    assert store.session(token) is None
    assert store.session("") is None and store.session("made-up") is None


def test_users_add_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    monkeypatch.setenv("MATCHER_DATABASE_URL", db)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
    args = ["users", "add", "wangfang", "--role", "clerk", "--department", "ZS-AMR"]
    assert main([*args, "--password-stdin"]) == 0
    assert "user wangfang added: clerk, department ZS-AMR" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
    assert main([*args, "--password-stdin"]) == 2
    assert "已存在" in capsys.readouterr().err
    records = Records(db)
    try:
        user = UserStore(records).authenticate("wangfang", "a long password 1")
    finally:
        records.close()
    assert user is not None and user.department == "ZS-AMR"


def test_five_attempts_from_one_source_lock_it_out_of_that_name_for_a_while(
    records: Records,
) -> None:
    now = [dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)]
    store = UserStore(records, clock=lambda: now[0])
    name = f"u-lock-{now[0].timestamp():.0f}-{id(records)}"
    store.add_user(name, "clerk", "a long password 1")
    assert [store.begin_sign_in(name, "10.0.0.9")[0] for _ in range(5)] == [True] * 5
    assert store.begin_sign_in(name, "10.0.0.9") == (False, 2.0)  # locked; the name slows
    assert store.begin_sign_in(name, "10.0.0.8")[0]  # not from the clerk's own window
    assert store.begin_sign_in("someone-else", "10.0.0.9") == (True, 0.0)
    now[0] += dt.timedelta(minutes=16)
    assert store.begin_sign_in(name, "10.0.0.9") == (True, 0.0)
    # attempts before a successful sign-in no longer count
    for _ in range(6):
        store.begin_sign_in(name, "10.0.0.9")
    now[0] += dt.timedelta(seconds=1)
    store.audit(name, "sign_in", None)
    now[0] += dt.timedelta(seconds=1)
    assert store.begin_sign_in(name, "10.0.0.9") == (True, 0.0)
