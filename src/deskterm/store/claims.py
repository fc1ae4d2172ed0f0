"""Take the next ticket: the most urgent unassigned one of a view, assigned atomically.

Two agents pressing "take" at the same moment must never get the same ticket. On
PostgreSQL each claimer locks its candidate with ``FOR UPDATE SKIP LOCKED``, so a
second claimer skips to the next row instead of waiting; SQLite writers are already
serialised by ``BEGIN IMMEDIATE``, so the second one sees the first one's assignment.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, text
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from deskterm.query import TicketFilter
from deskterm.store.base import Database
from deskterm.store.changes import log_event, touch
from deskterm.store.models import TAKEABLE_SQL, Ticket
from deskterm.store.queue import QueueQueries
from deskterm.store.types import utcnow

# Most urgent first; each priority is its own probe so no query sorts by a CASE.
_PRIORITY_ORDER = ("urgent", "high", "normal", "low")
_CANDIDATES = 8  # looked up before the write transaction, checked again inside it
# Written as the partial index ix_ticket_takeable's own WHERE, so both engines see the
# query is within it (a bound parameter in its place would not prove that).
_TAKEABLE = text(TAKEABLE_SQL)


class Claims:
    """``take_next`` for the console's take key and ``deskterm tickets take``."""

    def __init__(self, db: Database, queue: QueueQueries) -> None:
        self.db = db
        self.queue = queue

    def take_next(self, agent: str, f: TicketFilter | None = None) -> int | None:
        """Assign the most urgent unassigned new/open ticket matching ``f`` to ``agent``
        (by priority, then the SLA due soonest, then the oldest); its number, or None
        when there is nothing to take.

        The search runs before the write transaction, so it does not hold SQLite's
        write lock while others wait; inside it each candidate is checked again by its
        id (and locked, skipping those another claimer holds). Only when every candidate
        went meanwhile is the search repeated inside the transaction.
        """
        f = f or TicketFilter()
        with self.db.read() as session:
            candidates = self._search(session, f, _CANDIDATES, lock=False)
        with self.db.write() as session:
            conds = self.queue.conditions(session, f)
            for number in candidates:
                ticket = session.exec(self._takeable(conds).where(col(Ticket.id) == number)).first()
                if ticket is not None:
                    return self._assign(session, ticket, agent)
            for number in self._search(session, f, 1, lock=True):
                ticket = session.exec(self._takeable(conds).where(col(Ticket.id) == number)).one()
                return self._assign(session, ticket, agent)
        return None

    def _search(self, session: Session, f: TicketFilter, limit: int, *, lock: bool) -> list[int]:
        """The ids of the ``limit`` most urgent takeable tickets; ``lock``: locked for
        this transaction, skipping those another claimer holds (PostgreSQL).

        Each priority is walked on the partial index (priority, SLA due, created): those
        with a due time soonest first, then those without, oldest first; the view's
        conditions filter the walk instead of choosing another index."""
        conds = self.queue.conditions(session, f, walk=True)
        due = col(Ticket.sla_next_due)
        found: list[int] = []
        for priority in _PRIORITY_ORDER:
            for timed in (due.is_not(None), due.is_(None)):
                query = (
                    select(col(Ticket.id))
                    .where(col(Ticket.priority) == priority, timed, _TAKEABLE, *conds)
                    .order_by(due, col(Ticket.created_at))
                    .limit(limit - len(found))
                )
                if lock:
                    query = query.with_for_update(skip_locked=True)
                found += [n for n in session.exec(query).all() if n is not None]
                if len(found) >= limit:
                    return found
        return found

    @staticmethod
    def _takeable(conds: list[ColumnElement[bool]]) -> SelectOfScalar[Ticket]:
        return select(Ticket).where(_TAKEABLE, *conds).with_for_update(skip_locked=True)

    @staticmethod
    def _assign(session: Session, ticket: Ticket, agent: str) -> int:
        now = utcnow()
        ticket.assignee = agent
        touch(session, ticket, now)
        log_event(
            session, "assignee", actor=agent, ticket_id=ticket.id, new=agent, at=now,
            detail={"take": True},
        )  # fmt: skip
        assert ticket.id is not None
        return ticket.id
