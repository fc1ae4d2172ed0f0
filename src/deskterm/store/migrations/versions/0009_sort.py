"""queue sorting: the SLA-due seek index and the customer-name index

Revision ID: 0009_sort
Revises: 0008_sla_missed
Create Date: 2026-12-05 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from deskterm.store.dialect.order import name_key

revision = "0009_sort"
down_revision = "0008_sla_missed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # (next_due, id) seeks the SLA sort on both databases; warn_at decides
    # sla:breached,at-risk from the index. It replaces the one-column index.
    op.drop_index("ix_ticket_sla_next_due", table_name="ticket")
    op.create_index("ix_ticket_sla_due", "ticket", ["sla_next_due", "id", "sla_warn_at"])
    op.create_index(
        "ix_customer_name_key", "customer", [name_key(sa.column("name")), sa.column("id")]
    )


def downgrade() -> None:
    op.drop_index("ix_customer_name_key", table_name="customer")
    op.drop_index("ix_ticket_sla_due", table_name="ticket")
    op.create_index("ix_ticket_sla_next_due", "ticket", ["sla_next_due"])
