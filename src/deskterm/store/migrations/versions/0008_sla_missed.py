"""a missed SLA survives a merge: per-ticket flags for a first-response or resolution
target that a merged ticket had already missed

Revision ID: 0008_sla_missed
Revises: 0007_triage
Create Date: 2026-12-05 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_sla_missed"
down_revision = "0007_triage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        for name in ("sla_first_response_missed", "sla_resolution_missed"):
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("sla_resolution_missed")
        batch_op.drop_column("sla_first_response_missed")
