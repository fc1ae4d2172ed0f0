"""leases: one sync per account at a time

Revision ID: 0006_ingest
Revises: 0005_kb
Create Date: 2026-12-05 00:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types

revision = "0006_ingest"
down_revision = "0005_kb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("expires_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("lease")
