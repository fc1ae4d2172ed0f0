"""Schema creation, upgrades and refusal of stores we cannot read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect

from deskterm.store import Store, StoreError, schema
from deskterm.store import engine as engine_mod


def test_open_creates_every_table_from_empty(db_path: Path) -> None:
    store = Store.open(db_path)
    names = set(inspect(store.db.engine).get_table_names())
    assert {
        "customer", "identity", "ticket", "ticket_tag", "ticket_link", "message",
        "attachment", "heard_step", "note_version", "event", "sync_state",
        "import_failure", "alembic_version", "message_fts",
    } <= names  # fmt: skip
    with store.db.engine.connect() as conn:
        assert schema.current_revision(conn) == schema.HEAD


def test_schema_head_matches_the_migration_scripts() -> None:
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(schema.MIGRATIONS)).get_current_head() == schema.HEAD


def test_sqlite_pragmas_are_applied(store: Store) -> None:
    with store.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == engine_mod.BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_upgrade_is_idempotent(db_path: Path) -> None:
    engine = engine_mod.make_engine(db_path)
    assert schema.upgrade(engine) == (None, schema.HEAD)
    assert schema.upgrade(engine) == (schema.HEAD, schema.HEAD)


def test_downgrade_to_empty_and_back_keeps_working(db_path: Path) -> None:
    from alembic import command

    engine = engine_mod.make_engine(db_path)
    schema.upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(schema._alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    schema.upgrade(engine)
    assert "message_fts" in inspect(engine).get_table_names()


def test_store_from_a_future_version_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(StoreError, match="newer deskterm"):
        Store.open(db_path)


def test_a_database_that_is_not_a_store_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        raw.execute("CREATE TABLE somebody_elses (x)")
    with pytest.raises(StoreError, match="not a deskterm store"):
        Store.open(db_path)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/nonexistent-dir/x.db", "does not exist"),
        ("mysql://u@h/db", "unsupported"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "Cannot open the store"),
    ],
)
def test_bad_targets_give_one_clear_sentence(target: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.open(target)


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


def test_killed_bulk_load_search_index_is_repaired_on_open(store: Store, db_path: Path) -> None:
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER message_fts_ai")
    store.close()
    reopened = Store.open(db_path)
    with reopened.db.engine.connect() as conn:
        triggers = (
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .scalars()
            .all()
        )
    assert "message_fts_ai" in triggers


def test_migrations_build_exactly_the_models(store: Store) -> None:
    """Autogenerate finds nothing to change: the revisions and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    search_tables = {"message_fts", "message_fts_idx", "message_fts_docsize",
                     "message_fts_config", "message_fts_data"}  # fmt: skip
    search_tables |= {name.replace("message", "article") for name in search_tables}
    unexpected = [d for d in diff if not (d[0] == "remove_table" and d[1].name in search_tables)]
    assert unexpected == []
