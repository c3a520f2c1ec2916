"""The README's first command as a newcomer meets it: on the base install (no OCR, no charts),
run, stopped with Ctrl+C, and run again on the same state folder; a port already taken."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from matcher.sandbox.scans import id_card_pdf
from tests.base_install import start_matcher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_demo(
    state: Path, ports: tuple[int, int, int], log: Path, *, base_only: bool = True
) -> tuple[subprocess.Popen[str], str]:
    """Start the demo (on the base install unless ``base_only`` is False); returns it and what
    it printed up to its last line."""
    port, sandbox_port, province_port = ports
    proc = start_matcher(
        "demo",
        "--port",
        str(port),
        "--sandbox-port",
        str(sandbox_port),
        "--province-port",
        str(province_port),
        env={**os.environ, "MATCHER_STATE_DIR": str(state)},
        stderr=log,
        base_only=base_only,
    )
    assert proc.stdout is not None
    printed = []
    for line in proc.stdout:
        printed.append(line)
        if line.startswith("Ctrl+C"):
            break
    return proc, "".join(printed)


def _stop(proc: subprocess.Popen[str]) -> int:
    """Ctrl+C, as a person stops it."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(20)
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def _sign_in(client: httpx.Client, user: str, password: str) -> None:
    form = client.get("/ui/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    signed = client.post(
        "/ui/sign-in", data={"username": user, "password": password, "csrf_token": token.group(1)}
    )
    assert signed.status_code == 303, signed.text


