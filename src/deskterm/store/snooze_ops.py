"""Snoozed tickets: pending with a reminder, back to open when it is due.

Waking is one indexed probe (``remind_at <= now``) and, when tickets are due, one
bulk action by the actor ``reminder`` (status pending → open with an event each), so
a CLI command or the console's minute re-read can afford to check every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.bulk_ops import BulkOps, Changes, Selection
from deskterm.store.changes import (
    load_ticket,
    log_event,
    new_action_id,
    record_action,
    status_side_effects,
    touch,
)
from deskterm.store.dialect.order import unindexed
from deskterm.store.models import Customer, Ticket
from deskterm.store.sla_clock import SlaClock
from deskterm.store.sorting import SNOOZED
from deskterm.store.types import utcnow

REMINDER = "reminder"  # the actor of wake-ups in the event log


@dataclass(frozen=True)
class Reminder:
    """A snoozed ticket in the Due list."""

    number: int
    subject: str
    customer: str
    assignee: str | None
    remind_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "remind_at": self.remind_at.isoformat()}


class SnoozeOps:
    """Snooze, wake and list reminders."""

    def __init__(self, db: Database, clock: SlaClock, bulk: BulkOps) -> None:
        self.db = db
        self.clock = clock
        self.bulk = bulk

    def snooze(
        self, number: int, until: datetime, actor: str, expected_version: int | None = None
    ) -> Ticket:
        """Set the ticket pending until ``until``; undo takes it back like any change."""
        with self.db.write() as session:
            ticket = load_ticket(session, number, expected_version)
            now = utcnow()
            aid = new_action_id()
            old = ticket.status
            if old != "pending":
                ticket.status = "pending"
                status_side_effects(ticket, old, "pending", now)
                log_event(session, "status", actor=actor, ticket_id=number, old=old,
                          new="pending", at=now, action_id=aid)  # fmt: skip
                self.clock.after_change(session, ticket, "status")
            previous = ticket.remind_at
            ticket.remind_at = until
            log_event(session, "snooze", actor=actor, ticket_id=number,
                      old=previous.isoformat() if previous else None, new=until.isoformat(),
                      at=now, action_id=aid)  # fmt: skip
            touch(session, ticket, now)
            record_action(session, aid, actor, f"snooze until {until:%Y-%m-%d %H:%M} UTC", now)
            return ticket

    def wake(self, now: datetime | None = None) -> list[int]:
        """Reopen every pending ticket whose reminder is due; their numbers."""
        now = now or utcnow()
        with self.db.read() as session:
            due = list(
                session.exec(
                    # On the reminder index: every command runs this on opening the
                    # store, and a third of the tickets may be pending.
                    select(Ticket.id).where(
                        col(Ticket.remind_at) <= now, unindexed(col(Ticket.status)) == "pending"
                    )
                ).all()
            )
        numbers = [n for n in due if n is not None]
        if numbers:
            self.bulk.apply(Selection(numbers=dict.fromkeys(numbers)), Changes(status="open"),
                            REMINDER)  # fmt: skip
        return numbers

    def due(self, limit: int = 200) -> list[Reminder]:
        """Snoozed tickets, soonest reminder first (the Due list)."""
        with self.db.read() as session:
            rows = session.execute(
                sa_select(
                    col(Ticket.id),
                    col(Ticket.subject),
                    col(Customer.name),
                    col(Ticket.assignee),
                    col(Ticket.remind_at),
                )
                .outerjoin(Customer, col(Customer.id) == Ticket.customer_id)
                .where(SNOOZED)
                .order_by(col(Ticket.remind_at))
                .limit(limit)
            ).all()
        return [
            Reminder(n, subject, name or "", assignee, at)
            for n, subject, name, assignee, at in rows
            if n is not None and at is not None
        ]
