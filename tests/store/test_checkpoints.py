"""Signed checkpoints of the usage chain's head, kept outside the database: a cut tail shows."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from matcher.cli import main
from matcher.store.checkpoints import (
    Checkpointer,
    check_tail,
    checkpoint_file,
    latest_checkpoint,
    public_key_entry,
    stored_service_key,
)
from matcher.store.records import Records
from tests.store.test_usage_chain import _fill, _sql


def _setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Records, Checkpointer]:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    state = tmp_path / "state"
    monkeypatch.setenv("MATCHER_STATE_DIR", str(state))  # the CLI's state folder: its key
    config = tmp_path / "matcher.toml"
    config.write_text(f'database_url = "{url}"\nstate_dir = "{state}"\n', encoding="utf-8")
    records = Records(url)
    path = checkpoint_file(state / "checkpoints", url)
    return config, records, Checkpointer(records.engine, path, stored_service_key(state), 10.0)


def test_a_cut_tail_is_named_by_the_last_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, records, checkpointer = _setup(tmp_path, monkeypatch)
    _fill(records)  # 37 records
    written = checkpointer.write_now()
    assert written is not None and written.seq == 37
    assert checkpointer.write_now() is None  # the head has not moved: nothing new to sign
    assert main(["records", "verify", "--config", str(config)]) == 0
    assert "#37) is signed and kept" in capsys.readouterr().out

    # Delete the last three records and rewind the head: the chain itself still looks whole.
    _sql(records, "DELETE FROM usage_records WHERE seq > 34")
    _sql(
        records,
        "UPDATE usage_chain SET seq = 34, head_hash = "
        "(SELECT row_hash FROM usage_records WHERE seq = 34)",
    )
    assert records.verify_usage_chain().first_break is None
    records.close()
    assert main(["records", "verify", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "the tail is cut" in err and "#35–#37 deleted" in err


def test_a_rewritten_record_under_the_checkpoint_and_a_forged_checkpoint_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, records, checkpointer = _setup(tmp_path, monkeypatch)
    _fill(records)
    written = checkpointer.write_now()
    assert written is not None
    key = checkpointer.key
    assert check_tail(records.engine, written, key) is None
    forged = dataclasses.replace(written, seq=written.seq + 5)  # signature no longer fits
    problem = check_tail(records.engine, forged, key)
    assert problem is not None and "not signed by this service" in problem
    _sql(records, f"UPDATE usage_records SET row_hash = 'x' WHERE seq = {written.seq}")
    problem = check_tail(records.engine, written, key)
    assert problem is not None and "rewritten" in problem
    records.close()
    # one line a checkpoint, the latest the one with the highest number
    assert latest_checkpoint(checkpointer.path) == written


def test_a_checkpoint_signed_before_a_service_key_rotation_still_vouches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config, records, checkpointer = _setup(tmp_path, monkeypatch)
    _fill(records)
    assert checkpointer.write_now() is not None  # signed with the key in the state folder
    records.close()
    old = stored_service_key(tmp_path / "state")
    new = Ed25519PrivateKey.generate()
    monkeypatch.setenv(
        "NEW_SERVICE_KEY",
        new.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )
    old_pem = public_key_entry(old.public)["public_key_pem"]
    base = config.read_text(encoding="utf-8") + 'service_key_env = "NEW_SERVICE_KEY"\n'
    config.write_text(base, encoding="utf-8")
    # the new key alone cannot vouch for the old checkpoint …
    assert main(["records", "verify", "--config", str(config)]) == 1
    assert "not signed by this service's key" in capsys.readouterr().err
    # … the old key, kept published as retired, can
    config.write_text(base + f'retired_service_keys = ["""{old_pem}"""]\n', encoding="utf-8")
    assert main(["records", "verify", "--config", str(config)]) == 0
    assert "is signed and kept" in capsys.readouterr().out
