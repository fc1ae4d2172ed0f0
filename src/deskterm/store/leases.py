"""Leases: a named job (syncing one account) held by one process at a time.

A lease is a row with its holder and an expiry; the holder renews it while it works
and deletes it when done, and a lease left by a killed process lapses on its own.
Taking it is one ``INSERT … ON CONFLICT DO UPDATE … WHERE`` (expired, or already
ours), atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from deskterm.store.base import Database
from deskterm.store.dialect.writes import upsert
from deskterm.store.models import Lease, table_of
from deskterm.store.types import utcnow

T_LEASE = table_of(Lease)


@dataclass(frozen=True)
class Holder:
    """Who holds a lease someone else asked for, and until when (unless renewed)."""

    holder: str
    expires_at: datetime


class Leases:
    """Take, renew and give back leases."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(self, name: str, holder: str, ttl: timedelta) -> Holder | None:
        """Take ``name`` for ``holder``: ``None`` when it is now ours, else who has it."""
        now = utcnow()
        with self.db.write_connection() as conn:
            ins = upsert(conn, T_LEASE).values(name=name, holder=holder, expires_at=now + ttl)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=["name"],
                    set_={"holder": holder, "expires_at": now + ttl},
                    where=or_(T_LEASE.c.expires_at < now, T_LEASE.c.holder == holder),
                )
            )
            row = conn.execute(
                select(T_LEASE.c.holder, T_LEASE.c.expires_at).where(T_LEASE.c.name == name)
            ).one()
        return None if row.holder == holder else Holder(row.holder, row.expires_at)

    def renew(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Push the expiry on; false if the lease was lost (it lapsed and was taken)."""
        with self.db.write_connection() as conn:
            result = conn.execute(
                update(T_LEASE)
                .where(T_LEASE.c.name == name, T_LEASE.c.holder == holder)
                .values(expires_at=utcnow() + ttl)
            )
        return bool(result.rowcount)

    def release(self, name: str, holder: str) -> None:
        with self.db.write_connection() as conn:
            conn.execute(delete(T_LEASE).where(T_LEASE.c.name == name, T_LEASE.c.holder == holder))
