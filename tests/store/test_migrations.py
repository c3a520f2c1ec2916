"""Schema migrations on both real databases.

A database made before migrations is upgraded without losing a record, an empty one gets the
schema, and the migrations build exactly the code's tables.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
    text,
)

from matcher.cli import main
from matcher.errors import ConfigError, SchemaOutdated
from matcher.sandbox import SandboxConfig, write_trust_store
from matcher.settings import load_settings
from matcher.store.migrations import head_revision, schema_state, upgrade
from matcher.store.records import CheckRecord, Records, UsageRecord, make_engine
from matcher.store.schema import target_metadata
from tests.conftest import PG_ADMIN_URL, numbers_in_rows

# The tables as the code before migrations made them (matcher/records.py and matcher/files.py of
# that release), frozen here: the upgrade must accept exactly what is out there.
legacy = MetaData()
Table(
    "checks",
    legacy,
    Column("check_id", String(36), primary_key=True),
    Column("requester", String(128), nullable=False),
    Column("application_id", String(128)),
    Column("matter_code", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_json", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Table(
    "idempotency_keys",
    legacy,
    Column("requester", String(128), primary_key=True),
    Column("application_id", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("check_id", String(36), nullable=False),
)
Table(
    "usage_records",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_id", String(36), ForeignKey("checks.check_id"), nullable=False),
    Column("holder_role", String(32), nullable=False),
    Column("holder_id_type", String(16), nullable=False),
    Column("holder_id", String(32), nullable=False),
    Column("registry", String(64), nullable=False),
    Column("evidence_kind", String(32), nullable=False),
    Column("evidence_type", String(64), nullable=False),
    Column("evidence_id", String(256)),
    Column("outcome", String(32), nullable=False),
    Column("verified", Boolean),
    Column("from_cache", Boolean, nullable=False),
    Index("ix_usage_holder", "holder_id_type", "holder_id"),
    Index("ix_usage_check", "check_id"),
)
Table(
    "data_problems",
    legacy,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_id", String(36), nullable=False),
    Column("registry", String(64), nullable=False),
    Column("evidence_id", String(256), nullable=False),
    Column("evidence_type", String(64), nullable=False),
    Column("issuer_code", String(64)),
    Column("problem", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Table(
    "files",
    legacy,
    Column("file_id", String(40), primary_key=True),
    Column("requester", String(128), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("media_type", String(64), nullable=False),
    Column("filename", String(255)),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

HOLDERS = ["330902198101010314", "91330900MA2A0B1C2D", "33090219900307002X"]
T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the kind asked for (each test gets its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    request.getfixturevalue("postgres_url")  # PostgreSQL is running
    name = f"matcher_mig_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


both = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def _sa_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _make_legacy_database(url: str) -> None:
    """What the code before migrations left: its tables, some checks and their usage records."""
    engine = create_engine(_sa_url(url))
    legacy.create_all(engine)
    t = legacy.tables
    with engine.begin() as conn:
        for i, holder in enumerate(HOLDERS):
            check_id = f"00000000-0000-0000-0000-00000000000{i}"
            conn.execute(
                insert(t["checks"]).values(
                    check_id=check_id,
                    requester="biz",
                    application_id=f"OLD-{i}",
                    matter_code="ent-establish",
                    request_hash=f"h{i}",
                    response_json=f'{{"check_id": "{check_id}", "n": {i}, "holder": "{holder}"}}',
                    created_at=T0 + dt.timedelta(minutes=i),
                )
            )
            conn.execute(
                insert(t["idempotency_keys"]).values(
                    requester="biz",
                    application_id=f"OLD-{i}",
                    request_hash=f"h{i}",
                    check_id=check_id,
                )
            )
            for registry, verified in (("zs-elicence", True), ("zs-datacert", None)):
                conn.execute(
                    insert(t["usage_records"]).values(
                        check_id=check_id,
                        holder_role="applicant",
                        holder_id_type="citizen_id" if i != 1 else "uscc",
                        holder_id=holder,
                        registry=registry,
                        evidence_kind="e_licence",
                        evidence_type="T001",
                        evidence_id=f"LIC-{i}" if verified else None,
                        outcome="found" if verified else "none",
                        verified=verified,
                        from_cache=False,
                    )
                )
            conn.execute(
                insert(t["data_problems"]).values(
                    check_id=check_id,
                    registry="zs-elicence",
                    evidence_id=f"LIC-{i}",
                    evidence_type="T001",
                    issuer_code="X",
                    problem="signature_invalid",
                    created_at=T0,
                )
            )
        conn.execute(
            insert(t["files"]).values(
                file_id="f" * 40,
                requester="biz",
                sha256="0" * 64,
                media_type="image/png",
                filename="扫描件.png",
                size=3,
                data=b"\x89PN",
                created_at=T0,
            )
        )
    engine.dispose()


def _config(tmp_path: Path, url: str) -> Path:
    write_trust_store(SandboxConfig(), tmp_path / "trust.json")
    config = tmp_path / "matcher.toml"
    config.write_text(
        f'database_url = "{url}"\ntrust_store = "trust.json"\nstate_dir = "state"\n',
        encoding="utf-8",
    )
    return config


def _dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the legacy tables that keep their shape, by table, in key order.

    data_problems changed shape in 0008 (one row per report), usage_records and the checks'
    answers in 0010 (holders' numbers sealed): checked on their own."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = {
            name: [
                tuple(r)
                for r in conn.execute(
                    select(*(c for c in table.c if c.name != "response_json")).order_by(
                        *table.primary_key
                    )
                )
            ]
            for name, table in legacy.tables.items()
            if name not in ("data_problems", "usage_records")
        }
    engine.dispose()
    return rows


def _numbers_in_clear(url: str, numbers: list[str]) -> list[str]:
    engine = make_engine(url)
    try:
        return numbers_in_rows(engine, numbers)
    finally:
        engine.dispose()


@both
def test_a_database_from_before_migrations_is_upgraded_with_every_record(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _make_legacy_database(database_url)
    before = _dump(database_url)
    assert _numbers_in_clear(database_url, HOLDERS) == [
        "checks.response_json",
        "usage_records.holder_id",
    ]

    with pytest.raises(SchemaOutdated, match="matcher db upgrade"):
        Records(database_url)
    # Revision 0010 seals what is recorded: without the service's keys it is refused.
    engine = make_engine(database_url)
    with pytest.raises(ConfigError, match="matcher db upgrade --config"):
        upgrade(engine)
    engine.dispose()
    config = _config(tmp_path, database_url)
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert "made before migrations" in capsys.readouterr().out

    assert _dump(database_url) == before
    # The numbers the old code kept in clear are sealed or indexed now; the answers too.
    assert _numbers_in_clear(database_url, HOLDERS) == []
    records = Records(database_url, load_settings(config).privacy())
    try:
        # the records kept before were put on the usage hash chain, oldest first
        chained = records.verify_usage_chain()
        assert chained.first_break is None and chained.records == 2 * len(HOLDERS)
        for i, holder in enumerate(HOLDERS):
            check_id = f"00000000-0000-0000-0000-00000000000{i}"
            assert records.get_check(check_id) == {"check_id": check_id, "n": i, "holder": holder}
            id_type = "citizen_id" if i != 1 else "uscc"
            used = records.usage_for_holder(id_type, holder)
            assert [(u["check_id"], u["registry"], u["verified"]) for u in used] == [
                (check_id, "zs-elicence", True),
                (check_id, "zs-datacert", None),
            ]
            stored = records.find_idempotent("biz", f"OLD-{i}")
            assert stored is not None and stored.check_id == check_id
            # each former data_problems row is now a report the check met, seen once
            (report,) = records.problems_for_check(check_id)
            assert (report["evidence_id"], report["problem"]) == (f"LIC-{i}", "signature_invalid")
            assert (report["occurrences"], report["status"]) == (1, "open")
        # and the upgraded database takes new records as before
        new = CheckRecord(
            check_id=str(uuid.uuid4()),
            requester="biz",
            application_id="NEW-1",
            matter_code="ent-establish",
            request_hash="n1",
            response_json="{}",
            created_at=dt.datetime.now(dt.UTC),
            usage=(
                UsageRecord(
                    "applicant",
                    "citizen_id",
                    HOLDERS[0],
                    "zs-elicence",
                    "e_licence",
                    "T001",
                    "LIC-9",
                    "found",
                    True,
                    False,
                ),
            ),
            problems=(),
        )
        records.save_check(new)
        assert len(records.usage_for_holder("citizen_id", HOLDERS[0])) == 3
        chained = records.verify_usage_chain()
        assert chained.first_break is None and chained.records == 2 * len(HOLDERS) + 1
        # An early record's sealed number is part of its link: another number sealed in its
        # place (by someone holding the data key) breaks the chain there.
        assert records.privacy is not None
        with records.engine.begin() as conn:
            row_id = conn.execute(text("SELECT id FROM usage_records WHERE seq = 2")).scalar()
            forged = records.privacy.seal(HOLDERS[2], f"usage:{row_id}")
            conn.execute(
                text("UPDATE usage_records SET holder_sealed = :v WHERE id = :i"),
                {"v": forged, "i": row_id},
            )
        broken = records.verify_usage_chain().first_break
        assert broken is not None and broken.seq == 2
    finally:
        records.close()


@both
def test_migrations_build_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), target_metadata())
        assert diff == [], "a table or column changed without a migration in matcher/migrations"
    finally:
        engine.dispose()


@both
def test_an_empty_database_gets_the_schema_on_start(database_url: str) -> None:
    records = Records(database_url)
    try:
        state = schema_state(records.engine)
        assert state.is_current and state.current == (head_revision(),)
    finally:
        records.close()


@both
def test_a_database_newer_than_the_code_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    engine.dispose()
    with pytest.raises(SchemaOutdated, match="newer than this release"):
        Records(database_url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_refuses_an_old_database_and_names_the_command(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _make_legacy_database(database_url)
    config = _config(tmp_path, database_url)
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"matcher db upgrade --config {config}" in err
    assert "older than this release" in err
    assert main(["db", "status", "--config", str(config)]) == 0
    assert "needs: matcher db upgrade" in capsys.readouterr().out


def test_the_revisions_form_one_line_named_by_their_files() -> None:
    """Two branches that each add revision NNNN leave two heads: upgrade would refuse to run."""
    from alembic.script import ScriptDirectory

    from matcher.store.migrations import _config

    scripts = ScriptDirectory.from_config(_config())
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    for script in scripts.walk_revisions():
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
