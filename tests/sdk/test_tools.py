"""``matcher adapters list`` and ``matcher adapters check`` against the sandbox over real HTTP."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.cli import main
from matcher.sandbox import SampleHolder, SandboxConfig, create_sandbox_app, load_holders
from matcher.sandbox import write_trust_store as write_store
from matcher.sandbox.serving import ServerThread


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with ServerThread(create_sandbox_app(SandboxConfig())) as server:
        yield server.url


@pytest.fixture(scope="module")
def holders() -> dict[str, SampleHolder]:
    return load_holders()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, registries: str) -> Path:
    write_store(SandboxConfig(), tmp_path / "trust.json")
    path = tmp_path / "matcher.toml"
    path.write_text(f'trust_store = "trust.json"\n{registries}', encoding="utf-8")
    return path


def _registry(name: str, adapter: str, url: str, holder: SampleHolder | None, *types: str) -> str:
    text = f'[[registries]]\nname = "{name}"\nadapter = "{adapter}"\nbase_url = "{url}"\n'
    if holder is not None:
        listed = ", ".join(f'"{t}"' for t in types)
        text += (
            f'[registries.probe]\nid_type = "{holder.id_type}"\nid = "{holder.id}"\n'
            f"types = [{listed}]\n"
        )
    return text


ID_CARD = "11100000000013888E001"


def test_list_shows_each_adapter_with_kind_package_and_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["adapters", "list", "--format", "json"]) == 0
    listed = {a["name"]: a for a in json.loads(capsys.readouterr().out)}

    elicence = listed["elicence"]
    assert elicence["kind"] == "e_licence"
    assert elicence["package"].startswith("matcher ")
    assert elicence["target"] == "adapters.elicence:ElicenceAdapter"
    options = {o["name"]: o for o in elicence["options"]}
    assert options["base_url"]["default"] is None  # required
    assert options["timeout_s"] == {
        "name": "timeout_s",
        "type": "float",
        "default": "2.0",
        "secret": False,
        "description": "whole budget of one lookup",
    }
    assert options["api_key"]["secret"] is True
    assert options["api_key"]["type"] == "SecretStr | None"
    assert listed["datacert"]["kind"] == "data_certificate"


def test_list_as_a_table_marks_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters", "list"]) == 0
    out = capsys.readouterr().out
    assert "elicence  (e_licence)  adapters.elicence:ElicenceAdapter" in out
    assert "    api_key: SecretStr | None  (default None)  secret" in out


def test_check_reports_a_healthy_registry_with_verified_records_and_a_masked_holder(
    tmp_path: Path,
    sandbox_url: str,
    holders: dict[str, SampleHolder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    zhang = holders["zhang_wei"]
    config = _config(
        tmp_path,
        _registry("zs-elicence", "elicence", sandbox_url, zhang, ID_CARD, "11100000000013888E002")
        + _registry("zs-datacert", "datacert", sandbox_url, zhang, "social_insurance_record"),
    )

    assert main(["adapters", "check", "--config", str(config), "--format", "json"]) == 0
    reports = {r["registry"]: r for r in json.loads(capsys.readouterr().out)}

    licences = reports["zs-elicence"]
    assert licences["reachable"] is True and licences["ok"] is True
    assert licences["records"] == 2 and licences["verified"] == 2
    assert licences["latency_ms"] > 0
    assert licences["holder"] == "citizen_id 3309**********0314"
    assert reports["zs-datacert"]["records"] == 1
    assert reports["zs-datacert"]["verified"] == 1

    assert main(["adapters", "check", "--config", str(config)]) == 0
    table = capsys.readouterr().out
    assert zhang.id not in table
    assert "2/2 verified" in table and "2 of 2 registries ok" in table


def test_check_fails_a_record_whose_key_is_not_trusted(
    tmp_path: Path,
    sandbox_url: str,
    holders: dict[str, SampleHolder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = _config(
        tmp_path, _registry("zs-elicence", "elicence", sandbox_url, holders["zhao_lei"], ID_CARD)
    )

    assert main(["adapters", "check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "0/1 verified" in out
    assert f"zs-elicence: signature not verified: {ID_CARD}: unknown_key" in out


def test_check_names_an_unreachable_registry_and_one_without_a_probe(
    tmp_path: Path,
    sandbox_url: str,
    holders: dict[str, SampleHolder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    config = _config(
        tmp_path,
        _registry("gone", "elicence", down, holders["zhang_wei"], ID_CARD)
        + _registry("unprobed", "datacert", sandbox_url, None),
    )

    assert main(["adapters", "check", "--config", str(config), "--format", "json"]) == 1
    reports = {r["registry"]: r for r in json.loads(capsys.readouterr().out)}
    assert reports["gone"]["reachable"] is False
    assert reports["gone"]["error"].startswith("unavailable (network_error)")
    assert reports["unprobed"]["reachable"] is None
    assert "no probe holder configured" in reports["unprobed"]["error"]


def test_check_one_registry_by_name(
    tmp_path: Path,
    sandbox_url: str,
    holders: dict[str, SampleHolder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    config = _config(
        tmp_path,
        _registry("gone", "elicence", down, holders["zhang_wei"], ID_CARD)
        + _registry("zs-elicence", "elicence", sandbox_url, holders["zhang_wei"], ID_CARD),
    )

    assert main(["adapters", "check", "--config", str(config), "zs-elicence"]) == 0
    assert "gone" not in capsys.readouterr().out

    assert main(["adapters", "check", "--config", str(config), "nosuch"]) == 2
    assert "no registry named 'nosuch'" in capsys.readouterr().err


def test_a_probe_of_the_wrong_shape_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path,
        '[[registries]]\nname = "zs"\nadapter = "elicence"\nbase_url = "http://127.0.0.1:1"\n'
        '[registries.probe]\nid_type = "passport"\nid = "E1234"\ntypes = []\n',
    )
    assert main(["adapters", "check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "registries.0.probe.id_type" in err and "registries.0.probe.types" in err


def test_a_secret_option_is_read_from_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        tmp_path,
        '[[registries]]\nname = "zs"\nadapter = "elicence"\nbase_url = "http://127.0.0.1:1"\n'
        'api_key_env = "ZS_KEY"\nmax_pages_env = "ZS_PAGES"\n',
    )
    monkeypatch.setenv("MATCHER_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("ZS_KEY", "k" * 20)
    assert main(["check-config", "--config", str(config)]) == 2
    assert "registries[zs].max_pages_env: variable ZS_PAGES is not set" in capsys.readouterr().err

    monkeypatch.setenv("ZS_PAGES", "3")
    assert main(["check-config", "--config", str(config)]) == 0
