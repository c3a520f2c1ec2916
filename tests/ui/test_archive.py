"""The archive package (存档零纸件): exported from the workbench, the API and the command line,
verified offline by `matcher archive verify` and by the independent ``bagit`` library; any edit
fails, and packages signed before a key rotation still verify."""

from __future__ import annotations

import base64
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import bagit
import httpx
import pymupdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from matcher.cli import main
from matcher.waiver.evidence import load_trust_store, signature_problem
from tests.ui.conftest import Workbench, WorkbenchFactory, csrf_of

MOBILE = "13805801234"


def _confirmed(workbench: Workbench, application_id: str) -> tuple[dict[str, Any], httpx.Client]:
    """A kept application a clerk completed and confirmed; the clerk's signed-in client."""
    app = workbench.submit(application_id)
    workbench.add_user("arc-clerk")
    client = workbench.client()
    assert workbench.sign_in(client, "arc-clerk").status_code == 303
    key = app["id"]
    token = csrf_of(client.get(f"/ui/applications/{key}").text)
    typed = client.post(
        f"/ui/applications/{key}/fields/lr_mobile", data={"csrf_token": token, "value": MOBILE}
    )
    assert typed.status_code == 303
    done = client.post(f"/ui/applications/{key}/confirm", data={"csrf_token": token})
    assert done.status_code == 303, done.text
    return app, client


