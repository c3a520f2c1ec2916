"""``matcher adapters new`` writes a package whose own tests pass as generated."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from matcher.cli import main


@pytest.mark.parametrize(
    ("kind", "cls", "contract_tests"),
    [("e_licence", "ZjLicences", 60), ("data_certificate", "ZjCerts", 58)],
)
def test_scaffold_of_each_kind_passes_its_own_tests(
    tmp_path: Path, kind: str, cls: str, contract_tests: int
) -> None:
    name = "zj-licences" if kind == "e_licence" else "zj-certs"
    assert main(["adapters", "new", name, "--kind", kind, "--dir", str(tmp_path)]) == 0
    root = tmp_path / f"matcher-adapter-{name}"
    module = "matcher_adapter_" + name.replace("-", "_")

    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == f"matcher-adapter-{name}"
    assert project["project"]["entry-points"]["matcher.adapters"] == {
        name: f"{module}.adapter:{cls}Adapter"
    }
    assert (root / "tests" / "recorded" / "answer.json").is_file()
    assert f"class {cls}Options(AdapterOptions)" in (
        root / "src" / module / "adapter.py"
    ).read_text(encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"{contract_tests + 1} passed" in run.stdout.splitlines()[-1]


def test_scaffold_refuses_a_bad_name_and_a_folder_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["adapters", "new", "Bad_Name", "--kind", "e_licence", "--dir", str(tmp_path)]) == 2
    assert "lower-case letters" in capsys.readouterr().err

    assert main(["adapters", "new", "zj", "--kind", "e_licence", "--dir", str(tmp_path)]) == 0
    before = (tmp_path / "matcher-adapter-zj" / "src" / "matcher_adapter_zj" / "adapter.py").stat()
    assert (
        main(["adapters", "new", "zj", "--kind", "data_certificate", "--dir", str(tmp_path)]) == 2
    )
    assert "is not empty; nothing was written" in capsys.readouterr().err
    after = (tmp_path / "matcher-adapter-zj" / "src" / "matcher_adapter_zj" / "adapter.py").stat()
    assert before.st_mtime_ns == after.st_mtime_ns
