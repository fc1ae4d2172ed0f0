"""service workflow: SLA clock columns and reply drafts

Revision ID: 0002_workflow
Revises: 0001_initial
Create Date: 2026-11-23 14:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types

revision = "0002_workflow"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sla_next_due", deskterm.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("sla_warn_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "sla_paused_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("sla_paused_seconds", sa.Float(), nullable=False, server_default="0")
        )
        batch_op.create_index("ix_ticket_sla_next_due", ["sla_next_due"], unique=False)
        batch_op.create_index(
            "ix_ticket_sla_warn_at", ["sla_warn_at", "sla_next_due"], unique=False
        )

    op.create_table(
        "reply_draft",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("macro", sa.String(), nullable=True),
        sa.Column("status_after", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "author"),
    )


def downgrade() -> None:
    op.drop_table("reply_draft")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_sla_warn_at")
        batch_op.drop_index("ix_ticket_sla_next_due")
        batch_op.drop_column("sla_paused_seconds")
        batch_op.drop_column("sla_paused_at")
        batch_op.drop_column("sla_warn_at")
        batch_op.drop_column("sla_next_due")
