"""The :class:`Store` facade: every part of the store in one object."""

from __future__ import annotations

from deskterm.store.bulk import BulkLoad
from deskterm.store.console import ConsoleQueries
from deskterm.store.customer_merge import CustomerMerge
from deskterm.store.customers import CustomerQueries
from deskterm.store.ingest_ops import IngestOps
from deskterm.store.portable import PortableStore
from deskterm.store.queue import QueueQueries
from deskterm.store.tickets import TicketServices
from deskterm.store.workflow import WorkflowOps


class Store(
    ConsoleQueries,
    WorkflowOps,
    QueueQueries,
    TicketServices,
    CustomerQueries,
    CustomerMerge,
    IngestOps,
    PortableStore,
    BulkLoad,
):
    """A deskterm store on SQLite or PostgreSQL."""
