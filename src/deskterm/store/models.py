"""The tables of PRODUCT.md §2, as SQLModel classes.

Indexes follow the queries: the queue sorts by last activity (``updated_at``, ``id``)
under one filter at a time, so each filterable column has an index ending in the sort
key and a page is an index range scan, never a sort. Tags live in their own table with
a copy of the sort key for the same reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Table, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from deskterm.store.dialect.order import name_key
from deskterm.store.fact_models import (  # noqa: F401  (registered with the other tables)
    FactCreatedHour,
    FactOpenHour,
    TicketFact,
    TicketFactDirty,
)
from deskterm.store.types import UTCDateTime, utcnow
from deskterm.vocab import (  # noqa: F401  (re-exported for store users)
    HEARD_NAMES,
    HEARD_STEPS,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
)


def _dt(*, nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)  # type: ignore[no-any-return]


class Customer(SQLModel, table=True):
    """A person or organization contact; identities hang off it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="")
    organization: str | None = Field(default=None, index=True)
    tier: str = Field(default="standard")
    tags: str = Field(default="")  # comma-separated, for display and export
    notes: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id")
    version: int = Field(default=1)


class Identity(SQLModel, table=True):
    """One way to reach a customer: (kind, value), e.g. ("email", "ana@acme.com")."""

    __table_args__ = (
        UniqueConstraint("kind", "value", name="uq_identity_kind_value"),
        # Covering: from:acme.com reads customer ids without touching identity rows.
        Index("ix_identity_domain_customer", "domain", "customer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str
    value: str
    domain: str | None = Field(default=None)  # email identities: for from:acme.com
    display: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# Tickets an agent may take (``store.claims``); a partial index over them keeps "the
# most urgent one" a seek however many tickets are assigned or done.
TAKEABLE_SQL = "assignee IS NULL AND status IN ('new', 'open') AND merged_into_id IS NULL"


class Ticket(SQLModel, table=True):
    """A conversation with a customer that an agent works to a resolution."""

    __table_args__ = (
        Index("ix_ticket_activity", "updated_at", "id"),
        Index("ix_ticket_status_activity", "status", "updated_at", "id"),
        Index("ix_ticket_priority_activity", "priority", "updated_at", "id"),
        Index("ix_ticket_queue_activity", "queue", "updated_at", "id"),
        Index("ix_ticket_assignee_activity", "assignee", "updated_at", "id"),
        Index("ix_ticket_assignee_status_activity", "assignee", "status", "updated_at", "id"),
        Index("ix_ticket_customer_activity", "customer_id", "updated_at", "id"),
        Index("ix_ticket_channel_activity", "channel", "updated_at", "id"),
        Index("ix_ticket_conversation", "conversation_key", "updated_at"),
        # The SLA-due sort seeks (next_due, id); warn_at beside it decides
        # sla:breached,at-risk without reading the row.
        Index("ix_ticket_sla_due", "sla_next_due", "id", "sla_warn_at"),
        # Covers sla:at-risk (warn_at <= now < next_due) without touching the table.
        Index("ix_ticket_sla_warn_at", "sla_warn_at", "sla_next_due"),
        Index("ix_ticket_created", "created_at", "id"),
        Index("ix_ticket_remind_at", "remind_at"),
        Index("ix_ticket_takeable", "priority", "sla_next_due", "created_at",
              sqlite_where=text(TAKEABLE_SQL), postgresql_where=text(TAKEABLE_SQL)),
        # The few merged-away tickets, which reports leave out.
        Index("ix_ticket_merged", "id", sqlite_where=text("merged_into_id IS NOT NULL"),
              postgresql_where=text("merged_into_id IS NOT NULL")),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(default="")
    status: str = Field(default="new")
    priority: str = Field(default="normal")
    queue: str = Field(default="general")
    assignee: str | None = Field(default=None)
    channel: str = Field(default="email")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    conversation_key: str | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: datetime | None = _dt()
    solved_at: datetime | None = _dt()
    closed_at: datetime | None = _dt()
    sla_first_response_due: datetime | None = _dt()
    sla_resolution_due: datetime | None = _dt()
    # SLA clock state (deskterm.sla): the earliest running deadline and when it turns
    # "at risk", both indexed for ``sla:breached|at-risk``; the resolution clock's pause.
    sla_next_due: datetime | None = _dt()
    sla_warn_at: datetime | None = _dt()
    sla_paused_at: datetime | None = _dt()
    sla_paused_seconds: float = Field(default=0.0)
    emotion: str | None = Field(default=None)
    emotion_score: float | None = Field(default=None)
    reopen_count: int = Field(default=0)
    message_count: int = Field(default=0)
    csat: int | None = Field(default=None)
    ces: int | None = Field(default=None)
    nps: int | None = Field(default=None)
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    parent_id: int | None = Field(default=None, foreign_key="ticket.id")
    root_cause: str | None = Field(default=None)
    version: int = Field(default=1)
    remind_at: datetime | None = _dt()  # snoozed: back to open at this time
    # A target missed before a merge (by either ticket): kept missed whatever the
    # clocks say after (store.workflow.merge_tickets, the report's SLA counts).
    sla_first_response_missed: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    sla_resolution_missed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class TicketTag(SQLModel, table=True):
    """A tag on a ticket, with the ticket's sort key copied so tag views page by index."""

    __tablename__ = "ticket_tag"
    __table_args__ = (Index("ix_ticket_tag_activity", "tag", "updated_at", "ticket_id"),)

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    tag: str = Field(primary_key=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketLink(SQLModel, table=True):
    """A relation between two tickets: ``followup`` (reply to a closed one), ``related``,
    ``merged``."""

    __tablename__ = "ticket_link"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    other_id: int = Field(foreign_key="ticket.id", primary_key=True, index=True)
    kind: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    """One message of a conversation, in any channel, with its text already plain."""

    __table_args__ = (
        Index("ix_message_ticket_sent", "ticket_id", "sent_at", "id"),
        Index("ix_message_rfc_id", "message_id"),
        Index("ix_message_in_reply_to", "in_reply_to"),
        Index("ix_message_content_hash", "content_hash"),
        Index("ix_message_emotion", "direction", "emotion", "sent_at", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    direction: str = Field(default="inbound")
    channel: str = Field(default="email")
    author_identity_id: int | None = Field(default=None, foreign_key="identity.id")
    author_name: str = Field(default="")
    author_address: str = Field(default="")
    recipients: str = Field(default="")
    sent_at: datetime = Field(sa_type=UTCDateTime)
    date_source: str = Field(default="header")
    subject: str = Field(default="")
    body: str = Field(default="", sa_type=Text)
    source_key: str = Field(unique=True)
    message_id: str | None = Field(default=None)
    in_reply_to: str | None = Field(default=None)
    references: str = Field(default="", sa_type=Text)
    content_hash: str = Field(default="")
    raw_ref: str | None = Field(default=None)
    delivered: bool = Field(default=True)
    emotion: str | None = Field(default=None)
    emotion_score: float | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReplyDraft(SQLModel, table=True):
    """A reply not sent yet (or whose sending failed), kept so no text is ever lost."""

    __tablename__ = "reply_draft"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    author: str = Field(primary_key=True)
    body: str = Field(default="", sa_type=Text)
    macro: str | None = Field(default=None)
    status_after: str | None = Field(default=None)
    error: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """Metadata of a file that came with a message; ``stored_path`` when it was kept."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(default="")
    content_type: str = Field(default="application/octet-stream")
    size: int = Field(default=0)
    stored_path: str | None = Field(default=None)


class HeardStep(SQLModel, table=True):
    """One HEARD step of one ticket; a missing row means not done."""

    __tablename__ = "heard_step"
    __table_args__ = (
        Index("ix_heard_step_step_done_at", "step", "done_at", "done", "category", "ticket_id"),
    )

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    step: str = Field(primary_key=True, max_length=1)
    done: bool = Field(default=False)
    actor: str | None = Field(default=None)
    done_at: datetime | None = _dt()
    note: str = Field(default="", sa_type=Text)
    category: str | None = Field(default=None)


class NoteVersion(SQLModel, table=True):
    """One saved version of a ticket's resolution notes; versions are never overwritten."""

    __tablename__ = "note_version"
    __table_args__ = (UniqueConstraint("ticket_id", "version", name="uq_note_version"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    version: int
    body: str = Field(default="", sa_type=Text)
    author: str = Field(default="")
    saved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """Append-only log of every change; metrics and audit trails are computed from it."""

    __table_args__ = (
        Index("ix_event_ticket", "ticket_id", "id"),
        Index("ix_event_kind_at", "kind", "at"),
        Index("ix_event_action", "action_id", "kind", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    kind: str
    old: str | None = Field(default=None)
    new: str | None = Field(default=None)
    actor: str = Field(default="system")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    detail: str | None = Field(default=None, sa_type=Text)
    action_id: str | None = Field(default=None)  # groups the events of one action (undo)


class SyncState(SQLModel, table=True):
    """How far an IMAP folder has been read: (UIDVALIDITY, highest UID) per account+folder."""

    __tablename__ = "sync_state"

    account: str = Field(primary_key=True)
    folder: str = Field(primary_key=True)
    uidvalidity: int = Field(default=0)
    last_uid: int = Field(default=0)
    last_sync: datetime | None = _dt()


class ImportFailure(SQLModel, table=True):
    """An input item that could not be imported, with where it was and why."""

    __tablename__ = "import_failure"
    __table_args__ = (
        UniqueConstraint("connector", "source", "position", name="uq_import_failure_where"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connector: str = Field(default="")
    source: str = Field(default="")
    position: str = Field(default="")
    reason: str = Field(default="", sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Agent(SQLModel, table=True):
    """An agent the store knows: who can be assigned, and which queues they work."""

    __table_args__ = (UniqueConstraint("name", name="uq_agent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str = Field(default="")
    queues: str = Field(default="")  # comma-separated
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Presence(SQLModel, table=True):
    """One running console: which agent, which ticket it shows and what they are doing
    there (viewing, replying, notes), refreshed by a heartbeat; stale rows are ignored."""

    client: str = Field(primary_key=True)
    agent: str
    ticket_id: int | None = Field(default=None)
    activity: str = Field(default="viewing")
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Article(SQLModel, table=True):
    """A knowledge-base article as last indexed from its Markdown file.

    The file is the source of truth (git-friendly); this row is its copy for the
    full-text index, found again by ``path`` (relative to the kb folder) and refreshed
    only when ``content_hash`` changes.
    """

    id: int | None = Field(default=None, primary_key=True)
    path: str = Field(unique=True)
    title: str = Field(default="")
    tags: str = Field(default="")  # comma-separated
    audience: str = Field(default="internal")
    updated: str = Field(default="")  # the front matter's date, YYYY-MM-DD
    url: str | None = Field(default=None)
    ticket_id: int | None = Field(default=None)  # the ticket it was drafted from
    body: str = Field(default="", sa_type=Text)
    content_hash: str = Field(default="")
    indexed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Lease(SQLModel, table=True):
    """A named job one process holds until ``expires_at`` (e.g. syncing one account):
    another process sees who holds it and waits, or takes it over once it lapsed."""

    name: str = Field(primary_key=True)
    holder: str = Field(default="")
    expires_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Action(SQLModel, table=True):
    """One agent action (a bulk change, a single change, an undo): its events carry its
    id, so it can be undone as one step."""

    __table_args__ = (Index("ix_action_actor_at", "actor", "at"),)

    id: str = Field(primary_key=True)
    actor: str = Field(default="system")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    label: str = Field(default="")
    count: int = Field(default=0)
    undoes: str | None = Field(default=None)  # the action this one undid
    undone_by: str | None = Field(default=None)


class ActionTicket(SQLModel, table=True):
    """The tickets an action selected (set-based statements join on it)."""

    __tablename__ = "action_ticket"

    action_id: str = Field(primary_key=True)
    ticket_id: int = Field(primary_key=True)


class SavedView(SQLModel, table=True):
    """A named filter (and sort) an agent saved, shown next to the built-in views."""

    __tablename__ = "saved_view"

    name: str = Field(primary_key=True)
    query: str = Field(default="")
    sort: str = Field(default="activity")
    owner: str = Field(default="")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# The customer sort walks names case-folded (deskterm.store.dialect.order).
Index("ix_customer_name_key", name_key(Customer.name), Customer.id)  # type: ignore[arg-type]


def table_of(model: type[SQLModel]) -> Table:
    """A model's Core table, typed: SQLModel sets ``__table__`` only at run time, so
    mypy cannot see it (Core statements built once read faster than ORM ones)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table
