"""Making the store portable: JSON Lines export and consistent SQLite backups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from deskterm.store import dialect
from deskterm.store.base import Database
from deskterm.store.errors import StoreError
from deskterm.store.models import (
    Attachment,
    Customer,
    Event,
    HeardStep,
    Identity,
    ImportFailure,
    Message,
    NoteVersion,
    SyncState,
    Ticket,
    TicketLink,
    TicketTag,
)
from deskterm.store.tickets import to_jsonable

EXPORT_ORDER: tuple[tuple[str, Any], ...] = (
    ("customer", Customer),
    ("identity", Identity),
    ("ticket", Ticket),
    ("ticket_tag", TicketTag),
    ("ticket_link", TicketLink),
    ("message", Message),
    ("attachment", Attachment),
    ("heard_step", HeardStep),
    ("note_version", NoteVersion),
    ("event", Event),
    ("sync_state", SyncState),
    ("import_failure", ImportFailure),
)


class PortableStore:
    """Export and backup."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def export_records(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every record of every table as ``{"type": table, ...columns}``, streamed."""
        for name, model in EXPORT_ORDER:
            table = model.__table__
            with self.db.engine.connect() as conn:
                result = conn.execution_options(yield_per=batch).execute(
                    select(*[c for c in table.columns if c.name != "search"]).order_by(
                        *table.primary_key.columns
                    )
                )
                for row in result.mappings():
                    yield {"type": name, **to_jsonable(dict(row))}

    def backup(self, dest: Path) -> None:
        """Write a consistent copy of the SQLite store to ``dest`` (which must not exist)."""
        if self.db.dialect != "sqlite":
            raise StoreError(
                "deskterm db backup copies SQLite stores; for PostgreSQL use pg_dump, "
                "or deskterm export for a portable JSON Lines copy."
            )
        if dest.exists():
            raise StoreError(f"Backup target {dest} already exists; choose a new file.")
        if not dest.parent.is_dir():
            raise StoreError(f"Backup directory {dest.parent} does not exist.")
        dialect.backup(self.db.engine, str(dest))
