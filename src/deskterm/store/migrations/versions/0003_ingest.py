"""leases: one sync per account at a time

Revision ID: 0003_ingest
Revises: 0002_workflow
Create Date: 2026-12-05 00:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types

revision = "0003_ingest"
down_revision = "0002_workflow"
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
