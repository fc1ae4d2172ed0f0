"""The store: the only package that talks SQL.

``Store.open(target)`` gives one object whose parts (``store.tickets``,
``store.queue``, ``store.customers``, ``store.workflow``, ``store.sla``,
``store.ingest``, ``store.portable``, ``store.bulk``) have named methods for
everything the CLI, the console and the ingest pipeline need. The parts live in the
modules beside this one and share one :class:`~deskterm.store.base.Database`.

Names are loaded on first use, so importing ``deskterm.store.errors`` (as the CLI
does at start-up) does not pull in SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from deskterm.store.errors import Conflict, InvalidValue, NotFound, StoreError

if TYPE_CHECKING:
    from deskterm.store.queue import Page, TicketRow
    from deskterm.store.store import Store
    from deskterm.store.tickets import TicketDetail

_LAZY = {
    "Store": "deskterm.store.store",
    "Page": "deskterm.store.queue",
    "TicketRow": "deskterm.store.queue",
    "TicketDetail": "deskterm.store.tickets",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Conflict",
    "InvalidValue",
    "NotFound",
    "Page",
    "Store",
    "StoreError",
    "TicketDetail",
    "TicketRow",
]
