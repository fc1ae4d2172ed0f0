"""triage at speed: actions (undo), saved views, snooze reminders, sort indexes

Revision ID: 0007_triage
Revises: 0006_ingest
Create Date: 2026-12-05 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types

revision = "0007_triage"
down_revision = "0006_ingest"
branch_labels = None
depends_on = None

_DT = deskterm.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "action",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", _DT, nullable=False),
        sa.Column("label", sa.String(), nullable=False, server_default=""),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("undoes", sa.String(), nullable=True),
        sa.Column("undone_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_action_actor_at", "action", ["actor", "at"])
    op.create_table(
        "action_ticket",
        sa.Column("action_id", sa.String(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("action_id", "ticket_id"),
    )
    op.create_table(
        "saved_view",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("query", sa.String(), nullable=False, server_default=""),
        sa.Column("sort", sa.String(), nullable=False, server_default="activity"),
        sa.Column("owner", sa.String(), nullable=False, server_default=""),
        sa.Column("created_at", _DT, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action_id", sa.String(), nullable=True))
    op.create_index("ix_event_action", "event", ["action_id", "kind", "ticket_id"])
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remind_at", _DT, nullable=True))
    op.create_index("ix_ticket_remind_at", "ticket", ["remind_at"])
    op.create_index("ix_ticket_created", "ticket", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_created", table_name="ticket")
    op.drop_index("ix_ticket_remind_at", table_name="ticket")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("remind_at")
    op.drop_index("ix_event_action", table_name="event")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("action_id")
    op.drop_table("saved_view")
    op.drop_table("action_ticket")
    op.drop_index("ix_action_actor_at", table_name="action")
    op.drop_table("action")
