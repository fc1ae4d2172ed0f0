"""search parity: PostgreSQL indexes the same words as SQLite's FTS5

Revision ID: 0003_search_words
Revises: 0002_workflow
Create Date: 2026-12-05 00:40:00

PostgreSQL's ``search`` column is rebuilt through ``deskterm_search_words`` (see
``deskterm.store.dialect.search``); SQLite's FTS5 index is unchanged. Rebuilding rewrites the
message table once on PostgreSQL (43 s for 300k messages on the 2-core reference
machine).
"""

from __future__ import annotations

from alembic import op

from deskterm.store.dialect import is_sqlite
from deskterm.store.dialect.search import drop_search, install_search

revision = "0003_search_words"
down_revision = "0002_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if not is_sqlite(conn):
        drop_search(conn)
        install_search(conn)
        conn.exec_driver_sql("ANALYZE message")  # the planner needs the new column's words


def downgrade() -> None:
    """Nothing to undo: older versions search the rebuilt column as they did before."""
