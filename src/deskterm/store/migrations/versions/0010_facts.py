"""per-ticket metrics facts: ticket_fact, its stale queue and the triggers that fill it

Revision ID: 0010_facts
Revises: 0009_sort
Create Date: 2026-12-05 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types
from deskterm.store.dialect.facts import analyze_facts, drop_fact_triggers, install_fact_triggers
from deskterm.store.ticket_facts import rebuild

revision = "0010_facts"
down_revision = "0009_sort"
branch_labels = None
depends_on = None

_DT = deskterm.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ticket_fact",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", _DT, nullable=False),
        sa.Column("solved_at", _DT, nullable=True),
        sa.Column("first_response_at", _DT, nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("sla_first_response_due", _DT, nullable=True),
        sa.Column("sla_resolution_due", _DT, nullable=True),
        sa.Column("sla_paused_at", _DT, nullable=True),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("heard_mask", sa.Integer(), nullable=False),
        sa.Column("early", sa.Integer(), nullable=False),
        sa.Column("first_response_s", sa.Float(), nullable=True),
        sa.Column("resolution_s", sa.Float(), nullable=True),
        sa.Column("created_hour", sa.Integer(), nullable=False),
        sa.Column("created_weekday", sa.Integer(), nullable=False),
        sa.Column("fr_met", sa.Integer(), nullable=False),
        sa.Column("fr_due_from", _DT, nullable=True),
        sa.Column("breach_from", _DT, nullable=True),
        sa.Column("sla_resolution_missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    for table, columns in (
        ("fact_created_hour", ("channel", "queue")),
        ("fact_open_hour", ("status",)),
    ):
        op.create_table(
            table,
            sa.Column("grouped", sa.String(), nullable=False),
            sa.Column("hour_start", _DT, nullable=False),
            sa.Column("group_key", sa.String(), nullable=False),
            *(sa.Column(c, sa.String(), nullable=False) for c in columns),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("grouped", "hour_start", "group_key", *columns),
        )
    op.create_table(
        "ticket_fact_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    rebuild(conn)  # an existing store's facts and roll-ups, before the indexes (faster)
    op.create_index(
        "ix_ticket_fact_created",
        "ticket_fact",
        [
            "created_at",
            "merged_into_id",
            "fr_met",
            "fr_due_from",
            "breach_from",
            "first_response_s",
        ],
    )
    op.create_index(
        "ix_ticket_fact_first_response",
        "ticket_fact",
        ["first_response_s", "created_at", "merged_into_id"],
    )
    op.create_index(
        "ix_ticket_fact_agent_created",
        "ticket_fact",
        ["assignee", "created_at", "merged_into_id", "fr_met", "fr_due_from", "breach_from",
         "first_response_s"],
    )  # fmt: skip
    op.create_index(
        "ix_ticket_fact_agent_first_response",
        "ticket_fact",
        ["assignee", "first_response_s", "created_at", "merged_into_id"],
    )
    op.create_index(
        "ix_ticket_fact_solved",
        "ticket_fact",
        ["solved_at", "created_at", "status", "merged_into_id", "resolution_s"],
    )
    op.create_index(
        "ix_ticket_fact_resolution",
        "ticket_fact",
        ["resolution_s", "solved_at", "status", "merged_into_id"],
    )
    op.create_index("ix_ticket_fact_open", "ticket_fact", ["done", "created_at"])
    # Root causes read Diagnose steps by date; emotion shares the inbound messages
    # with an emotion (few, where no classifier ran) by date.
    op.create_index(
        "ix_heard_step_step_done_at",
        "heard_step",
        ["step", "done_at", "done", "category", "ticket_id"],
    )
    op.create_index(
        "ix_message_emotion", "message", ["direction", "emotion", "sent_at", "ticket_id"]
    )
    install_fact_triggers(conn)
    analyze_facts(conn)


def downgrade() -> None:
    drop_fact_triggers(op.get_bind())
    op.drop_index("ix_message_emotion", table_name="message")
    op.drop_index("ix_heard_step_step_done_at", table_name="heard_step")
    op.drop_table("fact_open_hour")
    op.drop_table("fact_created_hour")
    op.drop_table("ticket_fact_dirty")
    op.drop_table("ticket_fact")
