"""Schema versions: open-time checks and Alembic upgrades.

Opening a store reads ``alembic_version`` with one query; Alembic itself (slow to
import) is loaded only when a store is older than this program, or new on PostgreSQL.
A new SQLite store is created from :data:`SNAPSHOT`, the schema the migrations build,
in one transaction (~5 ms instead of ~120 ms of Alembic: every import into a new store
and every test store starts sooner). A test checks it against the migrations.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from deskterm.store.engine import WRITE_OPTION
from deskterm.store.errors import StoreError

HEAD = "0011_takeable"
MIGRATIONS = Path(__file__).with_name("migrations")
SNAPSHOT = Path(__file__).with_name("schema_head.sql")
_SNAPSHOT_HEADER = "-- deskterm SQLite schema at revision {revision}"
# What a statement in the snapshot may not create: SQLite's own tables and the shadow
# tables of a full-text index (its CREATE VIRTUAL TABLE makes those).
_NOT_CREATED = re.compile(r"sqlite_.*|.*_fts_(data|idx|content|docsize|config)")


def _alembic_config(conn: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def known_revisions() -> set[str]:
    """Every revision this program ships (to tell "older" from "from the future")."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(conn: Connection) -> str | None:
    """The store's revision; ``None`` for an empty database."""
    names = set(inspect(conn).get_table_names())
    if "alembic_version" not in names:
        if names - {"sqlite_sequence"}:
            raise StoreError("This database has tables but is not a deskterm store.")
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def check(engine: Engine) -> str | None:
    """Return the store's revision, refusing one written by a newer deskterm."""
    try:
        with engine.connect() as conn:
            rev = current_revision(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"Cannot open the store: {_first_line(exc)}") from exc
    if rev is not None and rev != HEAD and rev not in known_revisions():
        raise StoreError(
            f"This store has schema {rev}, written by a newer deskterm; upgrade deskterm "
            "to open it."
        )
    return rev


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to :data:`HEAD`; returns (old revision, new revision)."""
    old = check(engine)
    if old == HEAD:
        return old, HEAD
    if old is None and engine.dialect.name == "sqlite" and _create_from_snapshot(engine):
        return None, HEAD
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    return old, HEAD


def sqlite_schema_script(conn: Connection, revision: str) -> str:
    """The schema of a SQLite store as a script that builds it (what :data:`SNAPSHOT`
    holds), headed by the revision it is at."""
    rows = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    )
    statements = "".join(f"{sql};\n\n" for name, sql in rows if not _NOT_CREATED.fullmatch(name))
    return f"{_SNAPSHOT_HEADER.format(revision=revision)}\n\n{statements}"


def _snapshot_statements(script: str) -> Iterator[str]:
    """The statements of a schema script (a trigger's body holds semicolons too)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and line.startswith("--"):
            continue  # the header
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""


def _create_from_snapshot(engine: Engine) -> bool:
    """Build a new SQLite store at :data:`HEAD` from :data:`SNAPSHOT`; ``False`` when
    the snapshot is of another revision or the database is not empty (another process
    created it first, or a downgrade left ``alembic_version``): Alembic then decides."""
    script = SNAPSHOT.read_text(encoding="utf-8")
    if not script.startswith(_SNAPSHOT_HEADER.format(revision=HEAD) + "\n"):
        return False
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one():
            return False
        for statement in _snapshot_statements(script):
            conn.exec_driver_sql(statement)
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD})
    return True


def _first_line(exc: BaseException) -> str:
    msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (msg[0] if msg else type(exc).__name__).rstrip(".") + "."
