"""Bulk loading for generated stores (the demo, benchmarks).

Inside :meth:`BulkLoad.bulk_load` the full-text index is not kept per row; it is
rebuilt once at the end, which is about twice as fast for millions of messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlmodel import SQLModel

from deskterm.store.base import Database
from deskterm.store.dialect.search import pause_search_index, resume_search_index
from deskterm.store.models import Customer, Ticket, table_of
from deskterm.store.ticket_facts import rebuild as rebuild_facts


class BulkWriter:
    """Inserts rows table by table on one connection; commit with :meth:`commit`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(table_of(model)), rows)

    def insert_returning_ids(
        self, model: type[SQLModel], rows: Sequence[dict[str, Any]]
    ) -> list[int]:
        """Insert rows and return their new ids, in the order given."""
        if not rows:
            return []
        table = table_of(model)
        result = self.conn.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
        )
        return [row[0] for row in result]

    def commit(self) -> None:
        """Commit what was written so far (a killed demo keeps finished batches)."""
        self.conn.commit()


class BulkLoad:
    """Fast loading of many generated rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def is_empty(self) -> bool:
        with self.db.engine.connect() as conn:
            tickets = conn.execute(select(func.count()).select_from(Ticket)).scalar_one()
            customers = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
        return tickets == 0 and customers == 0

    @contextmanager
    def bulk_load(self) -> Iterator[BulkWriter]:
        """A writer for many rows; the search index and the metrics facts are rebuilt
        once when it closes."""
        with self.db.engine.connect() as conn:
            conn = conn.execution_options(deskterm_write=True)
            pause_search_index(conn)
            conn.commit()
            try:
                yield BulkWriter(conn)
                conn.commit()
            finally:
                conn.rollback()
                resume_search_index(conn)
                rebuild_facts(conn)  # once, instead of a queued refresh per row
                conn.commit()
