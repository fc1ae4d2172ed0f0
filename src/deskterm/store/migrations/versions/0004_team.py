"""team mode: agents, presence, customer versions, change notifications

Revision ID: 0004_team
Revises: 0003_search_words
Create Date: 2026-12-05 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types
from deskterm.store.dialect.notify import drop_change_notify, install_change_notify

revision = "0004_team"
down_revision = "0003_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False, server_default=""),
        sa.Column("queues", sa.String(), nullable=False, server_default=""),
        sa.Column("created_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_agent_name"),
    )
    op.create_table(
        "presence",
        sa.Column("client", sa.String(), nullable=False),
        sa.Column("agent", sa.String(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("activity", sa.String(), nullable=False, server_default="viewing"),
        sa.Column("seen_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client"),
    )
    op.create_index("ix_presence_seen_at", "presence", ["seen_at"])
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    install_change_notify(op.get_bind())


def downgrade() -> None:
    drop_change_notify(op.get_bind())
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.drop_index("ix_presence_seen_at", table_name="presence")
    op.drop_table("presence")
    op.drop_table("agent")
