"""Presence: which agent has which ticket open, and whether they are writing to it.

Each console beats every second or two with its state; a row not refreshed within
:data:`PRESENCE_TTL` is someone who left (a closed terminal never says goodbye).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, update
from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.models import Presence as PresenceRow
from deskterm.store.types import utcnow

PRESENCE_TTL = timedelta(seconds=6)
ACTIVITIES = ("viewing", "replying", "notes")


@dataclass(frozen=True)
class Seen:
    """Another agent's console, as the queue and the ticket header show it."""

    agent: str
    ticket_id: int | None
    activity: str


class Presence:
    """Heartbeats in, other agents' presence out."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def beat(self, client: str, agent: str, ticket_id: int | None, activity: str) -> None:
        """Say this console (``client``) is alive, showing ``ticket_id`` (or the queue)."""
        now = utcnow()
        values = {"agent": agent, "ticket_id": ticket_id, "activity": activity, "seen_at": now}
        with self.db.write() as session:
            done = session.execute(
                update(PresenceRow).where(col(PresenceRow.client) == client).values(**values)
            )
            if not getattr(done, "rowcount", 0):
                session.add(
                    PresenceRow(
                        client=client,
                        agent=agent,
                        ticket_id=ticket_id,
                        activity=activity,
                        seen_at=now,
                    )
                )
                # Rows of consoles long gone would only grow the table.
                session.execute(
                    delete(PresenceRow).where(col(PresenceRow.seen_at) < now - timedelta(hours=1))
                )

    def leave(self, client: str) -> None:
        """This console is closing: it stops showing up at once, not after the TTL."""
        with self.db.write() as session:
            session.execute(delete(PresenceRow).where(col(PresenceRow.client) == client))

    def others(self, client: str) -> list[Seen]:
        """Every other live console, most recent first."""
        with self.db.read() as session:
            rows = session.exec(
                select(PresenceRow)
                .where(_live(), col(PresenceRow.client) != client)
                .order_by(col(PresenceRow.seen_at).desc())
            ).all()
        return [Seen(r.agent, r.ticket_id, r.activity) for r in rows]

    def anyone_here(self) -> bool:
        """Whether any console is open on the store (a live heartbeat): an import then
        keeps its transactions short, as their saves would wait behind it."""
        with self.db.read() as session:
            return (
                session.exec(select(PresenceRow.client).where(_live()).limit(1)).first() is not None
            )


def _live() -> ColumnElement[bool]:
    """A heartbeat within :data:`PRESENCE_TTL`: the console is still there."""
    return col(PresenceRow.seen_at) >= utcnow() - PRESENCE_TTL
