"""Alembic environment: always run programmatically with a live connection.

``deskterm.store.schema`` passes the connection in ``config.attributes``; there is no
``alembic.ini`` to keep in sync with ``--db``.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import deskterm.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
