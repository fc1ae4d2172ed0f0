"""Tickets read ahead of time, so opening one shows it at once.

While the cursor rests on a row (or a ticket is open and ``]`` would go next), the
screen reads that ticket in a worker and keeps it here for a short while. Entries are
tied to the app's change serial: any change made from the console makes them stale.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from textual.dom import DOMNode

from deskterm.store import Store
from deskterm.store.customers import CustomerProfile
from deskterm.store.tickets import TicketDetail

PREFETCH_DELAY = 0.12  # seconds the cursor rests on a row before its ticket is read
MAX_AGE = 30.0  # seconds an entry may be shown without reading the ticket again
SIZE = 16
HISTORY = 30  # tickets of the customer shown in the profile panel (c shows all)
RATED = 3  # satisfaction responses shown in the profile (the customer screen shows all)


@dataclass(frozen=True)
class TicketData:
    """What the ticket screen shows, read in one go."""

    detail: TicketDetail
    profile: CustomerProfile | None
    emotion_cues: tuple[str, ...] = ()  # why the ticket's emotion (HEARD panel)


def read_ticket(store: Store, number: int) -> TicketData:
    """The ticket and its customer's profile (blocking: call it from a worker)."""
    detail = store.tickets.get_ticket(number)
    customer_id = detail.ticket.customer_id
    profile = (
        store.customers.get_customer(customer_id, ticket_limit=HISTORY + 1, rating_limit=RATED)
        if customer_id
        else None
    )
    latest = next(
        (m for m in reversed(detail.messages) if m.direction == "inbound" and m.emotion), None
    )
    cues: tuple[str, ...] = ()
    emotion = detail.ticket.emotion
    if latest is not None and latest.emotion == emotion and detail.ticket.emotion_score is not None:
        from deskterm.emotion import explain

        cues = explain(latest.body, latest.subject, latest.emotion)
    elif emotion is not None and detail.ticket.emotion_score is None:
        cues = ("set by an agent",)  # a correction carries no model strength
    return TicketData(detail, profile, cues)


class TicketCache:
    """A small LRU of recently read tickets (used from the event loop only)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[int, tuple[int, float, TicketData]] = OrderedDict()

    def get(self, number: int, serial: int) -> TicketData | None:
        entry = self._entries.get(number)
        if entry is None:
            return None
        stored_serial, at, data = entry
        if stored_serial != serial or time.monotonic() - at > MAX_AGE:
            del self._entries[number]
            return None
        self._entries.move_to_end(number)
        return data

    def put(self, number: int, serial: int, data: TicketData) -> None:
        self._entries[number] = (serial, time.monotonic(), data)
        self._entries.move_to_end(number)
        while len(self._entries) > SIZE:
            self._entries.popitem(last=False)

    def __contains__(self, number: int) -> bool:
        return number in self._entries


class Prefetch(Protocol):
    """What :func:`prefetch` needs from the app."""

    store: Store
    ticket_cache: TicketCache
    change_serial: int

    def call_from_thread(self, callback: Any, *args: Any) -> Any: ...


def prefetch(node: DOMNode, desk: Prefetch, number: int) -> None:
    """Read ``number`` into the cache in a worker of ``node`` (unless it is there)."""
    if number in desk.ticket_cache:
        return
    serial = desk.change_serial

    def read() -> None:
        data = read_ticket(desk.store, number)
        desk.call_from_thread(desk.ticket_cache.put, number, serial, data)

    node.run_worker(read, thread=True, exclusive=True, group="prefetch", exit_on_error=False)
