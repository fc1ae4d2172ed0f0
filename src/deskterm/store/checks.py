"""Consistency checks of derived values (``deskterm db check``).

Counters and copies the store keeps for speed must agree with the rows they count:
a ticket's ``message_count`` with its messages, and each tag's copy of its ticket's
sort key (``ticket_tag.updated_at``) with the ticket's ``updated_at``. Writers that
lose updates show up here first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from deskterm.store.base import Database
from deskterm.store.dialect.writes import integrity_check
from deskterm.store.models import Message, Ticket, TicketTag, table_of

T_TICKET = table_of(Ticket)
T_MESSAGE = table_of(Message)
T_TAG = table_of(TicketTag)


class Checks:
    """Read-only checks over the whole store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def integrity(self) -> str:
        """The engine's own check: ``"ok"`` or its first complaint."""
        with self.db.engine.connect() as conn:
            return integrity_check(conn)

    def counter_mismatches(self, limit: int = 20) -> tuple[int, list[dict[str, Any]]]:
        """(how many, the first ``limit``) derived values that disagree with their rows:
        dicts with ticket, what, stored and actual."""
        counted = (
            select(T_MESSAGE.c.ticket_id, func.count().label("n"))
            .group_by(T_MESSAGE.c.ticket_id)
            .subquery()
        )
        actual = func.coalesce(counted.c.n, 0)
        counts = (
            select(T_TICKET.c.id, T_TICKET.c.message_count, actual.label("actual"))
            .select_from(T_TICKET.outerjoin(counted, counted.c.ticket_id == T_TICKET.c.id))
            .where(T_TICKET.c.message_count != actual)
            .order_by(T_TICKET.c.id)
        )
        tags = (
            select(T_TAG.c.ticket_id, T_TAG.c.tag, T_TAG.c.updated_at, T_TICKET.c.updated_at)
            .join(T_TICKET, T_TICKET.c.id == T_TAG.c.ticket_id)
            .where(T_TAG.c.updated_at != T_TICKET.c.updated_at)
            .order_by(T_TAG.c.ticket_id)
        )
        found: list[dict[str, Any]] = []
        total = 0
        with self.db.engine.connect() as conn:
            for ticket, stored, real in conn.execute(counts):
                total += 1
                if len(found) < limit:
                    found.append(
                        {"ticket": ticket, "what": "message_count", "stored": stored,
                         "actual": real}
                    )  # fmt: skip
            for ticket, tag, copy, real in conn.execute(tags):
                total += 1
                if len(found) < limit:
                    found.append(
                        {"ticket": ticket, "what": f"sort key of tag {tag!r}",
                         "stored": copy.isoformat(), "actual": real.isoformat()}
                    )  # fmt: skip
        return total, found
