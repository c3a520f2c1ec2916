"""The command line as an operator uses it: the demo's printed curl, config errors, check-config."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from matcher.cli import main
from tests.cli.test_demo import _run_demo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_prints_a_curl_that_waives_and_opens_the_workbench(tmp_path: Path) -> None:
    port, sandbox_port, province_port = _free_port(), _free_port(), _free_port()
    ports = (port, sandbox_port, province_port)
    proc, text = _run_demo(tmp_path, ports, tmp_path / "demo.err", base_only=False)
    try:
        printed = text.splitlines(keepends=True)
        curl, application_curl = [line for line in printed if line.startswith("curl ")]
        assert "/v1/applications" in application_curl
        body = json.loads(subprocess.run(["bash", "-c", curl], capture_output=True).stdout)
        app = json.loads(
            subprocess.run(["bash", "-c", application_curl], capture_output=True, text=True).stdout
        )
        account = re.search(r"user: (\S+)\s+password: (\S+)", text)
        assert account is not None, text
        samples = dict(re.findall(r"(SAMPLE-\d)\s.*\n\s+(http://\S+)", text))
        assert sorted(samples) == [f"SAMPLE-{i}" for i in range(1, 7)]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            form = client.get("/ui/sign-in")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            user, password = account.groups()
            signed = client.post(
                "/ui/sign-in",
                data={"username": user, "password": password, "csrf_token": token.group(1)},
            )
            assert signed.status_code == 303
            listed = client.get("/ui/applications").text
            assert all(app_id in listed for app_id in samples)
            conflicted = client.get(samples["SAMPLE-2"]).text
            assert 'id="f-lr_household_address" class="fs-conflict"' in conflicted
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    waived = [d for d in body["decisions"] if d["decision"] == "waive"]
    assert body["summary"] == {"waived": 3, "required": 3, "review": 0}  # as the README says
    assert any(e["kind"] == "e_licence" and e["verified"] for d in waived for e in d["evidence"])
    registries = {e["registry"] for d in waived for e in d["evidence"] if e["verified"]}
    # the company's list asks for no 无犯罪记录证明: the provincial interface is not needed
    assert registries == {"sandbox-elicence", "sandbox-datacert"}
    assert (tmp_path / "matcher.db").exists()
    # The same sample application sent to /v1/applications comes back with its form filled.
    assert app["application_id"] == "DEMO-0001"
    assert app["form"]["form_name"] == "公司登记（备案）申请书"
    assert app["form"]["missing"] == []  # 联系电话 from his real-name account


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
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its own state folder: the user's default one may hold a database of another release.
    monkeypatch.setenv("MATCHER_STATE_DIR", str(tmp_path))
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


def test_serve_refuses_to_start_without_an_explicit_trust_store(tmp_path: Path) -> None:
    # The state folder holds the demo's sandbox trust store: its keys come from a public seed.
    state = tmp_path / "state"
    from matcher.sandbox import SandboxConfig, write_trust_store

    state.mkdir()
    write_trust_store(SandboxConfig(), state / "sandbox-trust.json")
    config = tmp_path / "matcher.toml"
    config.write_text(f'state_dir = "{state}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "MATCHER_TRUST_STORE"}
    done = subprocess.run(
        [sys.executable, "-m", "matcher.cli", "serve", "--config", str(config), "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "trust_store" in done.stderr and "demo keys" in done.stderr
    assert "Traceback" not in done.stderr
