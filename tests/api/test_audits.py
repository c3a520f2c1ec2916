"""POST /v1/audits → job; GET /v1/audits/{id} → progress; report downloads (in-process runner)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import openpyxl

from tests.api.conftest import Api, ApiFactory, Sandbox
from tests.audit import gen_applications, gen_clerk
from tests.audit.gen_common import write_cases


def wait_done(api: Api, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.client.get(f"/v1/audits/{job_id}", headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"audit {job_id} did not finish: {body}")


WHO = {"X-Requester": "zs-zwb-audit"}


def test_a_material_list_upload_runs_to_reports(
    sandbox: Sandbox, make_api: ApiFactory, tmp_path: Path
) -> None:
    api = make_api(sandbox)
    listing = write_cases(gen_clerk.generate(600), tmp_path / "清单.xlsx")

    started = api.client.post(
        "/v1/audits",
        data={"kind": "materials"},
        files={"files": ("清单.xlsx", listing.read_bytes())},
        headers=WHO,
    )

    assert started.status_code == 202, started.text
    job = started.json()
    assert started.headers["location"] == f"/v1/audits/{job['job_id']}"
    assert job["rows_total"] == 600
    done = wait_done(api, job["job_id"], WHO)
    assert done["status"] == "done" and done["rows_done"] == 600
    xlsx = api.client.get(done["reports"]["xlsx"], headers=WHO)
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book["按部门"]._charts  # type: ignore[attr-defined]
    rows = api.client.get(done["reports"]["json"], headers=WHO).json()
    assert len(rows) == 600 and rows[0]["file"] == "清单.xlsx"
    page = api.client.get(done["reports"]["html"], headers=WHO)
    assert page.headers["content-type"].startswith("text/html") and "data:image/png" in page.text


def test_a_replay_upload_needs_a_purpose_and_then_runs(
    sandbox: Sandbox, make_api: ApiFactory, tmp_path: Path
) -> None:
    api = make_api(sandbox)
    apps = gen_applications.write_jsonl(gen_applications.generate(30), tmp_path / "apps.jsonl")
    files = {"files": ("apps.jsonl", apps.read_bytes())}

    refused = api.client.post("/v1/audits", data={"kind": "applications"}, files=files, headers=WHO)
    assert refused.status_code == 422 and refused.json()["field"] == "purpose"

    started = api.client.post(
        "/v1/audits", data={"kind": "applications", "purpose": "专项审计"}, files=files, headers=WHO
    )
    assert started.status_code == 202
    done = wait_done(api, started.json()["job_id"], WHO)
    assert done["status"] == "done" and done["rows_done"] == 30
    summary = api.client.get(done["reports"]["summary"], headers=WHO).json()
    assert summary["applications"] == 30
    # neither the upload nor the chunk inputs (holder ID numbers) are kept
    assert not list((tmp_path / "audits" / "uploads").glob("*/*"))
    assert not list((tmp_path / "audits" / started.json()["job_id"] / "inputs").glob("*"))


def test_bad_requests_get_clear_answers(sandbox: Sandbox, make_api: ApiFactory) -> None:
    api = make_api(sandbox)
    csv_file = {"files": ("a.csv", "事项编码\n".encode())}

    bad_kind = api.client.post("/v1/audits", data={"kind": "x"}, files=csv_file, headers=WHO)
    bad_type = api.client.post(
        "/v1/audits", data={"kind": "materials"}, files={"files": ("a.pdf", b"%PDF")}, headers=WHO
    )
    unknown = api.client.get("/v1/audits/" + "0" * 32, headers=WHO)
    started = api.client.post("/v1/audits", data={"kind": "materials"}, files=csv_file, headers=WHO)
    other = api.client.get(f"/v1/audits/{started.json()['job_id']}", headers={"X-Requester": "b"})

    assert bad_kind.status_code == 422 and bad_kind.json()["field"] == "kind"
    assert bad_type.status_code == 422
    assert unknown.status_code == 404
    assert other.status_code == 404  # another system's job
    done = wait_done(api, started.json()["job_id"], WHO)
    assert done["status"] == "done"
    assert json.dumps(done["file_problems"], ensure_ascii=False).count("材料名称") >= 1
