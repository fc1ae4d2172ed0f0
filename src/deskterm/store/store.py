"""The :class:`Store`: one object holding the store's parts, each with named methods.

``store.tickets`` (ticket detail and changes), ``store.queue`` (pages, counts, search),
``store.customers``, ``store.workflow`` (replies, drafts, merges, links, triage
results), ``store.sla``, ``store.ingest`` (the pipeline's batched writes),
``store.leases`` (one sync per account), ``store.checks`` (``db check``),
``store.portable`` (export, backup) and ``store.bulk`` (fast generated loads) all share
one :class:`~deskterm.store.base.Database` and one SLA clock.
"""

from __future__ import annotations

import os

from deskterm.store.base import Database
from deskterm.store.bulk import BulkLoad
from deskterm.store.checks import Checks
from deskterm.store.customers import Customers
from deskterm.store.ingest_ops import IngestOps
from deskterm.store.leases import Leases
from deskterm.store.portable import PortableStore
from deskterm.store.queue import QueueQueries
from deskterm.store.sla_clock import SlaClock
from deskterm.store.sla_ops import SlaOps
from deskterm.store.tickets import TicketServices
from deskterm.store.workflow import WorkflowOps


class Store:
    """A deskterm store on SQLite or PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        clock = SlaClock()
        self.queue = QueueQueries(db, clock)
        self.sla = SlaOps(db, clock, self.queue)
        self.tickets = TicketServices(db, clock)
        self.customers = Customers(db, clock)
        self.workflow = WorkflowOps(db, clock, self.queue)
        self.ingest = IngestOps(db)
        self.leases = Leases(db)
        self.checks = Checks(db)
        self.portable = PortableStore(db)
        self.bulk = BulkLoad(db)

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

    def close(self) -> None:
        self.db.close()
