"""A new SQLite store is built from ``schema_head.sql``, not by replaying every
migration: it must be exactly the store the migrations build.

After adding a migration, rewrite the snapshot with
``DESKTERM_WRITE_SCHEMA=1 pytest tests/store/test_schema_snapshot.py``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from deskterm.store import Store, schema
from deskterm.store import engine as engine_mod


def _migrated(path: Path) -> None:
    from alembic import command

    with engine_mod.make_engine(path).begin() as conn:
        command.upgrade(schema._alembic_config(conn), "head")


def _everything(path: Path) -> tuple[Any, ...]:
    """What a store holds besides its data: every schema object (full-text shadow
    tables and SQLite's own indexes too), every table's columns in order, every row
    (the revision, the full-text indexes' config and structure), the header pragmas.

    A table's statement is compared as its set of lines: the migrations that rebuild
    a table write its foreign keys in a different order from one run to the next."""
    with sqlite3.connect(path) as db:
        objects = sorted(
            (kind, name, table, _lines(sql) if kind == "table" else sql)
            for kind, name, table, sql in db.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
            )
        )
        tables = [name for kind, name, _, _ in objects if kind == "table"]
        columns = {name: db.execute(f'PRAGMA table_xinfo("{name}")').fetchall() for name in tables}
        rows = {name: sorted(db.execute(f'SELECT * FROM "{name}"')) for name in tables}
        pragmas = [
            db.execute(f"PRAGMA {p}").fetchone()
            for p in ("user_version", "application_id", "page_size", "auto_vacuum", "encoding")
        ]
    return objects, columns, rows, pragmas


def _lines(sql: str | None) -> tuple[str, ...]:
    return tuple(sorted(line.strip().rstrip(",").strip() for line in (sql or "").splitlines()))


def test_the_snapshot_is_what_the_migrations_build(tmp_path: Path) -> None:
    _migrated(tmp_path / "migrated.db")
    with engine_mod.make_engine(tmp_path / "migrated.db").connect() as conn:
        script = schema.sqlite_schema_script(conn, schema.HEAD)
    if os.environ.get("DESKTERM_WRITE_SCHEMA"):
        schema.SNAPSHOT.write_text(script, encoding="utf-8")

    fresh = engine_mod.make_engine(tmp_path / "fresh.db")
    assert schema._create_from_snapshot(fresh), "schema_head.sql is of another revision"
    assert _everything(tmp_path / "fresh.db") == _everything(tmp_path / "migrated.db"), (
        "schema_head.sql is out of date: "
        "DESKTERM_WRITE_SCHEMA=1 pytest tests/store/test_schema_snapshot.py"
    )
    assert schema.upgrade(fresh) == (schema.HEAD, schema.HEAD)


def test_a_store_opened_new_is_at_head_and_indexes_what_it_is_given(db_path: Path) -> None:
    from deskterm.demo import DemoBuilder

    store = Store.open(db_path)
    try:
        DemoBuilder(store, tickets=5, seed=3).build()
        with store.db.engine.connect() as conn:
            assert schema.current_revision(conn) == schema.HEAD
            body = conn.exec_driver_sql("SELECT body FROM message LIMIT 1").scalar_one()
            word = max(re.findall(r"[A-Za-z]+", body), key=len)
            hits = conn.exec_driver_sql(
                "SELECT count(*) FROM message_fts WHERE message_fts MATCH ?", (f'"{word}"',)
            ).scalar_one()
        assert hits > 0
    finally:
        store.close()


def test_a_snapshot_of_another_revision_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot left behind by a migration added without rewriting it would build
    an old schema stamped as new: Alembic builds the store instead."""
    old = tmp_path / "old.sql"
    old.write_text(
        schema.SNAPSHOT.read_text(encoding="utf-8").replace(schema.HEAD, "0010_facts", 1),
        encoding="utf-8",
    )
    monkeypatch.setattr(schema, "SNAPSHOT", old)
    engine = engine_mod.make_engine(tmp_path / "new.db")
    assert not schema._create_from_snapshot(engine)
    assert schema.upgrade(engine) == (None, schema.HEAD)
    _migrated(tmp_path / "migrated.db")
    assert _everything(tmp_path / "new.db") == _everything(tmp_path / "migrated.db")


_OPEN = """
import sys, time
from pathlib import Path
from deskterm.store import Store
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()  # imported: ready
while not go.exists():
    time.sleep(0.005)
Store.open(sys.argv[1]).close()
"""


def test_processes_creating_one_new_store_at_once_all_open_it(tmp_path: Path) -> None:
    """Four processes open the same new store at the same moment: one builds it, the
    others wait for its transaction and find it built."""
    path, go = tmp_path / "shared.db", tmp_path / "go"
    ready = [tmp_path / f"ready{n}" for n in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, str(path), str(go), str(flag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    results = [(p.wait(timeout=60), p.stderr.read().decode()) for p in procs if p.stderr]
    assert results == [(0, "")] * 4
    _migrated(tmp_path / "migrated.db")
    assert _everything(path) == _everything(tmp_path / "migrated.db")
