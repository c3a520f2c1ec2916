"""The command line as an operator uses it: the demo's printed curl, config errors, check-config."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from matcher.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_prints_a_curl_that_waives_on_verified_evidence(tmp_path: Path) -> None:
    env = {**os.environ, "MATCHER_STATE_DIR": str(tmp_path)}
    port, sandbox_port, province_port = _free_port(), _free_port(), _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "matcher.cli",
            "demo",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--province-port",
            str(province_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        curl = next(line for line in proc.stdout if line.startswith("curl "))
        deadline = time.monotonic() + 30
        while True:
            out = subprocess.run(["bash", "-c", curl], capture_output=True, text=True)
            if out.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        body = json.loads(out.stdout)
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    waived = [d for d in body["decisions"] if d["decision"] == "waive"]
    assert body["summary"] == {"waived": 8, "required": 2, "review": 0}  # as the README says
    assert any(e["kind"] == "e_licence" and e["verified"] for d in waived for e in d["evidence"])
    registries = {e["registry"] for d in waived for e in d["evidence"] if e["verified"]}
    assert registries == {"sandbox-elicence", "sandbox-datacert", "sandbox-province"}
    assert (tmp_path / "matcher.db").exists()


def test_bad_config_names_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "matcher.toml"
    config.write_text(
        '[[registries]]\nname = "zs"\nadapter = "elicence"\nbase_url = "ftp://x"\n',
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "registries.0.base_url" in err


def test_unknown_adapter_lists_the_installed_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "matcher.toml"
    config.write_text(
        f'trust_store = "{tmp_path / "t.json"}"\n'
        '[[registries]]\nname = "zs"\nadapter = "nosuch"\nbase_url = "http://127.0.0.1:1"\n',
        encoding="utf-8",
    )
    (tmp_path / "t.json").write_text('{"keys": []}', encoding="utf-8")
    assert main(["check-config", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "registries[0] (zs).adapter" in err and "datacert" in err and "elicence" in err


def test_missing_trust_store_stops_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "matcher.toml"
    config.write_text('trust_store = "nowhere.json"\n', encoding="utf-8")
    assert main(["check-config", "--config", str(config)]) == 2
    assert "nowhere.json" in capsys.readouterr().err


def test_environment_overrides_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.json").write_text('{"keys": []}', encoding="utf-8")
    config = tmp_path / "matcher.toml"
    config.write_text(
        'trust_store = "t.json"\ndatabase_url = "sqlite:///from-file.db"\n', encoding="utf-8"
    )
    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.db'}")
    assert main(["check-config", "--config", str(config)]) == 0
    assert "ok:" in capsys.readouterr().out
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "from-file.db").exists()
