"""Making the store portable: JSON Lines export, consistent SQLite backups, and a
streamed copy to another store (a solo SQLite store onto a team's PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from deskterm.store.base import Database
from deskterm.store.dialect.search import begin_copy_load, end_copy_load
from deskterm.store.dialect.writes import backup, copy_rows, reset_sequences
from deskterm.store.errors import StoreError
from deskterm.store.models import (
    Agent,
    Attachment,
    Customer,
    Event,
    HeardStep,
    Identity,
    ImportFailure,
    Message,
    NoteVersion,
    ReplyDraft,
    SyncState,
    Ticket,
    TicketLink,
    TicketTag,
    table_of,
)
from deskterm.store.ticket_facts import rebuild as rebuild_facts
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
    ("agent", Agent),
    ("reply_draft", ReplyDraft),
)


class PortableStore:
    """Export and backup."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def export_records(self, batch: int = 2000) -> Iterator[dict[str, Any]]:
        """Every record of every table as ``{"type": table, ...columns}``, streamed."""
        for name, model in EXPORT_ORDER:
            table = table_of(model)
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
        backup(self.db.engine, str(dest))

    def copy_to(
        self,
        target: Database,
        batch: int = 5000,
        progress: Callable[[str, int], None] | None = None,
    ) -> dict[str, int]:
        """Copy every record into ``target`` (an empty store at the same schema),
        streamed in batches, ids kept; returns rows per table, verified by counting
        both sides. The search index is rebuilt once at the end."""
        with target.engine.connect() as probe:
            if probe.execute(select(func.count()).select_from(Ticket)).scalar_one() or (
                probe.execute(select(func.count()).select_from(Customer)).scalar_one()
            ):
                raise StoreError(f"{target.location} is not empty; copy into a new store.")
        copied: dict[str, int] = {}
        with target.write_connection() as out:
            begin_copy_load(out)
            for name, model in EXPORT_ORDER:
                table = table_of(model)
                columns = [c for c in table.columns if c.name != "search"]
                # A merged customer or ticket may point at a later row: such links are
                # set once the whole table is in (foreign keys are checked per row).
                self_refs = [
                    c.name
                    for c in columns
                    if any(fk.column.table is table for fk in c.foreign_keys)
                ]
                later: list[dict[str, Any]] = []
                copied[name] = 0
                with self.db.engine.connect() as src:
                    result = src.execution_options(yield_per=batch).execute(
                        select(*columns).order_by(*table.primary_key.columns)
                    )
                    for part in result.mappings().partitions():
                        rows = [dict(r) for r in part]
                        for row in rows:
                            links = {c: row[c] for c in self_refs if row[c] is not None}
                            if links:
                                later.append({"_id": row["id"], **links})
                                row.update(dict.fromkeys(links))
                        copy_rows(out, table, rows)
                        copied[name] += len(rows)
                        if progress:
                            progress(name, copied[name])
                for links in later:
                    ident = links.pop("_id")
                    out.execute(table.update().where(table.c.id == ident).values(**links))
            reset_sequences(out, [table_of(m) for _, m in EXPORT_ORDER])
            end_copy_load(out)
            rebuild_facts(out)  # derived: filled once from what was copied
        for name, model in EXPORT_ORDER:
            with target.engine.connect() as conn:
                there = conn.execute(select(func.count()).select_from(table_of(model))).scalar_one()
            if there != copied[name]:
                raise StoreError(
                    f"Copy check failed: {name} has {there} rows, expected {copied[name]}."
                )
        return copied
