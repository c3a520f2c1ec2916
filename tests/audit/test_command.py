"""``matcher audit materials|applications`` from the command line (in-process runner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.cli import main
from matcher.sandbox import load_holders
from tests.audit import gen_applications, gen_clerk
from tests.audit.conftest import sandbox_settings
from tests.audit.gen_common import write_cases


def test_materials_prints_the_report_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = write_cases(gen_clerk.generate(300), tmp_path / "list.csv")
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text("材料名称,证照类型代码\n公司章程,\n服务簿,11100000000019888R003\n", "utf-8")

    code = main(
        [
            "audit",
            "materials",
            str(listing),
            "--out",
            str(tmp_path / "out"),
            "--reviewed",
            str(reviewed),
        ]
    )

    assert code == 0
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert set(printed) == {"xlsx", "html", "json", "summary", "catalog"}
    rows = json.loads(Path(printed["json"]).read_text("utf-8"))
    service_books = [r for r in rows if r["name"].startswith("服务簿")]
    assert service_books and all(r["type_name"] == "船员服务簿" for r in service_books)
    assert all("人工复核" in r["match_reason"] for r in service_books)


def test_a_second_run_of_a_material_list_writes_the_same_reports_and_keeps_no_job(
    tmp_path: Path,
) -> None:
    listing = write_cases(gen_clerk.generate(50), tmp_path / "list.csv")
    out = tmp_path / "out"

    assert main(["audit", "materials", str(listing), "--out", str(out)]) == 0
    first = (out / "materials.json").read_bytes(), (out / "catalog.yaml").read_bytes()
    assert main(["audit", "materials", str(listing), "--out", str(out)]) == 0

    assert ((out / "materials.json").read_bytes(), (out / "catalog.yaml").read_bytes()) == first
    assert len(json.loads(first[0])) == 50
    assert not (out / ".jobs").exists()  # matching again costs less than keeping a job


def test_applications_need_a_purpose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apps = gen_applications.write_csv(gen_applications.generate(3), tmp_path / "a.csv")

    with pytest.raises(SystemExit):
        main(["audit", "applications", str(apps), "--out", str(tmp_path / "out")])
    assert "--purpose" in capsys.readouterr().err


def test_applications_replay_against_the_sandbox(
    tmp_path: Path, start_sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url, trust = start_sandbox()
    config = tmp_path / "matcher.toml"
    s = sandbox_settings(url, tmp_path, trust)
    config.write_text(
        f'trust_store = "{trust}"\ndatabase_url = "{s.database_url}"\nstate_dir = "{tmp_path}"\n'
        f'[[registries]]\nname = "e"\nadapter = "elicence"\nbase_url = "{url}"\n'
        f'[[registries]]\nname = "d"\nadapter = "datacert"\nbase_url = "{url}"\n',
        encoding="utf-8",
    )
    # 19 drawn at random, and one the sandbox knows that collected papers its registries hold
    # (张伟's 居民身份证 and 不动产权证书), so that the replay has something needless to find
    # whatever the draw.
    holder = load_holders()["zhang_wei"]
    known = {
        "application_id": "ZS-KNOWN-1",
        "matter_code": "indiv-establish",
        "date": "2026-05-01",
        "applicant_id_type": "citizen_id",
        "applicant_id": holder.id,
        "applicant_name": holder.name,
        "parties": [],
        "materials": ["application", "operator-id", "premises"],
    }
    generated = [*gen_applications.generate(19), known]
    apps = gen_applications.write_csv(generated, tmp_path / "a.csv")

    code = main(
        [
            "audit",
            "applications",
            str(apps),
            "--out",
            str(tmp_path / "out"),
            "--purpose",
            "审计",
            "--config",
            str(config),
        ]
    )

    assert code == 0
    printed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    summary = json.loads(Path(printed["summary"]).read_text("utf-8"))
    assert summary["applications"] == 20
    assert summary["totals"].get("needless", 0) > 0
