"""The :class:`Store`: one object holding the store's parts, each with named methods.

``store.tickets`` (ticket detail and changes), ``store.claims`` (take the next
ticket), ``store.queue`` (pages, counts, search), ``store.customers``,
``store.replies`` (replies and drafts), ``store.workflow`` (merges, escalation,
links, triage results), ``store.sla``, ``store.ingest`` (the pipeline's batched
writes), ``store.leases`` (one sync per account), ``store.checks`` (``db check``),
``store.agents``, ``store.presence`` (who has which ticket open), ``store.kb``
(knowledge-base articles, similar solved tickets), ``store.metrics`` (the report),
``store.satisfaction`` (CSAT/CES/NPS), ``store.bulk_ops`` (changes to many tickets),
``store.undo``, ``store.views`` (saved views), ``store.snooze`` (reminders),
``store.portable`` (export, backup) and ``store.bulk`` (fast generated loads) all
share one :class:`~deskterm.store.base.Database` and one SLA clock.
"""

from __future__ import annotations

import os

from deskterm.store.agents import Agents
from deskterm.store.base import Database
from deskterm.store.bulk import BulkLoad
from deskterm.store.bulk_ops import BulkOps
from deskterm.store.checks import Checks
from deskterm.store.claims import Claims
from deskterm.store.customers import Customers
from deskterm.store.dialect.notify import ChangeWatch
from deskterm.store.ingest_ops import IngestOps
from deskterm.store.kb import KnowledgeBase
from deskterm.store.leases import Leases
from deskterm.store.manual import ManualTickets
from deskterm.store.metrics import Metrics
from deskterm.store.portable import PortableStore
from deskterm.store.presence import Presence
from deskterm.store.queue import QueueQueries
from deskterm.store.replies import Replies
from deskterm.store.satisfaction import Satisfaction
from deskterm.store.sla_clock import SlaClock, SlaRules
from deskterm.store.sla_ops import SlaOps
from deskterm.store.snooze_ops import SnoozeOps
from deskterm.store.tickets import TicketServices
from deskterm.store.undo import UndoOps
from deskterm.store.views import SavedViews
from deskterm.store.workflow import WorkflowOps


class Store:
    """A deskterm store on SQLite or PostgreSQL."""

    def __init__(self, db: Database, *, sla_policy: SlaRules | None = None) -> None:
        self.db = db
        clock = SlaClock(sla_policy)
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
        self.leases = Leases(db)
        self.checks = Checks(db)
        self.portable = PortableStore(db)
        self.bulk = BulkLoad(db)
        self.kb = KnowledgeBase(db)
        self.metrics = Metrics(db, clock)
        self.satisfaction = Satisfaction(db)
        self.bulk_ops = BulkOps(db, clock, self.queue)
        self.undo = UndoOps(db, clock)
        self.views = SavedViews(db)
        self.snooze = SnoozeOps(db, clock, self.bulk_ops)
        self.manual = ManualTickets(db, clock)

    @classmethod
    def open(
        cls,
        target: str | os.PathLike[str] | None = None,
        *,
        upgrade: bool = True,
        sla_policy: SlaRules | None = None,
    ) -> Store:
        """Open (and create or upgrade, unless ``upgrade`` is false) a store.

        Without ``sla_policy`` no SLA clocks are kept; :func:`deskterm.desk.open_store`
        opens one with the configured policy."""
        return cls(Database.open(target, upgrade=upgrade), sla_policy=sla_policy)

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
