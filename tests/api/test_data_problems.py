"""The data-problem loop end to end: the sandbox over real HTTP, real databases.

Each kind of bad data the sandbox serves files exactly one report, routed to the department
that owns the data; a repeat counts, a corrected record verifies a fixed report, an uncorrected
one reopens it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.conftest import Api, ApiFactory, Sandbox, applicant
from tests.extract.corpus import make_samples

T = TypeVar("T")


def _check(api: Api, holder: Any, matter: str, **extra: Any) -> dict[str, Any]:
    r = api.check({"matter_code": matter, "applicant": applicant(holder), **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _reports(api: Api, **filters: Any) -> list[dict[str, Any]]:
    r = api.client.get("/v1/data-problems", params={"per_page": 500, **filters})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def _filed_by(api: Api, check_id: str) -> list[dict[str, Any]]:
    """The reports a check filed (first seen in it)."""
    return [r for r in _reports(api) if r["first_check_id"] == check_id]


def _eventually(probe: Callable[[], T | None], seconds: float = 10.0) -> T:
    """The follow-up of a check runs in the background: poll until it shows."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the background follow-up did not happen in time")
        time.sleep(0.05)


CASES = [
    # holder, matter, problem, department, material whose decision is not a waiver
    ("yang_fan", "indiv-establish", "signature_invalid", "zs-nrp", "premises"),
    ("wang_fang", "social-insurance-proof", "expired_but_valid", "zs-psb", "id-card"),
    ("zhou_jie", "indiv-establish", "holder_mismatch", "zs-dsj", "premises"),
    ("sun_hao", "indiv-establish", "record_missing", "zs-nrp", "premises"),
]


@pytest.mark.parametrize(("holder", "matter", "problem", "department", "material"), CASES)
def test_bad_data_files_exactly_one_report_for_its_department(
    api: Api,
    holders: dict[str, Any],
    holder: str,
    matter: str,
    problem: str,
    department: str,
    material: str,
) -> None:
    body = _check(api, holders[holder], matter)
    d = next(d for d in body["decisions"] if d["material_code"] == material)
    assert d["decision"] != "waive"
    # Every report this check met (PostgreSQL is shared by the session: an earlier test may
    # have filed it first, and this check then counts once more on it).
    met = api.problems(body["check_id"])
    assert [(r["problem"], r["department"]) for r in met] == [(problem, department)]
    report = api.client.get(f"/v1/data-problems/{met[0]['id']}").json()
    assert report["status"] == "open" and report["occurrences"] >= 1
    assert report["last_check_id"] == body["check_id"]
    # the same instant as the check, whatever the database does with offsets
    seen = dt.datetime.fromisoformat(report["last_seen"])
    checked = dt.datetime.fromisoformat(body["checked_at"])
    assert abs((seen - checked).total_seconds()) < 1
    today = checked.date().isoformat()
    assert report["id"] in [r["id"] for r in _reports(api, since=today, until=today)]
    assert report["problem_text"] and report["department_name"]
    assert report["evidence"], "a report carries its evidence"
    raw_id = holders[holder].id
    assert raw_id not in json.dumps(report, ensure_ascii=False)
    assert report["holder_masked"].startswith(raw_id[:6]) and "*" in report["holder_masked"]


def test_repeating_a_check_counts_the_occurrence_and_files_nothing(
    api: Api, holders: dict[str, Any]
) -> None:
    first = _check(api, holders["yang_fan"], "indiv-establish")
    (report,) = api.problems(first["check_id"])
    before = api.client.get(f"/v1/data-problems/{report['id']}").json()
    second = _check(api, holders["yang_fan"], "indiv-establish")
    assert _filed_by(api, second["check_id"]) == []
    again = api.client.get(f"/v1/data-problems/{report['id']}").json()
    assert again["occurrences"] == before["occurrences"] + 1
    assert again["last_check_id"] == second["check_id"]
    assert again["last_seen"] >= before["last_seen"]
    assert again["first_check_id"] == before["first_check_id"]
    assert [p["id"] for p in api.problems(second["check_id"])] == [report["id"]]


