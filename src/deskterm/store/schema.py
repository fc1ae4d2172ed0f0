"""Schema versions: open-time checks and Alembic upgrades.

Opening a store reads ``alembic_version`` with one query; Alembic itself (slow to
import) is loaded only when the store is new or older than this program.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from deskterm.store.errors import StoreError

HEAD = "0011_takeable"
MIGRATIONS = Path(__file__).with_name("migrations")


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
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    return old, HEAD


def _first_line(exc: BaseException) -> str:
    msg = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (msg[0] if msg else type(exc).__name__).rstrip(".") + "."