def _photo() -> bytes:
    image = Image.new("RGB", (800, 500), "white")
    ImageDraw.Draw(image).text((40, 40), "ID 330902198103150314", fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _a_stranger_is_never_sent_for_city_issued_papers(
    api: httpx.Client, matters: list[dict[str, Any]]
) -> None:
    """Every matter, every situation, for a valid ID the registries know nothing of: each check
    answers 200, and no city-issued paper comes back ``require`` but for a party not named."""
    stranger = {"id_type": "citizen_id", "id": "11010519491231002X", "name": "路人甲"}
    for listed in matters:
        matter = api.get(f"/v1/matters/{listed['code']}").json()
        r = api.post(
            "/v1/waive-check",
            json={
                "matter_code": matter["code"],
                "applicant": stranger,
                "situations": [s["code"] for s in matter["situations"]],
                "consent_token": "ct-demo-stranger",
            },
        )
        assert r.status_code == 200, (matter["code"], r.text)
        city = {m["code"] for m in matter["materials"] if m["issued_by_city"]}
        for d in r.json()["decisions"]:
            if d["material_code"] in city:
                assert d["decision"] != "require" or d["basis"] == "party_missing", d


@pytest.fixture
def ports() -> Iterator[tuple[int, int, int]]:
    yield _free_port(), _free_port(), _free_port()


@pytest.mark.acceptance
def test_the_demo_runs_twice_on_one_state_folder_on_the_base_install(
    tmp_path: Path, ports: tuple[int, int, int]
) -> None:
    state = tmp_path / "state"
    base = f"http://127.0.0.1:{ports[0]}"
    passwords: list[tuple[str, str]] = []
    for run in (1, 2):
        log = tmp_path / f"demo{run}.err"
        proc, text = _run_demo(state, ports, log)
        try:
            assert text.endswith("Ctrl+C stops the demo.\n"), text + log.read_text()
            curl = next(line for line in text.splitlines() if line.startswith("curl "))
            answer = json.loads(subprocess.run(["bash", "-c", curl], capture_output=True).stdout)
            # 申请书 (pre-filled), 章程 and 任职文件 are the applicant's; the rest is on record
            assert answer["summary"] == {"waived": 3, "required": 3, "review": 0}
            clerk = re.search(r"user: (demo-clerk)\s+password: (\S+)", text)
            officer = re.search(r"user: (demo-officer)\s+password: (\S+)", text)
            assert clerk is not None and officer is not None, text
            passwords.append((clerk.group(2), officer.group(2)))
            samples = dict(re.findall(r"(SAMPLE-\d)\s.*\n\s+(http://\S+)", text))
            assert sorted(samples) == [f"SAMPLE-{i}" for i in range(1, 7)]
            with httpx.Client(base_url=base, timeout=60, headers={"X-Requester": "demo"}) as api:
                matters = api.get("/v1/matters").json()
                assert len(matters) >= 100 and sum(m["form"] is not None for m in matters) >= 30
                if run == 1:
                    _a_stranger_is_never_sent_for_city_issued_papers(api, matters)
                # 零材料、零字段: nothing to bring but the pre-filled form, nothing to type
                five = api.get("/v1/applications/SAMPLE-5").json()
                assert {
                    d["basis"] for d in five["check"]["decisions"] if d["decision"] == "require"
                } == {"application_form"}
                assert five["form"]["missing"] == [] and five["form"]["fields"]
                # 智能秒办: the business system may approve it untouched
                six = api.get("/v1/applications/SAMPLE-6").json()
                assert six["auto_approval"] == {"status": "eligible", "unmet": []}
            with httpx.Client(base_url=base, timeout=60) as client:
                _sign_in(client, *clerk.groups())
                for url in samples.values():  # each printed link opens its application
                    assert client.get(url).status_code == 200, url
            with httpx.Client(base_url=base, timeout=60) as client:
                _sign_in(client, *officer.groups())
                queue = client.get("/ui/data-problems")
                assert queue.status_code == 200 and "/ui/data-problems/" in queue.text
                assessment = client.get("/ui/assessment")
                assert assessment.status_code == 200
                # without matplotlib the page says so instead of showing a broken picture
                assert 'id="assessment-no-chart"' in assessment.text
                assert "matcher[reports]" in assessment.text
        finally:
            code = _stop(proc)
        out = text + log.read_text()
        assert code in (0, 130), out
        assert "Traceback" not in out
        assert len(re.findall(r"\bINFO\b", out)) <= 3, out
    assert passwords[0] != passwords[1]  # a new password each run, and the printed one works


def test_the_base_install_answers_what_needs_an_extra_with_its_name(
    tmp_path: Path, ports: tuple[int, int, int]
) -> None:
    proc, text = _run_demo(tmp_path / "state", ports, tmp_path / "demo.err")
    try:
        assert text.endswith("Ctrl+C stops the demo.\n"), text
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=60) as client:
            ready = client.get("/readyz").json()
            assert ready["status"] == "ready"
            assert ready["ocr_engines"]["rapidocr"] == "missing: pip install 'matcher[ocr]'"
            assert ready["ocr_engines"]["paddleocr"] == "missing: pip install 'matcher[paddle]'"
            assert ready["charts"] == "missing: pip install 'matcher[reports]'"

            photo = client.post(
                "/v1/extract", files={"file": ("身份证.jpg", _photo(), "image/jpeg")}
            )
            assert photo.status_code == 501
            body = photo.json()
            assert body["error"] == "ocr_unavailable" and body["extra"] == "ocr"
            assert body["install"] == "pip install 'matcher[ocr]'"
            assert "matcher[ocr]" in body["message"]

            # a born-digital PDF needs no OCR: it is read on the base install
            pdf = client.post(
                "/v1/extract",
                files={
                    "file": ("身份证.pdf", id_card_pdf("330902198103150314"), "application/pdf")
                },
            )
            assert pdf.status_code == 200, pdf.text
            fields = {f["name"]: f["normalised"] for f in pdf.json()["fields"]}
            assert fields.get("id_number") == "330902198103150314"

            chart = client.get("/v1/data-problems/assessment.png")
            assert chart.status_code == 501
            assert chart.json()["extra"] == "reports"
            sheet = client.get("/v1/data-problems/assessment.xlsx")
            assert sheet.status_code == 200 and sheet.content[:2] == b"PK"

            # the demo's kept applications export as archive packages that verify offline,
            # against the keys the service publishes (SAMPLE-4 holds a record whose signature
            # fails: it is in the package, named, and not relied on)
            keys = tmp_path / "keys.json"
            keys.write_bytes(client.get("/service-keys").content)
            for sample in ("SAMPLE-1", "SAMPLE-4"):
                package = client.get(
                    f"/v1/applications/{sample}/archive", headers={"X-Requester": "demo"}
                )
                assert package.status_code == 200, package.text
                path = tmp_path / f"{sample}.bag.zip"
                path.write_bytes(package.content)
                verify = ["archive", "verify", str(path), "--keys", str(keys)]
                verified = subprocess.run(
                    [sys.executable, "-m", "matcher.cli", *verify],
                    capture_output=True,
                    text=True,
                )
                assert verified.returncode == 0, verified.stdout + verified.stderr
                assert f"intact (application {sample}, prefilled)" in verified.stdout
    finally:
        _stop(proc)


def test_a_port_already_taken_is_named_with_the_flag_that_changes_it(
    tmp_path: Path, ports: tuple[int, int, int]
) -> None:
    for taken, flag in ((0, "--port"), (1, "--sandbox-port")):
        with socket.socket() as other:
            other.bind(("127.0.0.1", ports[taken]))
            other.listen()
            log = tmp_path / f"taken{taken}.err"
            proc, text = _run_demo(tmp_path / "state", ports, log)
            code = proc.wait(60)
            assert proc.stdout is not None
            proc.stdout.close()
        err = log.read_text()
        assert code == 2
        assert err.strip().splitlines() == [
            f"matcher: port {ports[taken]} on 127.0.0.1 is already in use by another program; "
            f"choose another with {flag} PORT"
        ]
        assert text == ""
