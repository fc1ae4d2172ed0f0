"""One line of the queue as every order reads it: the columns, and the row type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col

from deskterm.store.models import Customer, Ticket

PAGE = 50


@dataclass(frozen=True)
class TicketRow:
    """One line of the queue."""

    number: int
    subject: str
    status: str
    priority: str
    queue: str
    assignee: str | None
    customer: str
    customer_id: int | None
    channel: str
    created_at: datetime
    updated_at: datetime
    emotion: str | None
    sla_first_response_due: datetime | None
    sla_resolution_due: datetime | None
    first_response_at: datetime | None
    message_count: int
    sla_next_due: datetime | None = None  # see deskterm.sla.status() for the countdown
    sla_warn_at: datetime | None = None
    sla_paused_at: datetime | None = None
    version: int = 0  # what a change from the queue expects (marks, bulk actions)
    remind_at: datetime | None = None  # snoozed until then (with status pending)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


@dataclass(frozen=True)
class Page:
    """Rows plus the cursor that fetches the next page (``None`` at the end)."""

    rows: list[TicketRow]
    next: Any = None


ROW_COLUMNS: tuple[Any, ...] = (
    col(Ticket.id).label("number"),
    col(Ticket.subject),
    col(Ticket.status),
    col(Ticket.priority),
    col(Ticket.queue),
    col(Ticket.assignee),
    func.coalesce(Customer.name, "").label("customer"),
    col(Ticket.customer_id),
    col(Ticket.channel),
    col(Ticket.created_at),
    col(Ticket.updated_at),
    col(Ticket.emotion),
    col(Ticket.sla_first_response_due),
    col(Ticket.sla_resolution_due),
    col(Ticket.first_response_at),
    col(Ticket.message_count),
    col(Ticket.sla_next_due),
    col(Ticket.sla_warn_at),
    col(Ticket.sla_paused_at),
    col(Ticket.version),
    col(Ticket.remind_at),
)


def to_row(mapping: Any) -> TicketRow:
    return TicketRow(**dict(mapping))
