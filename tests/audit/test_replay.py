"""The replay audit against the sandbox registry over real HTTP, with the in-process runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from matcher.audit.jobs import FileJobStore
from matcher.audit.runner import AuditWorker, InProcessRunner, create_job, run_chunk
from matcher.sandbox import load_holders
from matcher.store.records import Records, checks
from tests.audit import gen_applications
from tests.audit.conftest import sandbox_settings

PURPOSE = "2026年度减材料专项审计"


def zhang_wei_app(app_id: str = "A-1") -> dict[str, Any]:
    holder = load_holders()["zhang_wei"]
    return {
        "application_id": app_id,
        "matter_code": "ent-establish",
        "date": "2026-05-01",
        "applicant_id_type": "citizen_id",
        "applicant_id": holder.id,
        "applicant_name": holder.name,
        "parties": [],
        "materials": [
            "application",
            "legal-rep-id",
            "住所（经营场所）使用证明",
            "法定代表人社会保险参保证明",
        ],
    }


def rows_by_material(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["material"]: r for r in rows}


def replay(tmp_path: Path, start_sandbox: Any, apps: list[dict[str, Any]]) -> dict[str, str]:
    """Run a replay audit of ``apps`` in process, against a sandbox; its reports' paths."""
    url, trust = start_sandbox()
    settings = sandbox_settings(url, tmp_path, trust)
    path = gen_applications.write_jsonl(apps, tmp_path / "apps.jsonl")
    store = FileJobStore(tmp_path / "jobs")
    spec = create_job(
        store, settings, "applications", [path], tmp_path / "out", options={"purpose": PURPOSE}
    )
    runner = InProcessRunner(settings, store)
    try:
        reports: dict[str, str] = runner.run(spec.id)
    finally:
        runner.close()
    # the chunk inputs (holder ID numbers) are not kept once the job is done
    assert list((tmp_path / "jobs" / spec.id / "inputs").glob("*.json")) == []
    return reports


def test_materials_collected_needlessly_are_named_with_their_evidence(
    tmp_path: Path, start_sandbox: Any
) -> None:
    bad = {**zhang_wei_app("A-2"), "applicant_id": "330902198103150315"}  # wrong check digit
    # 婚姻状况证明 is asked for only when spouses invest jointly: collecting it says they did
    joint = {**zhang_wei_app("A-3"), "materials": ["法定代表人婚姻状况证明（夫妻共同出资）"]}
    reports = replay(tmp_path, start_sandbox, [zhang_wei_app(), bad, joint])

    rows = json.loads(Path(reports["json"]).read_text("utf-8"))
    good = rows_by_material([r for r in rows if r["application_id"] == "A-1"])
    assert good["legal-rep-id"]["status"] == "needless"
    assert "《居民身份证》" in good["legal-rep-id"]["evidence"]
    assert good["住所（经营场所）使用证明"]["status"] == "needless"
    assert "《不动产权证书》" in good["住所（经营场所）使用证明"]["evidence"]
    # a paper the real list does not ask for: collected beyond the list, never "needless"
    beyond = good["法定代表人社会保险参保证明"]
    assert beyond["status"] == "needed" and "清单外收取" in beyond["reason"]
    assert good["application"]["status"] == "needed"
    invalid = [r for r in rows if r["application_id"] == "A-2"]
    assert invalid and all(r["status"] == "invalid" for r in invalid)
    assert "applicant.id" in invalid[0]["reason"] or "校验" in invalid[0]["reason"]
    (marriage,) = [r for r in rows if r["application_id"] == "A-3"]
    assert marriage["status"] == "needless" and "《结婚证》" in marriage["evidence"]


def test_audit_checks_are_recorded_as_audit_use_with_the_purpose(
    tmp_path: Path, start_sandbox: Any
) -> None:
    url, trust = start_sandbox()
    settings = sandbox_settings(url, tmp_path, trust)
    path = gen_applications.write_jsonl([zhang_wei_app()], tmp_path / "apps.jsonl")
    store = FileJobStore(tmp_path / "jobs")
    spec = create_job(store, settings, "applications", [path], options={"purpose": PURPOSE})
    runner = InProcessRunner(settings, store)
    try:
        runner.run(spec.id)
    finally:
        runner.close()

    records = Records(settings.resolved_database_url())
    try:
        with records.engine.connect() as conn:
            made = conn.execute(select(checks.c.check_id, checks.c.use, checks.c.purpose)).all()
        usage = records.usage_for_check(made[0].check_id)
    finally:
        records.close()
    assert [(m.use, m.purpose) for m in made] == [("audit", PURPOSE)]
    assert usage and all(u["use"] == "audit" and u["purpose"] == PURPOSE for u in usage)


def test_a_registry_outage_marks_rows_unknown_never_needless(
    tmp_path: Path, start_sandbox: Any
) -> None:
    url, trust = start_sandbox(fault_rate=1.0, fault_mode="5xx")
    settings = sandbox_settings(url, tmp_path, trust)
    path = gen_applications.write_jsonl([zhang_wei_app()], tmp_path / "apps.jsonl")
    store = FileJobStore(tmp_path / "jobs")
    spec = create_job(store, settings, "applications", [path], options={"purpose": PURPOSE})
    runner = InProcessRunner(settings, store)
    try:
        runner.run(spec.id)
    finally:
        runner.close()

    rows = rows_by_material(store.results(spec.id))
    assert rows["legal-rep-id"]["status"] == "unknown"
    assert rows["住所（经营场所）使用证明"]["status"] == "unknown"
    assert not any(r["status"] == "needless" for r in rows.values())
    # an audit's check is not queued for the service's re-check when the registry is back
    records = Records(settings.resolved_database_url())
    try:
        with records.engine.connect() as conn:
            queued = conn.execute(text("SELECT count(*) FROM rechecks")).scalar()
    finally:
        records.close()
    assert queued == 0


