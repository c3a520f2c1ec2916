"""Uploaded files are sealed at rest (AES-256-GCM) on both real databases; keys rotate by
sealing again; a blob moved to another row or a missing key never opens quietly."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from matcher.cli import main
from matcher.errors import ConfigError, RecordsUnavailable
from matcher.store.files import FileStore, files
from matcher.store.records import CheckRecord, Records, UsageRecord
from matcher.store.sealed import (
    INDEX_KEY_FILE,
    HolderIndex,
    Privacy,
    Sealer,
    parse_keys,
    stored_key,
)

SCAN = b"%PDF-1.7 \xe5\xbc\xa0\xe4\xbc\x9f 330902198103150314 scan of an identity card"


def _key() -> bytes:
    return secrets.token_bytes(32)


def _raw(records: Records, file_id: str) -> bytes:
    with records.engine.connect() as conn:
        return bytes(conn.execute(select(files.c.data).where(files.c.file_id == file_id)).scalar())


def test_a_kept_file_is_sealed_and_opens_for_its_owner(records: Records) -> None:
    sealer = Sealer({"k1": _key()}, "k1")
    store = FileStore(records, sealer=sealer)
    put = store.put("window", SCAN, "application/pdf", "id.pdf")
    raw = _raw(records, put.file_id)
    assert raw.startswith(b"MS1\x02k1") and b"330902198103150314" not in raw and b"PDF" not in raw
    got = store.get("window", put.file_id)
    assert got is not None and got.data == SCAN


def test_a_blob_moved_to_another_row_does_not_open(records: Records) -> None:
    store = FileStore(records, sealer=Sealer({"k1": _key()}, "k1"))
    mine = store.put("window", SCAN, "application/pdf", None)
    theirs = store.put("other", b"%PDF other", "application/pdf", None)
    blob = _raw(records, mine.file_id)
    with records.engine.begin() as conn:
        conn.execute(files.update().where(files.c.file_id == theirs.file_id).values(data=blob))
    with pytest.raises(RecordsUnavailable, match="cannot be opened"):
        store.get("other", theirs.file_id)


def test_rotation_seals_every_file_again_under_the_new_key(fresh_records: Records) -> None:
    records = fresh_records
    old, new = _key(), _key()
    before = FileStore(records, sealer=Sealer({"old": old}, "old"))
    ids = [
        before.put(f"r{i}", SCAN + bytes([i]), "application/pdf", None).file_id for i in range(3)
    ]
    rotating = FileStore(records, sealer=Sealer({"new": new, "old": old}, "new"))
    resealed, already = rotating.reseal()
    assert resealed >= 3
    assert rotating.reseal() == (0, resealed + already)  # a second run has nothing to do
    after = FileStore(records, sealer=Sealer({"new": new}, "new"))  # the old key retired
    for i, file_id in enumerate(ids):
        assert Sealer.key_id_of(_raw(records, file_id)) == "new"
        got = after.get(f"r{i}", file_id)
        assert got is not None and got.data == SCAN + bytes([i])


def test_a_file_sealed_with_a_key_no_longer_configured_is_an_error_not_garbage(
    records: Records,
) -> None:
    put = FileStore(records, sealer=Sealer({"gone": _key()}, "gone")).put(
        "w", SCAN, "application/pdf", None
    )
    with pytest.raises(RecordsUnavailable, match="gone"):
        FileStore(records, sealer=Sealer({"k": _key()}, "k")).get("w", put.file_id)


@pytest.mark.parametrize(
    "text",
    ["", "k1", "k1:notbase64!!", f"k1:{base64.b64encode(b'short').decode()}"],
)
def test_bad_data_keys_stop_start_up_naming_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match="DATA_KEYS"):
        parse_keys(text, "data_keys_env (DATA_KEYS)")


def test_without_configured_keys_one_is_kept_private_in_the_state_folder(tmp_path: Path) -> None:
    keys, current = stored_key(tmp_path)
    assert stored_key(tmp_path) == (keys, current)
    assert (tmp_path / "data-key.secret").stat().st_mode & 0o077 == 0


def test_rotate_key_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    old, new = _key(), _key()
    monkeypatch.setenv("MATCHER_STATE_DIR", str(tmp_path))
    index = HolderIndex(*stored_key(tmp_path, INDEX_KEY_FILE))
    records = Records(url, Privacy(Sealer({"a": old}, "a"), index))
    FileStore(records, sealer=Sealer({"a": old}, "a")).put("w", SCAN, "application/pdf", None)
    answer = '{"reason": "已核验居民身份证，编号330902198103150314"}'
    records.save_check(
        CheckRecord("c-1", "w", None, "ent-establish", "h", answer, dt.datetime.now(dt.UTC), (), ())
    )
    records.close()
    config = tmp_path / "m.toml"
    config.write_text(f'database_url = "{url}"\ndata_keys_env = "DATA_KEYS"\n', encoding="utf-8")
    b64 = base64.b64encode
    monkeypatch.setenv("DATA_KEYS", f"b:{b64(new).decode()},a:{b64(old).decode()}")
    assert main(["data", "rotate-key", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "1 sealed again under key b" in out
    assert "check answers and usage records: 1 rows sealed again" in out
    # the answer opens with the new key alone now
    records = Records(url, Privacy(Sealer({"b": new}, "b"), index))
    try:
        assert records.get_check("c-1") == {"reason": "已核验居民身份证，编号330902198103150314"}
    finally:
        records.close()


def test_a_new_index_key_first_still_finds_rows_made_under_the_old(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'i.db'}"
    sealer, old, new = Sealer({"a": _key()}, "a"), _key(), _key()
    number = "330902198103150314"
    usage = UsageRecord(
        "applicant",
        "citizen_id",
        number,
        "zs-elicence",
        "e_licence",
        "T",
        "L",
        "found",
        True,
        False,
    )
    before = Records(url, Privacy(sealer, HolderIndex({"i1": old}, "i1")))
    before.save_check(
        CheckRecord("c-1", "w", None, "m", "h", "{}", dt.datetime.now(dt.UTC), (usage,), ())
    )
    before.close()
    for keys, current, found in (({"i2": new, "i1": old}, "i2", 1), ({"i2": new}, "i2", 0)):
        records = Records(url, Privacy(sealer, HolderIndex(keys, current)))
        try:
            assert len(records.usage_for_holder("citizen_id", number)) == found, keys.keys()
            # a lower-case x or spaces in the number asked for find the same rows
            assert len(records.usage_for_holder("citizen_id", f" {number} ")) == found
        finally:
            records.close()
