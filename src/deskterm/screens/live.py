"""Team awareness in the console: who else has which ticket open, and changes made
by other agents, imports and syncs, shown within a couple of seconds.

One thread worker per console waits on the store's
:class:`~deskterm.store.dialect.notify.ChangeWatch` (``PRAGMA data_version`` on SQLite,
``LISTEN`` on PostgreSQL), sends this console's heartbeat, and reads the others'. When
tickets changed it tells the app, which has the current screen re-read what it shows
(at most every :data:`MIN_REREAD` seconds, so an import committing batch after batch
does not keep the queue busy).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from typing import TYPE_CHECKING, Protocol

from textual.message import Message
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from deskterm.settings import Settings
    from deskterm.store import Store
    from deskterm.store.presence import Seen


class Console(Protocol):
    """What the feed needs of the app (the app holds the feed, not the other way)."""

    store: Store
    config: Settings
    agent_configured: bool

    def post_message(self, message: Message) -> bool: ...


BEAT = 1.0  # seconds between heartbeats (others expire us after PRESENCE_TTL)
MIN_REREAD = 1.0
WRITING = {"replying": "replying", "notes": "writing notes"}


class StoreChanged(Message):
    """Tickets changed in the store (by anyone); the current screen should re-read."""


class PresenceChanged(Message):
    """Other agents opened, left or started writing to a ticket."""


class Live:
    """The console's presence and change feed (owned by the app)."""

    def __init__(self, app: Console) -> None:
        self.app = app
        self.client = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.state: tuple[int | None, str] = (None, "viewing")
        self.by_ticket: dict[int, list[Seen]] = {}

    def show(self, ticket: int | None, activity: str = "viewing") -> None:
        """What this agent is doing now (screens call this; the worker publishes it)."""
        self.state = (ticket, activity)

    def marker(self, number: int) -> str:
        """``✎`` when another agent writes to the ticket, ``●`` when one has it open."""
        seen = self.by_ticket.get(number)
        if not seen:
            return " "
        return "✎" if any(s.activity in WRITING for s in seen) else "●"

    def describe(self, number: int) -> str:
        """ "Ben is replying · Cy is viewing" for the ticket header ("" when alone)."""
        parts = []
        for s in self.by_ticket.get(number, []):
            doing = WRITING.get(s.activity, "viewing")
            parts.append(f"{s.agent} is {doing}")
        return " · ".join(dict.fromkeys(parts))

    def run(self) -> None:
        """The feed's loop (the app runs it in a thread worker of group ``live``)."""
        store, agent = self.app.store, self.app.config.agent.name
        worker = get_current_worker()
        if self.app.agent_configured:  # the store learns who works on it
            store.agents.add_agent(agent, self.app.config.agent.email)
        watch = store.watch()
        mark = store.queue.watermark()
        sent: tuple[int | None, str] | None = None
        next_beat = 0.0
        try:
            while not worker.is_cancelled:
                changed = watch.wait(max(0.05, next_beat - time.monotonic()))
                state = self.state
                if state != sent or time.monotonic() >= next_beat:
                    store.presence.beat(self.client, agent, *state)
                    sent, next_beat = state, time.monotonic() + BEAT
                    self._read_others()
                elif changed:
                    self._read_others()
                if changed and (now := store.queue.watermark()) != mark:
                    mark = now
                    self.app.post_message(StoreChanged())
        finally:
            watch.close()
            store.presence.leave(self.client)

    def _read_others(self) -> None:
        by_ticket: dict[int, list[Seen]] = {}
        for seen in self.app.store.presence.others(self.client):
            if seen.ticket_id is not None:
                by_ticket.setdefault(seen.ticket_id, []).append(seen)
        if by_ticket != self.by_ticket:
            self.by_ticket = by_ticket
            self.app.post_message(PresenceChanged())
