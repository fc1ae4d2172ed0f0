"""knowledge base: articles and their full-text index

Revision ID: 0005_kb
Revises: 0004_team
Create Date: 2026-12-05 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskterm.store.types
from deskterm.store.dialect.kb import drop_article_search, install_article_search

revision = "0005_kb"
down_revision = "0004_team"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("tags", sa.String(), nullable=False),
        sa.Column("audience", sa.String(), nullable=False),
        sa.Column("updated", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("indexed_at", deskterm.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    install_article_search(op.get_bind())


def downgrade() -> None:
    drop_article_search(op.get_bind())
    op.drop_table("article")
