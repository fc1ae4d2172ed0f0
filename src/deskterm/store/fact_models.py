"""The metrics report's derived tables (see ``deskterm.store.ticket_facts``): one row
per ticket with what the report needs of it, its refresh queue and the hourly roll-ups.
Only the triggers and the refresh write them; ``models`` registers them with the other
tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from deskterm.store.types import UTCDateTime

# The created cohort's index holds what its counts read; the ranked one walks x.
_CREATED = ("created_at", "merged_into_id", "fr_met", "fr_due_from", "breach_from",
            "first_response_s")  # fmt: skip
_RANKED = ("first_response_s", "created_at", "merged_into_id")


def _moment() -> datetime | None:
    """A nullable UTC moment column."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True)  # type: ignore[no-any-return]


class TicketFact(SQLModel, table=True):
    """One row per ticket with what the metrics report needs of it, derived once
    (:mod:`deskterm.store.ticket_facts`) instead of from messages and HEARD steps on
    every report. Mirrored columns keep the ticket's names so a report reads either
    table with the same SQL; ``created_at``/``solved_at`` indexes make a range a scan."""

    __tablename__ = "ticket_fact"
    __table_args__ = (
        Index("ix_ticket_fact_created", *_CREATED),
        # First-response ranks of a range are read by walking this index.
        Index("ix_ticket_fact_first_response", *_RANKED),
        # The same two by agent.
        Index("ix_ticket_fact_agent_created", "assignee", *_CREATED),
        Index("ix_ticket_fact_agent_first_response", "assignee", *_RANKED),
        # Covering: a backlog far in the past scans every later solve.
        Index(
            "ix_ticket_fact_solved",
            "solved_at",
            "created_at",
            "status",
            "merged_into_id",
            "resolution_s",
        ),
        Index("ix_ticket_fact_resolution", "resolution_s", "solved_at", "status", "merged_into_id"),
        Index("ix_ticket_fact_open", "done", "created_at"),
    )

    ticket_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    created_at: datetime = Field(sa_type=UTCDateTime)
    solved_at: datetime | None = _moment()
    first_response_at: datetime | None = _moment()
    status: str = Field(default="new")
    done: int = Field(default=0)  # 1 when solved or closed (indexed with created_at)
    merged_into_id: int | None = Field(default=None)
    channel: str = Field(default="email")
    queue: str = Field(default="general")
    assignee: str | None = Field(default=None)
    customer_id: int | None = Field(default=None)
    reopen_count: int = Field(default=0)
    sla_first_response_due: datetime | None = _moment()
    sla_resolution_due: datetime | None = _moment()
    sla_paused_at: datetime | None = _moment()
    replies: int = Field(default=0)  # public agent replies
    heard_mask: int = Field(default=0)  # bit i set when HEARD step i is done
    early: int = Field(default=0)  # Empathize and Apologize done by Resolve: 2 = both
    first_response_s: float | None = Field(default=None)
    resolution_s: float | None = Field(default=None)
    created_hour: int = Field(default=0)  # UTC, 0-23
    created_weekday: int = Field(default=0)  # UTC, 0 = Monday
    # SLA outcomes that do not depend on a report's range, and the moments from which
    # the ones that do count: in first-response targets decided, and as breached.
    fr_met: int = Field(default=0)
    fr_due_from: datetime | None = _moment()
    breach_from: datetime | None = _moment()
    # 1 when a resolution target was missed before a merge (Ticket.sla_resolution_missed).
    sla_resolution_missed: int = Field(default=0)


class TicketFactDirty(SQLModel, table=True):
    """Tickets whose facts are stale: triggers on ticket, message and heard_step add a
    row in the writing transaction; the next report refreshes those facts and deletes
    exactly the rows it read (see :mod:`deskterm.store.ticket_facts`)."""

    __tablename__ = "ticket_fact_dirty"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field()


class FactCreatedHour(SQLModel, table=True):
    """Tickets created in one UTC hour by channel and queue, per grouping of the report
    (``grouped`` = all/channel/queue/agent, ``group_key`` its value); see
    :mod:`deskterm.store.fact_rollup`."""

    __tablename__ = "fact_created_hour"

    grouped: str = Field(primary_key=True)
    hour_start: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    group_key: str = Field(primary_key=True)
    channel: str = Field(primary_key=True)
    queue: str = Field(primary_key=True)
    n: int = Field(default=0)


class FactOpenHour(SQLModel, table=True):
    """Open tickets created in one UTC hour by status, per grouping (as above)."""

    __tablename__ = "fact_open_hour"

    grouped: str = Field(primary_key=True)
    hour_start: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    group_key: str = Field(primary_key=True)
    status: str = Field(primary_key=True)
    n: int = Field(default=0)
