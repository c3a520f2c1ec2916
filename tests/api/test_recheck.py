"""The re-check queue end to end: an application answered while a registry was down is checked
again when it is back; the caller fetches the new answer or is told by a signed callback."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from matcher.sandbox.serving import ServerThread
from matcher.settings import CallerConfig
from matcher.store.records import Records, rechecks
from matcher.waiver.recheck import RecheckOptions, RecheckRunner
from tests.api.conftest import Api, ApiFactory, Sandbox, applicant

FAST: dict[str, Any] = {
    "recheck_after_s": 0.3,
    "recheck_poll_s": 0.1,
    # the breaker opens after the failures; a short reset lets the re-check through in time
    "registry_options": {"breaker_reset_s": 0.5},
}
KEY = "k-" + "7" * 30


def _wait_for(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _body(holders: dict[str, Any]) -> dict[str, Any]:
    return {
        "matter_code": "ent-establish",
        "applicant": applicant(holders["zhang_wei"]),
        "application_id": f"RECHECK-{uuid.uuid4().hex[:8]}",
    }


def test_an_answer_that_met_a_down_registry_is_checked_again_when_it_is_back(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api: Api = make_api(faulty_sandbox, timeout_s=0.5, **FAST)
    faulty_sandbox.faults(fault_rate=1.0, fault_mode="5xx")
    body = _body(holders)
    first = api.check(body)
    assert first.status_code == 200 and first.json()["summary"]["waived"] == 0
    app_id = body["application_id"]
    kept = api.client.get(f"/v1/waive-check/{app_id}")
    assert kept.status_code == 200 and kept.content == first.content
    assert kept.headers["x-recheck"] == "pending"
    store = Records(api.database_url)
    try:
        with store.engine.connect() as conn:
            queued = conn.execute(rechecks.select()).mappings().one()
    finally:
        store.close()
    # what the queue keeps of the request (the holder's ID number) is sealed at rest
    assert queued["request_json"].startswith("ms1:")
    assert holders["zhang_wei"].id not in queued["request_json"]

    faulty_sandbox.faults(fault_rate=0.0)  # the registry is back
    _wait_for(lambda: api.client.get(f"/v1/waive-check/{app_id}").headers["x-recheck"] == "done")
    now = api.client.get(f"/v1/waive-check/{app_id}")
    answer = now.json()
    assert answer["check_id"] != first.json()["check_id"]
    assert answer["summary"]["waived"] == 3
    assert not any(d["basis"] == "registry_unavailable" for d in answer["decisions"])
    assert api.usage(answer["check_id"])  # the re-check's lookups are on record
    # the business system's own retry now gets the new answer too
    assert api.check(body).content == now.content


def test_a_registry_that_stays_down_is_given_up_on_after_the_attempts(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, timeout_s=0.3, recheck_max_attempts=2, **FAST)
    faulty_sandbox.faults(fault_rate=1.0, fault_mode="5xx")
    body = _body(holders)
    assert api.check(body).status_code == 200
    app_id = body["application_id"]
    _wait_for(lambda: api.client.get(f"/v1/waive-check/{app_id}").headers["x-recheck"] == "gave_up")
    answer = api.client.get(f"/v1/waive-check/{app_id}").json()
    assert answer["summary"]["waived"] == 0  # never a waiver on a registry that did not answer


def test_an_unknown_application_is_404(sandbox: Sandbox, make_api: ApiFactory) -> None:
    api = make_api(sandbox)
    r = api.client.get("/v1/waive-check/NO-SUCH-APPLICATION")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A business system's callback endpoint on loopback; keeps what it is sent."""
    got: list[tuple[dict[str, str], bytes]] = []
    app = FastAPI()

    @app.post("/matcher-callback")
    async def callback(request: Request) -> dict[str, str]:
        got.append((dict(request.headers), await request.body()))
        return {"ok": "yes"}

    with ServerThread(app) as server:
        yield f"{server.url}/matcher-callback", got


def test_the_caller_is_told_by_a_signed_callback(
    faulty_sandbox: Sandbox,
    make_api: ApiFactory,
    holders: dict[str, Any],
    receiver: tuple[str, list[tuple[dict[str, str], bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, got = receiver
    monkeypatch.setenv("ZS_AMR_KEY", KEY)
    caller = CallerConfig(name="zs-amr-ywxt", api_key_env="ZS_AMR_KEY", callback_url=url)
    api = make_api(faulty_sandbox, timeout_s=0.5, callers=[caller], **FAST)
    auth = {"Authorization": f"Bearer {KEY}"}
    faulty_sandbox.faults(fault_rate=1.0, fault_mode="timeout")
    body = _body(holders)
    assert api.check(body, headers=auth).status_code == 200
    faulty_sandbox.faults(fault_rate=0.0)
    _wait_for(lambda: bool(got))
    headers, sent = got[0]
    assert headers["x-matcher-event"] == "recheck.answered"
    assert headers["x-matcher-application-id"] == body["application_id"]
    stamp = headers["x-matcher-timestamp"]
    assert abs(int(stamp) - time.time()) < 60
    expected = hmac.new(KEY.encode(), stamp.encode() + b"." + sent, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-matcher-signature"], "sha256=" + expected)
    fetched = api.client.get(f"/v1/waive-check/{body['application_id']}", headers=auth)
    assert fetched.content == sent


def test_two_runners_never_take_the_same_entry(tmp_path: Any) -> None:
    """Two worker processes share the queue: a leased entry is not handed to the other."""
    records = Records(f"sqlite:///{tmp_path / 'q.db'}")
    now = dt.datetime.now(dt.UTC)
    with records.engine.begin() as conn:
        for i in range(10):
            conn.execute(
                rechecks.insert().values(
                    requester="biz",
                    application_id=f"A-{i}",
                    check_id=str(uuid.uuid4()),
                    request_json="{}",
                    status="pending",
                    attempts=0,
                    next_at=now - dt.timedelta(seconds=1),
                    updated_at=now,
                )
            )

    class Never:
        async def recheck(self, request_json: str, requester: str) -> tuple[bool, bytes]:
            raise AssertionError("not run here")

    one = RecheckRunner(records.engine, rechecks, Never(), RecheckOptions())
    two = RecheckRunner(records.engine, rechecks, Never(), RecheckOptions())
    first, second = one.claim_due(limit=6), two.claim_due(limit=20)
    assert len(first) == 6 and len(second) == 4
    assert not {d.id for d in first} & {d.id for d in second}
    assert two.claim_due() == []  # all leased
    records.close()
