"""Everything that differs between SQLite and PostgreSQL, one module per concern.

Callers import from the module they need: :mod:`.search` (message full-text search
and LIKE patterns), :mod:`.notify` (change notifications for live updates),
:mod:`.writes` (batched inserts, upserts, copies and checks), :mod:`.kb`
(knowledge-base article search) and :mod:`.metrics` (date and percentile SQL).
"""

from __future__ import annotations

from sqlalchemy import Connection

__all__ = ["is_sqlite"]


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"
