"""Caller keys made with ``matcher keys``: hashed in the database, scoped, rate-limited, rotated
with an overlap and revoked; every refusal a clear 401/403/429."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import main
from matcher.store.records import Records, api_keys
from tests.api.conftest import Api, ApiFactory, Sandbox, applicant

REFRESH = 0.2


def _config(tmp_path: Path, api: Api) -> Path:
    config = tmp_path / "keys.toml"
    config.write_text(f'database_url = "{api.database_url}"\n', encoding="utf-8")
    return config


def _keys(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["keys", *args, "--config", str(config)]) == 0
    return capsys.readouterr().out


def _made(out: str) -> tuple[str, str]:
    key = out.strip().splitlines()[-1]
    match = re.fullmatch(r"mk_([0-9a-f]{12})_[A-Za-z0-9_-]{40,}", key)
    assert match, out
    return match.group(1), key


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _after_refresh() -> None:
    time.sleep(REFRESH * 2)


def _body(holders: dict[str, Any]) -> dict[str, Any]:
    return {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}


@pytest.fixture
def api(sandbox: Sandbox, make_api: ApiFactory) -> Api:
    return make_api(sandbox, key_refresh_s=REFRESH)


def test_a_scoped_key_calls_what_it_may_and_nothing_else(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str], holders: dict[str, Any]
) -> None:
    config = _config(tmp_path, api)
    assert api.check(_body(holders)).status_code == 200  # no keys yet: open
    _, key = _made(_keys(config, capsys, "create", "zs-amr-ywxt", "--scopes", "waive-check"))
    _after_refresh()
    anonymous = api.check(_body(holders))
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorised"

    r = api.check(_body(holders), headers=_bearer(key))
    assert r.status_code == 200
    assert {u["requester"] for u in api.usage(r.json()["check_id"])} == {"zs-amr-ywxt"}
    assert api.client.get("/v1/matters", headers=_bearer(key)).status_code == 200
    denied = api.client.get("/v1/usage", params={"holder_id": "x"}, headers=_bearer(key))
    assert denied.status_code == 403
    assert denied.json()["error"] == "scope_denied" and denied.json()["scope"] == "usage"
    assert "usage" in denied.json()["message"]
    upload = api.client.post(
        "/v1/files", files={"file": ("a.png", b"\x89PNG", "image/png")}, headers=_bearer(key)
    )
    assert upload.status_code == 403 and upload.json()["scope"] == "extract"

    # the key itself is never kept or shown again
    listing = _keys(config, capsys, "list")
    assert "zs-amr-ywxt" in listing and key not in listing
    store = Records(api.database_url)
    try:
        with store.engine.connect() as conn:
            stored = [tuple(r) for r in conn.execute(api_keys.select())]
    finally:
        store.close()
    assert stored and all(key not in str(row) for row in stored)


@pytest.mark.parametrize("cache", ["memory", "redis"])
def test_a_key_past_its_rate_gets_429_with_retry_after(
    cache: str,
    sandbox: Sandbox,
    make_api: ApiFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    redis = request.getfixturevalue("redis_url") if cache == "redis" else None
    api = make_api(sandbox, redis_url=redis, key_refresh_s=REFRESH)
    config = _config(tmp_path, api)
    out = _keys(config, capsys, "create", "zs-gjj", "--scopes", "waive-check", "--rate", "3")
    _, key = _made(out)
    _after_refresh()
    codes = [api.client.get("/v1/matters", headers=_bearer(key)).status_code for _ in range(5)]
    if codes[:3] != [200] * 3:  # the minute turned over mid-way: the window starts again
        codes = [api.client.get("/v1/matters", headers=_bearer(key)).status_code for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[3:] == [429, 429]
    limited = api.client.get("/v1/matters", headers=_bearer(key))
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "每分钟最多 3 次" in limited.json()["message"]


def test_rotation_overlaps_then_the_old_key_is_refused(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, api)
    old_id, old = _made(_keys(config, capsys, "create", "zs-bdc", "--scopes", "admin"))
    out = _keys(config, capsys, "rotate", old_id, "--overlap-hours", "1")
    new_id, new = _made(out)
    assert new_id != old_id and new != old
    _after_refresh()
    for key in (old, new):  # the overlap: both work
        assert api.client.get("/v1/matters", headers=_bearer(key)).status_code == 200
    assert "expires" in _keys(config, capsys, "list")
    # rotated again with no overlap: the previous key stops at once
    _, newest = _made(_keys(config, capsys, "rotate", new_id, "--overlap-hours", "0"))
    _after_refresh()
    expired = api.client.get("/v1/matters", headers=_bearer(new))
    assert expired.status_code == 401 and expired.json()["error"] == "key_expired"
    assert api.client.get("/v1/matters", headers=_bearer(newest)).status_code == 200


def test_a_revoked_key_is_refused_saying_so(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, api)
    key_id, key = _made(_keys(config, capsys, "create", "zs-tax", "--scopes", "usage"))
    _keys(config, capsys, "create", "zs-other", "--scopes", "usage")  # keeps auth on
    _after_refresh()
    assert api.client.get("/v1/matters", headers=_bearer(key)).status_code == 200
    assert "revoked" in _keys(config, capsys, "revoke", key_id)
    _after_refresh()
    r = api.client.get("/v1/matters", headers=_bearer(key))
    assert r.status_code == 401 and r.json()["error"] == "key_revoked"
    assert key_id in r.json()["message"] and "吊销" in r.json()["message"]
    assert main(["keys", "revoke", key_id, "--config", str(config)]) == 1


def test_unknown_scopes_are_refused_by_the_command(
    api: Api, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, api)
    assert main(["keys", "create", "x", "--scopes", "waive,root", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown scope" in err and "waive-check" in err


def test_environment_keys_keep_working_beside_stored_ones(
    sandbox: Sandbox,
    make_api: ApiFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    holders: dict[str, Any],
) -> None:
    monkeypatch.setenv("WIN_KEY", "k-window-0123456789abcdef")
    api = make_api(
        sandbox,
        key_refresh_s=REFRESH,
        callers=[{"name": "window", "api_key_env": "WIN_KEY", "scopes": ["waive-check"]}],
    )
    _, stored = _made(
        _keys(_config(tmp_path, api), capsys, "create", "zs-amr", "--scopes", "waive-check")
    )
    _after_refresh()
    for key, who in ((stored, "zs-amr"), ("k-window-0123456789abcdef", "window")):
        r = api.check(_body(holders), headers=_bearer(key))
        assert r.status_code == 200
        assert {u["requester"] for u in api.usage(r.json()["check_id"])} == {who}
    scoped = api.client.get(
        "/v1/usage", params={"holder_id": "x"}, headers=_bearer("k-window-0123456789abcdef")
    )
    assert scoped.status_code == 403


def test_a_caller_sees_its_own_usage_and_only_the_portal_sees_everyones(
    tmp_path: Path, api: Api, holders: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, api)
    _, amr = _made(_keys(config, capsys, "create", "zs-amr", "--scopes", "waive-check,usage"))
    _, gjj = _made(_keys(config, capsys, "create", "zs-gjj", "--scopes", "waive-check,usage"))
    _, portal = _made(_keys(config, capsys, "create", "portal", "--scopes", "usage,holder-usage"))
    _after_refresh()
    checks = {}
    for name, key in (("zs-amr", amr), ("zs-gjj", gjj)):
        r = api.check(_body(holders), headers=_bearer(key))
        assert r.status_code == 200, r.text
        checks[name] = r.json()["check_id"]

    def seen(key: str) -> set[str]:
        r = api.client.get(
            "/v1/usage",
            params={"holder_id": holders["zhang_wei"].id, "limit": 500},
            headers=_bearer(key),
        )
        assert r.status_code == 200, r.text
        return {i["requester"] for i in r.json()["items"] if i["check_id"] in checks.values()}

    assert seen(amr) == {"zs-amr"}  # another system's lookups are not its business
    assert seen(gjj) == {"zs-gjj"}
    assert seen(portal) == {"zs-amr", "zs-gjj"}  # the holder's view, for the citizen portal


def test_a_stored_key_with_a_department_reads_that_departments_problems_only(
    tmp_path: Path, api: Api, holders: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, api)
    scopes = ("--scopes", "waive-check,data-problems")
    _, window = _made(_keys(config, capsys, "create", "window", *scopes))
    _, nrp = _made(_keys(config, capsys, "create", "nrp", *scopes, "--department", "zs-nrp"))
    _, amr = _made(_keys(config, capsys, "create", "amr", *scopes, "--department", "zs-amr"))
    assert "department zs-nrp" in _keys(config, capsys, "list")
    _after_refresh()
    # yang_fan's real-estate licence fails its signature: a report for 自然资源和规划局 (zs-nrp)
    r = api.check(
        {"matter_code": "re-change-name", "applicant": applicant(holders["yang_fan"])},
        headers=_bearer(window),
    )
    assert r.status_code == 200

    def listed(key: str) -> list[dict[str, Any]]:
        found = api.client.get("/v1/data-problems", params={"per_page": 500}, headers=_bearer(key))
        assert found.status_code == 200, found.text
        return list(found.json()["items"])

    mine = [p for p in listed(nrp) if p["department"] == "zs-nrp"]
    assert mine and all(p["department"] == "zs-nrp" for p in listed(nrp))
    assert all(p["department"] == "zs-amr" for p in listed(amr))
    one = mine[0]["id"]
    assert api.client.get(f"/v1/data-problems/{one}", headers=_bearer(amr)).status_code == 404
    ack = api.client.post(
        f"/v1/data-problems/{one}/status", json={"status": "acknowledged"}, headers=_bearer(nrp)
    )
    assert ack.status_code == 200 and ack.json()["history"][-1]["actor"] == "nrp"
    assert {p["department"] for p in listed(window)} >= {"zs-nrp"}  # no department: every one
