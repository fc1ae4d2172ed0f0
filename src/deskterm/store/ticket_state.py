"""What ingest knows about one ticket during a batch, and how its changes are written.

The pipeline changes a :class:`TicketState`; the store writes only the difference from
what was read (:func:`update_params` for :data:`UPDATE_TICKET`): counters as
increments, last activity only forward, the first reply only earlier, every other
field group only where the row still holds what was read. So an import never writes
back a stale copy over an agent's change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select, update

from deskterm.store.models import Ticket, TicketTag, table_of

T_TICKET = table_of(Ticket)
T_TAG = table_of(TicketTag)


@dataclass(slots=True)  # an import keeps thousands: no per-instance dict
class TicketState:
    """What the pipeline knows and changes about one ticket during an import."""

    id: int
    status: str
    priority: str
    queue: str
    assignee: str | None
    customer_id: int | None
    channel: str
    updated_at: datetime
    created_at: datetime
    first_response_at: datetime | None = None
    reopen_count: int = 0
    message_count: int = 0
    emotion: str | None = None
    emotion_score: float | None = None
    solved_at: datetime | None = None
    conversation_key: str | None = None
    sla_first_response_due: datetime | None = None
    sla_resolution_due: datetime | None = None
    sla_next_due: datetime | None = None
    sla_warn_at: datetime | None = None
    sla_paused_at: datetime | None = None
    sla_paused_seconds: float = 0.0
    version: int = 1
    add_tags: set[str] = field(default_factory=set)
    dirty: bool = False
    # The values as read (or as this batch inserted them): a write changes a field only
    # where the row still holds them, so nobody's change is overwritten by a stale copy.
    base: dict[str, Any] = field(default_factory=dict, repr=False)
    # Fields someone else changed while this run was going: the run leaves them alone.
    held: frozenset[str] = frozenset()

    def rebase(self) -> None:
        """Take the current values as the stored ones (after they were written)."""
        self.base = {name: getattr(self, name) for name in UPDATED}

    def written(self) -> None:
        """After :data:`UPDATE_TICKET` wrote this state: it is now what the row holds,
        unless someone else wrote too (then the version tells, see ``versions``)."""
        for group in GROUPS:
            if self.held.intersection(group):
                for name in group:
                    setattr(self, name, self.base[name])
        self.version += 1
        self.rebase()

    _COLUMNS = (
        "id", "status", "priority", "queue", "assignee", "customer_id", "channel",
        "updated_at", "created_at", "first_response_at", "reopen_count", "message_count",
        "emotion", "emotion_score", "solved_at", "conversation_key",
        "sla_first_response_due", "sla_resolution_due", "sla_next_due", "sla_warn_at",
        "sla_paused_at", "sla_paused_seconds", "version",
    )  # fmt: skip


STATE_COLUMNS = [T_TICKET.c[name] for name in TicketState._COLUMNS]
# What the pipeline may change on an existing ticket, and how each change is written:
# counters as increments, last activity only forward, the first reply only earlier,
# and every other field group only where the row still holds what the run read
# (a compare-and-set per group: an SLA clock or a reopen is written whole or not at all).
_COUNTERS = ("message_count", "reopen_count")
GROUPS: tuple[tuple[str, ...], ...] = (
    ("status", "solved_at"),
    ("priority",),
    ("queue",),
    ("assignee",),
    ("customer_id",),
    ("emotion", "emotion_score"),
    ("sla_first_response_due", "sla_resolution_due", "sla_next_due", "sla_warn_at",
     "sla_paused_at", "sla_paused_seconds"),
)  # fmt: skip
UPDATED = ("id", "updated_at", "first_response_at", *_COUNTERS, *(n for g in GROUPS for n in g))


def _ticket_update() -> Any:
    """The one statement that writes a batch's ticket changes, on every dialect."""
    c = T_TICKET.c

    def new(name: str) -> Any:
        return bindparam(f"n_{name}", type_=c[name].type)

    values: dict[str, Any] = {name: c[name] + bindparam(f"d_{name}") for name in _COUNTERS}
    values["updated_at"] = case(
        (c.updated_at < new("updated_at"), new("updated_at")), else_=c.updated_at
    )
    first = c.first_response_at
    values["first_response_at"] = case(
        (
            and_(
                new("first_response_at").is_not(None),
                or_(first.is_(None), first > new("first_response_at")),
            ),
            new("first_response_at"),
        ),
        else_=first,
    )
    for group in GROUPS:
        unchanged = and_(
            *(c[n].is_not_distinct_from(bindparam(f"o_{n}", type_=c[n].type)) for n in group)
        )
        for name in group:
            values[name] = case((unchanged, new(name)), else_=c[name])
    values["version"] = c.version + 1
    return update(T_TICKET).where(c.id == bindparam("n_id")).values(values)


def update_params(state: TicketState) -> dict[str, Any]:
    """One row of :data:`UPDATE_TICKET`: what changed since ``state.base``; a held
    field is written as it was read (a no-op)."""
    base = state.base
    row: dict[str, Any] = {"n_id": state.id}
    for name in _COUNTERS:
        row[f"d_{name}"] = getattr(state, name) - base[name]
    for name in ("updated_at", "first_response_at"):
        row[f"n_{name}"] = getattr(state, name)
    for group in GROUPS:
        keep = any(n in state.held for n in group)
        for name in group:
            row[f"o_{name}"] = base[name]
            row[f"n_{name}"] = base[name] if keep else getattr(state, name)
    return row


# Built once: a statement built per call spends more time in SQLAlchemy than in SQLite.
UPDATE_TICKET = _ticket_update()
# A touched ticket's tags take its new sort key (whatever the update left in the row).
RETAG = (
    update(T_TAG)
    .where(T_TAG.c.ticket_id == bindparam("n_id"))
    .values(
        updated_at=select(T_TICKET.c.updated_at)
        .where(T_TICKET.c.id == T_TAG.c.ticket_id)
        .scalar_subquery()
    )
)


def utc(value: Any) -> Any:
    """Datetimes as the store returns them (aware, UTC); anything else unchanged."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def state_of(row: Any) -> TicketState:
    """The state of a ticket row read with :data:`STATE_COLUMNS`."""
    state = TicketState(**{name: row._mapping[name] for name in TicketState._COLUMNS})
    state.rebase()
    return state
