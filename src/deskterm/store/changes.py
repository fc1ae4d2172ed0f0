"""Write helpers every ticket change shares: lock and version-check the ticket, touch
it, log the event, and the side effects of a status change.

Each change runs in one write transaction together with its event-log row, so the
log can never disagree with the data.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from deskterm.store.errors import Conflict, NotFound
from deskterm.store.models import Action, Customer, Event, Message, Ticket, TicketTag
from deskterm.store.types import utcnow


def add_note_message(
    session: Session, ticket: Ticket, number: int, body: str, actor: str, now: datetime
) -> Message:
    """An internal note in ticket ``number``'s conversation (flushed, so it has its id)."""
    msg = Message(
        ticket_id=number,
        direction="note",
        channel=ticket.channel,
        author_name=actor,
        sent_at=now,
        subject="",
        body=body,
        source_key=f"note:{number}:{now.timestamp():.6f}",
    )
    session.add(msg)
    ticket.message_count += 1
    touch(session, ticket, now)
    session.flush()
    return msg


def log_event(
    session: Session,
    kind: str,
    *,
    actor: str,
    ticket_id: int | None = None,
    customer_id: int | None = None,
    old: Any = None,
    new: Any = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
    action_id: str | None = None,
) -> None:
    """Append one row to the event log (inside the caller's transaction); ``action_id``
    groups the events of one action so it can be undone."""
    session.add(
        Event(
            ticket_id=ticket_id,
            customer_id=customer_id,
            kind=kind,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
            actor=actor,
            at=at or utcnow(),
            detail=json.dumps(detail, sort_keys=True) if detail else None,
            action_id=action_id,
        )
    )


def new_action_id() -> str:
    """The id of an action: its events carry it, so undo takes them back together."""
    return uuid.uuid4().hex


def record_action(session: Session, action_id: str, actor: str, label: str, at: datetime) -> None:
    """Record a one-ticket action whose events carry ``action_id`` (for undo)."""
    session.add(Action(id=action_id, actor=actor, at=at, label=label, count=1))


def touch(session: Session, ticket: Ticket, at: datetime | None = None) -> None:
    """Mark activity on a ticket and keep the tag index's copy of the sort key in step."""
    ticket.updated_at = max(ticket.updated_at, at or utcnow())
    ticket.version += 1
    session.add(ticket)
    session.execute(
        update(TicketTag)
        .where(col(TicketTag.ticket_id) == ticket.id)
        .values(updated_at=ticket.updated_at)
    )


def load_ticket(session: Session, number: int, expected_version: int | None) -> Ticket:
    """The ticket to change, locked for the rest of the transaction; :class:`NotFound`,
    or :class:`Conflict` when it moved on from the version the caller read.

    The row lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers already hold
    the database lock from ``BEGIN IMMEDIATE``) makes the version check and the write
    one atomic step: a second writer waits, then sees the first one's version.
    """
    ticket = session.get(Ticket, number, with_for_update=True, populate_existing=True)
    if ticket is None:
        raise NotFound(f"There is no ticket #{number}.")
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(
            f"Ticket #{number} was changed since you opened it{_last_change(session, number)}; "
            "reload it.",
            number=number,
        )
    return ticket


def load_pair(
    session: Session, a: int, b: int, expected: tuple[int | None, int | None] = (None, None)
) -> tuple[Ticket, Ticket]:
    """Two tickets to change together (merge, link), locked in number order so two
    agents doing the opposite at once never deadlock."""
    (first, va), (second, vb) = sorted(((a, expected[0]), (b, expected[1])))
    one, two = load_ticket(session, first, va), load_ticket(session, second, vb)
    return (one, two) if first == a else (two, one)


def load_customer(session: Session, customer_id: int, expected_version: int | None) -> Customer:
    """The customer to change, locked, version-checked like :func:`load_ticket`."""
    customer = session.get(Customer, customer_id, with_for_update=True, populate_existing=True)
    if customer is None:
        raise NotFound(f"There is no customer #{customer_id}.")
    if expected_version is not None and customer.version != expected_version:
        raise Conflict(f"Customer #{customer_id} was changed since you opened it; reload it.")
    return customer


def _last_change(session: Session, number: int) -> str:
    """ ", by Ben (status open → pending)": who made the ticket's latest change."""
    event = session.exec(
        select(Event).where(Event.ticket_id == number).order_by(col(Event.id).desc()).limit(1)
    ).first()
    if event is None:
        return ""
    if event.old is not None or event.new is not None:
        what = f"{event.kind} {event.old or '-'} → {event.new or '-'}"
    else:
        what = event.kind
    return f", by {event.actor} ({what})"


def status_side_effects(ticket: Ticket, old: str, new: str, now: datetime) -> None:
    """Solved/closed times and the reopen count follow a status change."""
    if new == "solved":
        ticket.solved_at = now
    elif new == "closed":
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif old in ("solved", "closed"):
        ticket.reopen_count += 1
        ticket.solved_at = None
        ticket.closed_at = None