def test_a_job_stopped_midway_resumes_and_counts_each_application_once(
    tmp_path: Path, start_sandbox: Any
) -> None:
    url, trust = start_sandbox()
    settings = sandbox_settings(url, tmp_path, trust, audit_chunk_size=10)
    apps = gen_applications.generate(45)
    path = gen_applications.write_csv(apps, tmp_path / "apps.csv")
    store = FileJobStore(tmp_path / "jobs")
    spec = create_job(store, settings, "applications", [path], options={"purpose": PURPOSE})
    first = AuditWorker(settings)
    try:
        assert run_chunk(first, store, spec.id, 0)
        assert run_chunk(first, store, spec.id, 1)
        assert not run_chunk(first, store, spec.id, 1)  # already stored: not counted again
    finally:
        first.close()

    # A restart: a new store object and runner on the same folder pick up the rest.
    again = FileJobStore(tmp_path / "jobs")
    runner = InProcessRunner(settings, again)
    try:
        assert runner.resume_all() == [spec.id]
        runner.close()
    except BaseException:
        runner.close()
        raise
    progress = again.progress(spec.id)
    assert progress is not None and progress.status == "done"
    assert progress.rows_done == progress.rows_total == 45
    ids = [r["application_id"] for r in again.results(spec.id)]
    assert sorted(set(ids)) == sorted(a["application_id"] for a in apps)


def test_a_matter_needing_the_holders_consent_is_not_asked_and_stays_unknown(
    tmp_path: Path, start_sandbox: Any
) -> None:
    url, trust = start_sandbox()
    settings = sandbox_settings(url, tmp_path, trust)
    app = {**zhang_wei_app(), "matter_code": "hpf-withdraw-purchase", "materials": ["application"]}
    path = gen_applications.write_jsonl([app], tmp_path / "apps.jsonl")
    store = FileJobStore(tmp_path / "jobs")
    spec = create_job(store, settings, "applications", [path], options={"purpose": PURPOSE})
    runner = InProcessRunner(settings, store)
    try:
        runner.run(spec.id)
    finally:
        runner.close()

    [row] = store.results(spec.id)
    assert row["status"] == "unknown" and "授权" in row["reason"]


def test_answers_are_cached_across_applications_of_one_holder(
    tmp_path: Path, start_sandbox: Any
) -> None:
    import httpx

    url, trust = start_sandbox()
    settings = sandbox_settings(url, tmp_path, trust)

    def replay(apps: list[dict[str, Any]], name: str) -> int:
        httpx.delete(f"{url}/_sandbox/stats").raise_for_status()
        path = gen_applications.write_jsonl(apps, tmp_path / f"{name}.jsonl")
        store = FileJobStore(tmp_path / name)
        options = {"purpose": PURPOSE, "concurrency": 1}  # one after another: the cache is warm
        spec = create_job(store, settings, "applications", [path], options=options)
        runner = InProcessRunner(settings, store)
        try:
            runner.run(spec.id)
        finally:
            runner.close()
        return sum(httpx.get(f"{url}/_sandbox/stats").json()["requests"].values())

    one = replay([zhang_wei_app("C-0")], "one")
    ten = replay([zhang_wei_app(f"C-{i}") for i in range(1, 11)], "ten")

    # the first of the ten asks the registries; the cache answers the nine after it
    assert one > 0 and ten == one


def test_the_matter_table_counts_applications_that_would_have_gone_through_untouched(
    tmp_path: Path, start_sandbox: Any
) -> None:
    holders = load_holders()

    def proof(app_id: str, who: str) -> dict[str, Any]:
        return {
            **zhang_wei_app(app_id),
            "matter_code": "social-insurance-proof",  # marked for 智能秒办 in the sample
            "applicant_id": holders[who].id,
            "applicant_name": holders[who].name,
            "materials": ["居民身份证或社会保障卡"],
        }

    apps = [proof("S-1", "zhang_wei"), proof("S-2", "li_na"), proof("S-3", "wang_fang")]
    reports = replay(tmp_path, start_sandbox, [*apps, zhang_wei_app("E-1")])
    rows = json.loads(Path(reports["json"]).read_text("utf-8"))
    untouched = {r["application_id"] for r in rows if r["untouched"]}
    assert untouched == {"S-1", "S-2"}  # 王芳's ID card has expired: a person must look
    # the report's per-matter table (its XLSX sheet 按事项) counts them
    from openpyxl import load_workbook

    sheet = load_workbook(reports["xlsx"], read_only=True)["按事项"]
    table = list(sheet.iter_rows(min_row=2, values_only=True))
    heading = list(table[0])
    by_matter = {
        row[heading.index("事项编码")]: dict(zip(heading, row, strict=True)) for row in table[1:]
    }
    proof = by_matter["social-insurance-proof"]
    assert proof["可秒办申请"] == 2 and proof["秒办比例"] == round(2 / 3, 4)
    # the five zeros beside it: 零材料 (王芳 brings her ID card), 零字段 (no form), 存档
    assert (proof["零材料申请"], proof["零材料比例"]) == (2, round(2 / 3, 4))
    assert proof["零字段（申请表）"] == "无申请表" and proof["经本服务受理可电子存档"] == "是"
    establish = by_matter["ent-establish"]
    assert establish["可秒办申请"] == "未开通"  # not marked for it
    # 章程 and 任职文件 are his to bring; with his account's phone the form needs nothing typed
    assert establish["零材料申请"] == 0 and establish["零字段（申请表）"] == "是"
