"""The :class:`Store`: one object holding the store's parts, each with named methods.

``store.tickets`` (ticket detail and changes), ``store.claims`` (take the next
ticket), ``store.queue`` (pages, counts, search), ``store.customers``,
``store.replies`` (replies and drafts), ``store.workflow`` (merges, escalation,
links, triage results), ``store.sla``, ``store.ingest`` (the pipeline's batched
writes), ``store.agents``, ``store.presence`` (who has which ticket open),
``store.portable`` (export, backup), ``store.bulk`` (fast generated loads),
``store.bulk_ops`` (changes to many tickets), ``store.undo`` and ``store.views``
(saved views) and ``store.snooze`` (reminders) all
share one :class:`~deskterm.store.base.Database` and one SLA clock.
"""

from __future__ import annotations

import os

from deskterm.store.agents import Agents
from deskterm.store.base import Database
from deskterm.store.bulk import BulkLoad
from deskterm.store.bulk_ops import BulkOps
from deskterm.store.claims import Claims
from deskterm.store.customers import Customers
from deskterm.store.dialect import ChangeWatch
from deskterm.store.ingest_ops import IngestOps
from deskterm.store.portable import PortableStore
from deskterm.store.presence import Presence
from deskterm.store.queue import QueueQueries
from deskterm.store.replies import Replies
from deskterm.store.sla_clock import SlaClock
from deskterm.store.sla_ops import SlaOps
from deskterm.store.snooze_ops import SnoozeOps
from deskterm.store.tickets import TicketServices
from deskterm.store.undo import UndoOps
from deskterm.store.views import SavedViews
from deskterm.store.workflow import WorkflowOps


class Store:
    """A deskterm store on SQLite or PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        clock = SlaClock()
        self.queue = QueueQueries(db, clock)
        self.sla = SlaOps(db, clock, self.queue)
        self.tickets = TicketServices(db, clock)
        self.claims = Claims(db, self.queue)
        self.customers = Customers(db, clock)
        self.replies = Replies(db, clock)
        self.workflow = WorkflowOps(db, clock, self.queue)
        self.ingest = IngestOps(db)
        self.agents = Agents(db)
        self.presence = Presence(db)
        self.portable = PortableStore(db)
        self.bulk = BulkLoad(db)
        self.bulk_ops = BulkOps(db, clock, self.queue)
        self.undo = UndoOps(db, clock)
        self.views = SavedViews(db)
        self.snooze = SnoozeOps(db, clock, self.bulk_ops)

    @classmethod
    def open(cls, target: str | os.PathLike[str] | None = None, *, upgrade: bool = True) -> Store:
        """Open (and create or upgrade, unless ``upgrade`` is false) a store."""
        return cls(Database.open(target, upgrade=upgrade))

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def location(self) -> str:
        """The store's path or password-free URL."""
        return self.db.location

    def watch(self) -> ChangeWatch:
        """A watch that wakes when another process commits (see :class:`ChangeWatch`);
        the caller closes it."""
        return ChangeWatch(self.db.engine)

    def close(self) -> None:
        self.db.close()
