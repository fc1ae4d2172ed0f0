"""Queries the agent console needs beyond the queue pages: paging upwards and pick lists.

The console keeps only a window of a few hundred rows; scrolling back up past it, or
jumping to the oldest ticket (``G``), needs the page *above* a row: the same keyset
walk as :meth:`QueueQueries.list_tickets`, in the other direction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from deskterm.query import TicketFilter
from deskterm.store.queue import PAGE, Cursor, QueueQueries, TicketRow

_DISTINCT = {
    "queue": ("ticket", "queue"),
    "assignee": ("ticket", "assignee"),
    "tag": ("ticket_tag", "tag"),
}


class ConsoleQueries(QueueQueries):
    """Upward keyset pages and distinct values for the console's pickers."""

    def list_tickets_before(
        self, f: TicketFilter | None = None, before: Cursor | None = None, limit: int = PAGE
    ) -> list[TicketRow]:
        """Up to ``limit`` tickets just *newer* than ``before``, newest first.

        With ``before=None`` this is the oldest page of the view. Full-text filters are
        not supported here (their order is by matching message, not by activity).
        """
        f = f or TicketFilter()
        if f.text:
            raise ValueError("list_tickets_before does not page full-text results")
        with self.read() as session:
            return self._page(session, f, before, limit, newer=True)[::-1]

    def distinct_values(self, field: str, limit: int = 200) -> list[str]:
        """The distinct values of ``queue``, ``assignee`` or ``tag``, sorted.

        A recursive skip-scan: one index seek per distinct value, so it stays instant
        on a million tickets where ``SELECT DISTINCT`` would read the whole index.
        """
        table, column = _DISTINCT[field]
        sql = text(
            f"WITH RECURSIVE v(x, n) AS ("  # names come from _DISTINCT only
            f" SELECT (SELECT MIN({column}) FROM {table}), 1"
            f" UNION ALL"
            f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.x), n + 1"
            f" FROM v WHERE v.x IS NOT NULL AND n < :limit"
            f") SELECT x FROM v WHERE x IS NOT NULL"
        )
        with self.read() as session:
            return [str(x) for x in session.execute(sql, {"limit": limit}).scalars()]

    def limit_page_cache(self, mib: int) -> None:
        """Cap SQLite's page cache per connection at ``mib`` MiB (no-op elsewhere).

        The console reads through several short-lived pooled connections at once
        (pages, counts, read-ahead); at the store's default of 64 MiB each, page caches
        alone could hold over 250 MB. Index-range pages need far less, and pages that
        drop out are still in the OS cache.
        """
        if self.engine.dialect.name != "sqlite":
            return

        def apply(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA cache_size=-{int(mib) * 1024}")
            cursor.close()

        event.listen(self.engine, "connect", apply)
        self.engine.dispose()  # connections already open come back with the new size
