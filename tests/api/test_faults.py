"""What the service does when what it depends on fails, each fault injected for real: a registry
that stalls, resets, errs or lies; Redis and the database cut off mid-run (a TCP proxy in front of
the real servers); the service's own process killed mid-request. None ends in a false waiver, a
5xx other than the documented 503, or a lost or half-written usage record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from matcher.store.records import Records, checks, usage_records
from tests.api.conftest import Api, ApiFactory, Sandbox, applicant
from tests.netfaults import CuttableProxy, ResettingServer


def _decisions(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["material_code"]: d for d in body["decisions"]}


def _assert_nothing_waived_on(body: dict[str, Any], registry: str) -> None:
    for d in body["decisions"]:
        if d["decision"] == "waive":
            assert all(e["registry"] != registry for e in d["evidence"]), d


def _lookups_recorded(api: Api, check_id: str) -> list[dict[str, Any]]:
    usage = api.usage(check_id)
    assert usage, "a check without its usage records"
    return usage


@pytest.mark.parametrize("mode", ["5xx", "timeout", "garbage", "malformed", "429"])
def test_a_failing_registry_never_waives_and_every_lookup_is_recorded(
    mode: str, faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, timeout_s=0.6)
    faulty_sandbox.faults(fault_rate=1.0, fault_mode=mode)
    r = api.check({"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"]["waived"] == 0
    with_evidence = [
        d for d in body["decisions"] if d["basis"] not in ("no_evidence_source", "application_form")
    ]
    assert with_evidence and all(
        d["decision"] == "review" and d["basis"] == "registry_unavailable" for d in with_evidence
    )
    usage = _lookups_recorded(api, body["check_id"])
    assert {u["outcome"] for u in usage} == {"unavailable"}


def test_a_registry_that_resets_connections_never_waives(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    with ResettingServer() as resetting:
        api = make_api(sandbox, datacert_url=resetting.url, timeout_s=0.6)
        r = api.check(
            {
                "matter_code": "taxi-driver-qualification",
                "applicant": applicant(holders["zhang_wei"]),
            }
        )
        assert resetting.accepted > 0
    assert r.status_code == 200, r.text
    body = r.json()
    _assert_nothing_waived_on(body, "zs-datacert")
    d = _decisions(body)
    # 无暴力犯罪记录的证明 stands on the certificate registry alone here
    assert d["no-violent-crime"]["basis"] == "registry_unavailable"
    assert d["id-card"]["decision"] == "waive"  # the e-licence registry still answers
    usage = _lookups_recorded(api, body["check_id"])
    assert {u["outcome"] for u in usage if u["registry"] == "zs-datacert"} == {"unavailable"}


def test_redis_cut_off_mid_run_and_back(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], redis_url: str
) -> None:
    target = urlsplit(redis_url)
    with CuttableProxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        api = make_api(sandbox, redis_url=f"redis://{proxy.url_host}{target.path}")
        people = [holders[k] for k in ("zhang_wei", "li_na", "lin_hai", "wu_jianguo")]
        bodies = [
            {"matter_code": "ent-establish", "applicant": applicant(people[i % 4])}
            for i in range(40)
        ]
        results: list[httpx.Response] = []

        def send(body: dict[str, Any]) -> httpx.Response:
            return httpx.post(f"{api.url}/v1/waive-check", json=body, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(send, b) for b in bodies]
            time.sleep(0.15)
            proxy.cut()  # while checks are in flight
            results = [f.result() for f in futures]
        assert [r.status_code for r in results] == [200] * 40
        ready = api.client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["cache"] == "down" and ready.json()["status"] == "degraded"
        down = api.check(bodies[0])
        assert down.status_code == 200 and down.json()["summary"]["waived"] == 3

        proxy.restore()
        deadline = time.monotonic() + 10
        while api.client.get("/readyz").json()["cache"] != "up":
            assert time.monotonic() < deadline, "the cache did not come back"
            time.sleep(0.2)
        api.check(bodies[1])
        again = api.check(bodies[1]).json()
        assert all(u["from_cache"] for u in api.usage(again["check_id"]))


def test_database_cut_off_answers_503_and_a_later_retry_gets_one_answer(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], postgres_url: str
) -> None:
    target = urlsplit(postgres_url)
    with CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        through = postgres_url.replace(f"{target.hostname}:{target.port}", proxy.url_host)
        api = make_api(faulty_sandbox, database_url=through)
        body = {
            "matter_code": "ent-establish",
            "applicant": applicant(holders["zhang_wei"]),
            "application_id": f"DB-DOWN-{uuid.uuid4().hex[:8]}",
        }
        # The database goes away while the registries are being asked: the answer is ready,
        # but it cannot be recorded, so it is not sent.
        faulty_sandbox.faults(latency_ms=600)
        timer = threading.Timer(0.25, proxy.cut)
        timer.start()
        r = api.check(body)
        timer.join()
        assert r.status_code == 503 and r.json()["error"] == "records_unavailable"
        assert api.client.get("/readyz").status_code == 503
        refused = api.check({**body, "application_id": body["application_id"] + "-B"})
        assert refused.status_code == 503

        proxy.restore()
        faulty_sandbox.faults(latency_ms=0)
        first = api.check(body)
        assert first.status_code == 200, first.text
        again = api.check(body)
        assert again.content == first.content
    store = Records(postgres_url)
    try:
        with store.engine.connect() as conn:
            kept = conn.execute(
                select(func.count())
                .select_from(checks)
                .where(checks.c.application_id == body["application_id"])
            ).scalar_one()
        assert kept == 1
        assert store.usage_for_check(first.json()["check_id"])
    finally:
        store.close()


def test_the_process_killed_mid_request_leaves_no_half_written_record(
    tmp_path: Path, faulty_sandbox: Sandbox, holders: dict[str, Any]
) -> None:
    """SIGKILL to ``matcher serve`` (both workers) while checks wait on the registries and
    commit: every check on record has all its usage records and the chain is whole; started
    again, the service answers every application once, and what it had answered stays."""
    db = f"sqlite:///{tmp_path / 'killed.db'}"
    config = tmp_path / "matcher.toml"
    lines = [f'trust_store = "{faulty_sandbox.trust_store}"', f'database_url = "{db}"']
    for name, adapter in (("zs-elicence", "elicence"), ("zs-datacert", "datacert")):
        lines += ["[[registries]]", f'name = "{name}"', f'adapter = "{adapter}"']
        lines += [f'base_url = "{faulty_sandbox.url}"']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    faulty_sandbox.faults(latency_ms=150, jitter_ms=300)
    people = [holders[k] for k in ("zhang_wei", "li_na", "lin_hai", "wu_jianguo")]
    bodies = [
        {
            "matter_code": "ent-establish",
            "applicant": applicant(people[i % 4]),
            "application_id": f"KILL-{i}",
        }
        for i in range(40)
    ]

    def serve() -> tuple[subprocess.Popen[bytes], str]:
        with socket_port() as port:
            pass
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "matcher.cli", "serve", "--config", str(config)),
                *("--port", str(port), "--workers", "2"),
            ],
            env={**os.environ, "MATCHER_STATE_DIR": str(tmp_path / "state")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return proc, url
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("matcher serve did not start")

    proc, url = serve()
    answered: dict[str, bytes] = {}

    def send(body: dict[str, Any]) -> None:
        try:
            r = httpx.post(f"{url}/v1/waive-check", json=body, timeout=10)
        except httpx.HTTPError:
            return  # the server died under it: no answer, as a real client would see
        assert r.status_code == 200, r.text
        answered[body["application_id"]] = r.content

    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(send, b) for b in bodies]
        deadline = time.monotonic() + 20
        while len(answered) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # some answered, the rest in flight or committing: now
        os.killpg(proc.pid, signal.SIGKILL)
        for f in futures:
            f.result()
    proc.wait(10)
    assert 3 <= len(answered) < len(bodies)

    store = Records(db)
    try:
        chain = store.verify_usage_chain()
        assert chain.first_break is None, str(chain.first_break)
        before = _usage_per_application(store)
        assert set(answered) <= set(before)
    finally:
        store.close()

    faulty_sandbox.faults(latency_ms=0, jitter_ms=0)
    proc, url = serve()
    try:
        for body in bodies:
            r = httpx.post(f"{url}/v1/waive-check", json=body, timeout=10)
            assert r.status_code == 200, r.text
            if body["application_id"] in answered:
                assert r.content == answered[body["application_id"]]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    store = Records(db)
    try:
        after = _usage_per_application(store)
        assert store.verify_usage_chain().first_break is None
    finally:
        store.close()
    assert set(after) == {b["application_id"] for b in bodies}
    # What a check of one applicant records is all or nothing: the checks kept from before the
    # kill have exactly as many usage records as the same applicant's checks made after it.
    for who in range(4):
        counts = {after[f"KILL-{i}"] for i in range(who, len(bodies), 4)}
        assert len(counts) == 1 and 0 not in counts, (who, counts)


def _usage_per_application(store: Records) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            app: n
            for app, n in conn.execute(
                select(checks.c.application_id, func.count(usage_records.c.id))
                .select_from(checks.outerjoin(usage_records))
                .group_by(checks.c.application_id)
            ).all()
        }


class socket_port:
    """A free loopback port, released when the block ends (for a server about to bind it)."""

    def __enter__(self) -> int:
        import socket

        self._s = socket.socket()
        self._s.bind(("127.0.0.1", 0))
        return int(self._s.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._s.close()