def _unzip(package: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        z.extractall(into)
    (root,) = list(into.iterdir())
    return root


def _zip(root: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as z:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            z.write(path, f"{root.name}/{path.relative_to(root).as_posix()}")
    return out


def _keys_file(url: str, path: Path) -> Path:
    keys = httpx.get(f"{url}/service-keys", timeout=10)
    assert keys.status_code == 200
    path.write_text(keys.text, encoding="utf-8")
    return path


def _verify(
    package: Path, keys: Path | None, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    args = ["archive", "verify", str(package)] + (["--keys", str(keys)] if keys else [])
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_confirmed_applications_package_holds_what_was_used_and_verifies(
    workbench: Workbench, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app, client = _confirmed(workbench, "ARC-1")
    try:
        page = client.get(f"/ui/applications/{app['id']}").text
        assert f'href="/ui/applications/{app["id"]}/archive.zip">下载电子归档包' in page
        r = client.get(f"/ui/applications/{app['id']}/archive.zip")
    finally:
        client.close()
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.headers["cache-control"] == "no-store"
    package = tmp_path / "ARC-1.bag.zip"
    package.write_bytes(r.content)

    code, out = _verify(package, _keys_file(workbench.url, tmp_path / "keys.json"), capsys)
    assert code == 0, out
    assert "intact (application ARC-1, confirmed)" in out
    assert "is one the service publishes" in out and "chain links hold" in out

    root = _unzip(r.content, tmp_path / "open")
    bag = bagit.Bag(str(root))  # the independent library validates the unzipped bag
    bag.validate()
    assert bag.info["Application-Status"] == "confirmed"
    assert bag.info["External-Identifier"] == "ARC-1"
    assert bag.info["Department-Code"] == "zs-amr" and bag.info["Package-Version"] == "1"
    data = root / "data"
    answer = json.loads((data / "answer.json").read_text(encoding="utf-8"))
    index = json.loads((data / "registry-records" / "index.json").read_text(encoding="utf-8"))
    # every registry record the decisions used is inside, as its registry signed it: the
    # service's trust store (not the package's copy) verifies each one the answer relied on
    used = {(e["registry"], e["id"]) for d in answer["decisions"] for e in d["evidence"]}
    inside = {(e["registry"], e["id"]): e for e in index["records"]}
    assert used and used <= set(inside)
    trust = load_trust_store(workbench.settings.trust_store)
    for registry, record_id in used:
        entry = inside[(registry, record_id)]
        record = json.loads((data / entry["file"]).read_text(encoding="utf-8"))
        assert record["signature"]["value"]
        assert signature_problem(record, trust, entry["issuer_code"]) is None
    # the form as confirmed, as a flattened PDF that shows the typed value
    pdf = pymupdf.open(stream=(data / "form" / "form.pdf").read_bytes())
    text = "".join(p.get_text() for p in pdf)
    assert MOBILE in text and "张伟" in text
    assert not any(p.first_widget for p in pdf)
    final = json.loads((data / "form" / "final.json").read_text(encoding="utf-8"))
    assert final["values"]["lr_mobile"] == MOBILE
    edits = json.loads((data / "edits.json").read_text(encoding="utf-8"))
    assert [(e["field_key"], e["how"], e["clerk"]) for e in edits["edits"]] == [
        ("lr_mobile", "typed", "arc-clerk")
    ]
    assert edits["confirmation"]["by"] == "arc-clerk"
    usage = json.loads((data / "usage-records.json").read_text(encoding="utf-8"))["records"]
    assert usage and {u["material"][0] for u in usage} == {answer["check_id"]}
    assert "<封装包>" in (root / "metadata" / "eep.xml").read_text(encoding="utf-8")
    # the download is on the audit trail
    records, users = workbench.store()
    try:
        actions = [(e.username, e.action) for e in users.audit_trail()]
    finally:
        records.close()
    assert ("arc-clerk", "download_archive") in actions


@pytest.mark.parametrize("rewrite_checksums", [False, True])
def test_one_changed_byte_fails_even_with_its_checksums_rewritten(
    workbench: Workbench,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rewrite_checksums: bool,
) -> None:
    workbench.submit("ARC-EDIT")
    r = httpx.get(f"{workbench.url}/v1/applications/ARC-EDIT/archive", timeout=60)
    assert r.status_code == 200
    root = _unzip(r.content, tmp_path / "open")
    target = root / "data" / "answer.json"
    body = target.read_bytes()
    changed = body.replace(b'"waive"', b'"wAive"', 1)
    assert changed != body and len(changed) == len(body)
    target.write_bytes(changed)
    if rewrite_checksums:  # the manifest and the tag manifest recomputed to match
        bagit.Bag(str(root)).save(manifests=True)
        bagit.Bag(str(root)).validate()  # the bag alone now looks intact
    package = _zip(root, tmp_path / "edited.zip")
    code, out = _verify(package, None, capsys)
    assert code == 1
    if rewrite_checksums:
        assert "signature does not match the tag manifest" in out
    else:
        assert "answer.json" in out and "checksums" in out


def test_an_unconfirmed_application_exports_with_its_status_from_the_command_line(
    workbench: Workbench, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workbench.submit("ARC-OPEN")
    s = workbench.settings
    config = tmp_path / "archive.toml"
    config.write_text(
        f'database_url = "{s.database_url}"\ntrust_store = "{s.trust_store}"\n'
        f'state_dir = "{s.state_dir}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "open.zip"
    assert main(["archive", "export", "ARC-OPEN", "--out", str(out), "--config", str(config)]) == 0
    assert "(prefilled)" in capsys.readouterr().out
    code, said = _verify(out, None, capsys)
    assert code == 0 and "intact (application ARC-OPEN, prefilled)" in said
    assert "compare it with the service's published keys" in said
    assert main(["archive", "export", "NO-SUCH", "--out", str(out), "--config", str(config)]) == 2
    assert "no kept application NO-SUCH" in capsys.readouterr().err


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_packages_signed_before_a_key_rotation_still_verify(
    make_workbench: WorkbenchFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    monkeypatch.setenv("ARC_OLD_KEY", _pem(old))
    monkeypatch.setenv("ARC_NEW_KEY", _pem(new))
    before = make_workbench(service_key_env="ARC_OLD_KEY")
    before.submit("ARC-ROT-1")
    first = tmp_path / "first.zip"
    first.write_bytes(httpx.get(f"{before.url}/v1/applications/ARC-ROT-1/archive").content)
    old_keys = _keys_file(before.url, tmp_path / "old-keys.json")

    old_public = (
        old.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    after = make_workbench(service_key_env="ARC_NEW_KEY", retired_service_keys=[old_public])
    after.submit("ARC-ROT-2")
    second = tmp_path / "second.zip"
    second.write_bytes(httpx.get(f"{after.url}/v1/applications/ARC-ROT-2/archive").content)
    keys = _keys_file(after.url, tmp_path / "keys.json")
    published = json.loads(keys.read_text(encoding="utf-8"))["keys"]
    assert [k["current"] for k in published] == [True, False]

    for package in (first, second):
        code, out = _verify(package, keys, capsys)
        assert code == 0, out
    # the key list from before the rotation does not vouch for the new key's package
    code, out = _verify(second, old_keys, capsys)
    assert code == 1 and "is not among the service's published keys" in out
    # and a package re-signed by someone else's key is refused against the published keys
    root = _unzip(second.read_bytes(), tmp_path / "resign")
    stranger = Ed25519PrivateKey.generate()
    doc = json.loads((root / "service-signature.json").read_text(encoding="utf-8"))
    signed = (root / "tagmanifest-sha256.txt").read_bytes()
    doc["public_key_pem"] = (
        stranger.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    doc["signature"] = base64.b64encode(stranger.sign(signed)).decode()
    doc.pop("key_id")
    (root / "service-signature.json").write_text(json.dumps(doc), encoding="utf-8")
    (root / "tagmanifest-sha256.txt.sig").unlink()
    code, out = _verify(_zip(root, tmp_path / "resigned.zip"), keys, capsys)
    assert code == 1 and "is not among the service's published keys" in out


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"pkg/../../evil.txt": b"x"}, "outside the package folder"),
        ({"/abs/evil.txt": b"x"}, "outside the package folder"),
        ({"a/x.txt": b"x", "b/y.txt": b"y"}, "one package folder"),
    ],
)
def test_a_hostile_package_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entries: dict[str, bytes], message: str
) -> None:
    package = tmp_path / "hostile.zip"
    with zipfile.ZipFile(package, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    assert main(["archive", "verify", str(package)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path.parent / "evil.txt").exists()
    not_zip = tmp_path / "not.zip"
    shutil.copyfile(__file__, not_zip)
    assert main(["archive", "verify", str(not_zip)]) == 2
    assert "not a zip archive" in capsys.readouterr().err
