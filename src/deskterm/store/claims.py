"""Take the next ticket: the most urgent unassigned one of a view, assigned atomically.

Two agents pressing "take" at the same moment must never get the same ticket. On
PostgreSQL each claimer locks its candidate with ``FOR UPDATE SKIP LOCKED``, so a
second claimer skips to the next row instead of waiting; SQLite writers are already
serialised by ``BEGIN IMMEDIATE``, so the second one sees the first one's assignment.
"""

from __future__ import annotations

from sqlalchemy import nulls_last
from sqlmodel import col, select

from deskterm.query import TicketFilter
from deskterm.store.base import Database
from deskterm.store.changes import log_event, touch
from deskterm.store.models import Ticket
from deskterm.store.queue import QueueQueries
from deskterm.store.types import utcnow

# Most urgent first; each priority is its own probe so no query sorts by a CASE.
_PRIORITY_ORDER = ("urgent", "high", "normal", "low")
TAKEABLE = ("new", "open")


class Claims:
    """``take_next`` for the console's take key and ``deskterm tickets take``."""

    def __init__(self, db: Database, queue: QueueQueries) -> None:
        self.db = db
        self.queue = queue

    def take_next(self, agent: str, f: TicketFilter | None = None) -> int | None:
        """Assign the most urgent unassigned new/open ticket matching ``f`` to ``agent``
        (by priority, then the SLA due soonest, then the oldest); its number, or None
        when there is nothing to take."""
        f = f or TicketFilter()
        with self.db.write() as session:
            conds = self.queue.conditions(session, f)
            for priority in _PRIORITY_ORDER:
                ticket = session.exec(
                    select(Ticket)
                    .where(
                        col(Ticket.assignee).is_(None),
                        col(Ticket.status).in_(TAKEABLE),
                        col(Ticket.priority) == priority,
                        col(Ticket.merged_into_id).is_(None),
                        *conds,
                    )
                    .order_by(nulls_last(col(Ticket.sla_next_due)), col(Ticket.created_at))
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if ticket is None:
                    continue
                now = utcnow()
                ticket.assignee = agent
                touch(session, ticket, now)
                log_event(
                    session, "assignee", actor=agent, ticket_id=ticket.id, new=agent, at=now,
                    detail={"take": True},
                )  # fmt: skip
                return ticket.id
        return None
