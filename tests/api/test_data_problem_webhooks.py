"""Department webhooks over real HTTP: signed, retried, and never on a waive-check's path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from matcher.problems.webhooks import sign
from matcher.settings import WebhookConfig
from tests.api.conftest import ApiFactory, Sandbox, applicant

SECRET = "zs-nrp-webhook-secret-0123"


@dataclass
class Receiver:
    url: str
    answers: list[int]  # status codes to answer, in order; then 200
    gate: threading.Event = field(default_factory=threading.Event)
    waiting: threading.Event = field(default_factory=threading.Event)  # a request is held
    got: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, seconds: float = 15.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.got) >= count, seconds), self.got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rx = state["rx"]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rx.waiting.set()
            rx.gate.wait(30)
            status = rx.answers.pop(0) if rx.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with rx.arrived:
                rx.got.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                rx.arrived.notify_all()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["rx"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["rx"]
    state["rx"].gate.set()
    server.shutdown()
    server.server_close()


def test_new_and_changed_reports_reach_the_department_signed_and_retried(
    sandbox: Sandbox,
    make_api: ApiFactory,
    receiver: Receiver,
    holders: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZS_NRP_HOOK_SECRET", SECRET)
    api = make_api(
        sandbox,
        problem_webhooks=[
            WebhookConfig(department="zs-nrp", url=receiver.url, secret_env="ZS_NRP_HOOK_SECRET")
        ],
    )
    receiver.answers = [503]  # the first delivery fails and is retried
    # The receiver holds every request until the gate opens: the check answers meanwhile.
    r = api.check({"matter_code": "indiv-establish", "applicant": applicant(holders["sun_hao"])})
    assert r.status_code == 200
    # The check has answered while its report's delivery is still held by the receiver.
    assert receiver.waiting.wait(15) and receiver.got == []
    receiver.gate.set()
    receiver.wait_for(2)
    (h1, b1, s1), (h2, b2, s2) = receiver.got[:2]
    assert (s1, s2) == (503, 200)
    assert b1 == b2 and h1["x-matcher-delivery"] == h2["x-matcher-delivery"]
    assert h2["x-matcher-signature"] == sign(SECRET.encode(), h2["x-matcher-timestamp"], b2)
    assert h2["x-matcher-signature"] != sign(b"another secret", h2["x-matcher-timestamp"], b2)
    event = json.loads(b2)
    assert event["event"] == "created" and h2["x-matcher-event"] == "created"
    report = event["report"]
    assert (report["problem"], report["department"]) == ("record_missing", "zs-nrp")
    assert holders["sun_hao"].id not in b2.decode()

    moved = api.client.post(
        f"/v1/data-problems/{report['id']}/status",
        json={"status": "acknowledged"},
        headers={"X-Department": "zs-nrp"},
    )
    assert moved.status_code == 200
    receiver.wait_for(3)
    headers, body, _ = receiver.got[2]
    changed = json.loads(body)
    assert changed["event"] == "status_changed"
    assert changed["report"]["status"] == "acknowledged"
    assert headers["x-matcher-signature"] == sign(
        SECRET.encode(), headers["x-matcher-timestamp"], body
    )


def test_a_department_without_a_webhook_hears_nothing(
    sandbox: Sandbox,
    make_api: ApiFactory,
    receiver: Receiver,
    holders: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZS_AMR_HOOK_SECRET", SECRET)
    receiver.gate.set()
    api = make_api(
        sandbox,
        problem_webhooks=[
            WebhookConfig(department="zs-amr", url=receiver.url, secret_env="ZS_AMR_HOOK_SECRET")
        ],
    )
    r = api.check({"matter_code": "indiv-establish", "applicant": applicant(holders["sun_hao"])})
    assert r.status_code == 200
    # zs-nrp's report went nowhere; a later zs-amr-less status change adds nothing either.
    problems = api.client.get("/v1/data-problems", params={"department": "zs-nrp"}).json()
    assert problems["total"] == 1
    api.client.post(
        f"/v1/data-problems/{problems['items'][0]['id']}/status",
        json={"status": "acknowledged"},
        headers={"X-Department": "zs-nrp"},
    )
    with receiver.arrived:
        assert not receiver.arrived.wait_for(lambda: receiver.got, 1.5)
