"""partial indexes: the tickets an agent may take (the take key's seek), and the
merged-away tickets (which reports leave out)

Revision ID: 0011_takeable
Revises: 0010_facts
Create Date: 2026-12-05 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_takeable"
down_revision = "0010_facts"
branch_labels = None
depends_on = None

# As in models.TAKEABLE_SQL when this revision was written (a revision never changes).
_TAKEABLE = "assignee IS NULL AND status IN ('new', 'open') AND merged_into_id IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_ticket_takeable",
        "ticket",
        ["priority", "sla_next_due", "created_at"],
        sqlite_where=sa.text(_TAKEABLE),
        postgresql_where=sa.text(_TAKEABLE),
    )
    op.create_index(
        "ix_ticket_merged",
        "ticket",
        ["id"],
        sqlite_where=sa.text("merged_into_id IS NOT NULL"),
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_merged", table_name="ticket")
    op.drop_index("ix_ticket_takeable", table_name="ticket")