def test_upload_disagreeing_with_the_record_files_one_report(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    other = make_samples("id_card_front", 3)[2]
    r = api.client.post(
        "/v1/files", files={"file": ("id.pdf", io.BytesIO(other.pdf_bytes), "application/pdf")}
    )
    assert r.status_code == 201, r.text
    uploads = [{"material_code": "legal-rep-id", "file_id": r.json()["file_id"]}]
    body = _check(api, holders["zhang_wei"], "ent-establish", uploads=uploads)
    filed = _filed_by(api, body["check_id"])
    assert [(p["problem"], p["department"]) for p in filed] == [("upload_mismatch", "zs-psb")]
    fields = {m["field"] for m in filed[0]["evidence"]["mismatches"]}
    assert {"name", "id_number"} <= fields
    assert holders["zhang_wei"].id not in json.dumps(filed[0], ensure_ascii=False)


def _status(api: Api, report_id: int, status: str, department: str, **extra: Any) -> httpx.Response:
    return api.client.post(
        f"/v1/data-problems/{report_id}/status",
        json={"status": status, **extra},
        headers={"X-Department": department, "X-Requester": f"{department}-officer"},
    )


def _tampered_report(api: Api, holders: dict[str, Any]) -> tuple[dict[str, Any], str]:
    body = _check(api, holders["yang_fan"], "indiv-establish")
    (report,) = _filed_by(api, body["check_id"])
    return report, report["evidence_id"]


def test_fixed_report_is_verified_once_the_record_is_corrected(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, cache_ttl_s=0)
    report, licence_id = _tampered_report(api, holders)
    rid = report["id"]
    _eventually(lambda: api.client.get(f"/v1/data-problems/{rid}").json()["history"])
    assert _status(api, rid, "acknowledged", "zs-nrp").json()["status"] == "acknowledged"
    assert _status(api, rid, "fixed", "zs-nrp", note="已重新签发").json()["status"] == "fixed"
    # The department corrects the record at the source; the next lookup finds it sound.
    fixed = httpx.put(f"{faulty_sandbox.url}/_sandbox/licences/{licence_id}", json={}, timeout=5)
    assert fixed.status_code == 200
    body = _check(api, holders["yang_fan"], "indiv-establish")
    premises = next(d for d in body["decisions"] if d["material_code"] == "premises")
    assert premises["decision"] == "waive"

    def verified() -> dict[str, Any] | None:
        r = api.client.get(f"/v1/data-problems/{rid}").json()
        return r if r["status"] == "verified" else None

    done = _eventually(verified)
    moves = [(h["from_status"], h["to_status"], h["actor"]) for h in done["history"]]
    assert moves == [
        (None, "open", "system"),
        ("open", "acknowledged", "zs-nrp-officer"),
        ("acknowledged", "fixed", "zs-nrp-officer"),
        ("fixed", "verified", "system"),
    ]
    assert done["occurrences"] == 1


def test_fixed_report_reopens_when_the_problem_shows_again(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, cache_ttl_s=0)
    report, _ = _tampered_report(api, holders)
    rid = report["id"]
    assert _status(api, rid, "fixed", "zs-nrp").status_code == 200
    _check(api, holders["yang_fan"], "indiv-establish")  # not corrected: still tampered

    def reopened() -> dict[str, Any] | None:
        r = api.client.get(f"/v1/data-problems/{rid}").json()
        return r if r["status"] == "open" and len(r["history"]) >= 3 else None

    again = _eventually(reopened)
    assert again["occurrences"] == 2
    assert [(h["from_status"], h["to_status"]) for h in again["history"]][-1] == ("fixed", "open")


def test_status_changes_belong_to_the_owning_department(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    report, _ = _tampered_report(api, holders)
    rid = report["id"]
    assert _status(api, rid, "acknowledged", "zs-amr").status_code == 403
    no_reason = _status(api, rid, "rejected", "zs-nrp")
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "note"
    assert _status(api, rid, "verified", "zs-nrp").status_code == 422  # the service's alone
    rejected = _status(api, rid, "rejected", "zs-nrp", note="该证照已注销，非数据错误")
    assert rejected.status_code == 200
    assert rejected.json()["resolution_note"] == "该证照已注销，非数据错误"
    assert _status(api, rid, "fixed", "zs-nrp").status_code == 409
    assert api.client.get("/v1/data-problems/999999").status_code == 404


def test_list_filters_and_pages(api: Api, holders: dict[str, Any]) -> None:
    for key in ("yang_fan", "wang_fang", "sun_hao"):
        _check(api, holders[key], "indiv-establish")
    everything = _reports(api)
    nrp = _reports(api, department="zs-nrp")
    assert nrp and all(r["department"] == "zs-nrp" for r in nrp)
    missing = _reports(api, code="record_missing")
    assert missing and all(r["problem"] == "record_missing" for r in missing)
    page = api.client.get("/v1/data-problems", params={"per_page": 1, "page": 2}).json()
    assert page["total"] == len(everything) and len(page["items"]) == 1
    assert page["items"][0]["id"] == everything[1]["id"]
    by_holder = _reports(api, holder_id_type="citizen_id", holder_id=holders["sun_hao"].id)
    assert by_holder and all(
        r["holder_masked"].endswith(holders["sun_hao"].id[-4:]) for r in by_holder
    )
    future = _reports(api, since="2999-01-01")
    assert future == []
    bad = api.client.get("/v1/data-problems", params={"code": "nonsense"})
    assert bad.status_code == 422


def test_assessment_per_department_and_month_with_chart_and_workbook(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    from openpyxl import load_workbook
    from PIL import Image
    from sqlalchemy import update

    from matcher.store.records import data_problems

    api = make_api(sandbox, problem_fix_deadline_days=10)
    for key in ("yang_fan", "sun_hao", "wang_fang"):
        _check(api, holders[key], "indiv-establish")
    nrp = _reports(api, department="zs-nrp")
    # yang_fan's tampered 不动产权证书; sun_hao's and wang_fang's premises, which have no record
    assert sorted(r["problem"] for r in nrp) == [
        "record_missing",
        "record_missing",
        "signature_invalid",
    ]
    assert _status(api, nrp[0]["id"], "fixed", "zs-nrp").status_code == 200
    # One report found twenty days ago and still open: past the ten-day deadline.
    store = api.records()
    try:
        with store.engine.begin() as conn:
            conn.execute(
                update(data_problems)
                .where(data_problems.c.id == nrp[1]["id"])
                .values(first_seen=dt.datetime.now(dt.UTC) - dt.timedelta(days=20))
            )
    finally:
        store.close()
    r = api.client.get("/v1/data-problems/assessment", params={"department": "zs-nrp"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["deadline_days"] == 10
    rows = body["rows"]
    assert sum(row["found"] for row in rows) == 3
    assert sum(row["fixed"] for row in rows) == 1
    assert sum(row["overdue"] for row in rows) == 1
    assert {row["department_name"] for row in rows} == {"舟山市自然资源和规划局"}
    fixed_row = next(row for row in rows if row["fixed"])
    assert fixed_row["median_days_to_fix"] is not None and fixed_row["median_days_to_fix"] < 1

    png = api.client.get("/v1/data-problems/assessment.png")
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] >= 800
    xlsx = api.client.get("/v1/data-problems/assessment.xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book["部门汇总"]._charts) == 1 and len(book["图表"]._images) == 1
    bad = api.client.get("/v1/data-problems/assessment", params={"since": "2026-13"})
    assert bad.status_code == 422
    backwards = api.client.get(
        "/v1/data-problems/assessment", params={"since": "2026-12", "until": "2026-01"}
    )
    assert backwards.status_code == 422


def test_exports_hold_masked_holders_only(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    from openpyxl import load_workbook

    api = make_api(sandbox)
    for key in ("sun_hao", "wang_fang", "zhou_jie"):
        _check(api, holders[key], "indiv-establish")
    csv_text = api.client.get("/v1/data-problems/export.csv").content.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0].startswith("编号,责任部门")
    assert len(lines) == 1 + len(_reports(api))
    xlsx = api.client.get("/v1/data-problems/export.xlsx", params={"code": "record_missing"})
    sheet = load_workbook(io.BytesIO(xlsx.content))["数据问题"]
    assert sheet.max_row == 1 + len(_reports(api, code="record_missing"))
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    for key in ("sun_hao", "wang_fang", "zhou_jie", "huang_min"):
        assert holders[key].id not in csv_text and holders[key].id not in cells
    assert holders["sun_hao"].id[:6] + "*" * 8 + holders["sun_hao"].id[-4:] in csv_text


def test_with_caller_keys_the_department_comes_from_the_key_not_a_header(
    sandbox: Sandbox,
    make_api: ApiFactory,
    holders: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys = {
        "window": "k-window-0123456789abcdef",
        "nrp-officer": "k-nrp-0123456789abcdef",
        "amr-officer": "k-amr-0123456789abcdef",
        "office": "k-office-0123456789abcdef",
    }
    for name, key in keys.items():
        monkeypatch.setenv(f"KEY_{name.replace('-', '_').upper()}", key)
    api = make_api(
        sandbox,
        callers=[
            {"name": "window", "api_key_env": "KEY_WINDOW"},
            {"name": "nrp-officer", "api_key_env": "KEY_NRP_OFFICER", "department": "zs-nrp"},
            {"name": "amr-officer", "api_key_env": "KEY_AMR_OFFICER", "department": "zs-amr"},
            {"name": "office", "api_key_env": "KEY_OFFICE", "office": True},
        ],
    )

    def as_(name: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[name]}", **headers}

    r = api.check(
        {"matter_code": "indiv-establish", "applicant": applicant(holders["sun_hao"])},
        headers=as_("window"),
    )
    assert r.status_code == 200
    assert api.client.get("/v1/data-problems").status_code == 401
    (report,) = api.client.get("/v1/data-problems", headers=as_("nrp-officer")).json()["items"]
    assert report["department"] == "zs-nrp"
    # Reads are scoped like the officers' pages: another department's reports are not listed,
    # not found one by one, and cannot be asked for; the office reads every department's.
    assert api.client.get("/v1/data-problems", headers=as_("amr-officer")).json()["items"] == []
    assert (
        api.client.get(f"/v1/data-problems/{report['id']}", headers=as_("amr-officer")).status_code
        == 404
    )
    asked = api.client.get(
        "/v1/data-problems", params={"department": "zs-nrp"}, headers=as_("amr-officer")
    )
    assert asked.status_code == 403
    for path in ("/v1/data-problems/assessment", "/v1/data-problems/export.csv"):
        scoped = api.client.get(path, params={"department": "zs-nrp"}, headers=as_("amr-officer"))
        assert scoped.status_code == 403, path
    office = api.client.get("/v1/data-problems", headers=as_("office")).json()["items"]
    assert [r["id"] for r in office] == [report["id"]]
    url = f"/v1/data-problems/{report['id']}/status"
    ack = {"status": "acknowledged"}
    assert api.client.post(url, json=ack, headers=as_("window")).status_code == 403
    spoofed = as_("amr-officer", **{"X-Department": "zs-nrp"})
    assert api.client.post(url, json=ack, headers=spoofed).status_code == 403
    done = api.client.post(url, json=ack, headers=as_("nrp-officer"))
    assert done.status_code == 200
    assert done.json()["history"][-1]["actor"] == "nrp-officer"
    fixed = api.client.post(url, json={"status": "fixed"}, headers=as_("office"))
    assert fixed.status_code == 200 and fixed.json()["history"][-1]["actor"] == "office"


def test_answers_match_the_published_schemas(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    from pathlib import Path

    import jsonschema

    schemas = Path(__file__).resolve().parents[2] / "schemas"

    def check(name: str, doc: Any) -> None:
        schema = json.loads((schemas / name).read_text(encoding="utf-8"))
        jsonschema.validate(doc, schema)

    api = make_api(sandbox)
    for key in ("yang_fan", "zhou_jie", "sun_hao"):
        _check(api, holders[key], "indiv-establish")
    page = api.client.get("/v1/data-problems").json()
    check("data-problem-page.schema.json", page)
    rid = page["items"][0]["id"]
    _eventually(lambda: api.client.get(f"/v1/data-problems/{rid}").json()["history"])
    check("data-problem.schema.json", api.client.get(f"/v1/data-problems/{rid}").json())
    check(
        "data-problem-assessment.schema.json",
        api.client.get("/v1/data-problems/assessment").json(),
    )
