"""Hourly roll-ups of the ticket facts, so a long range sums a few rows per hour.

``fact_created_hour`` counts tickets created per UTC hour by channel and queue;
``fact_open_hour`` counts open (not solved or closed) tickets per creation hour by
status. Each holds one set of rows per grouping the report offers from them
(``all``, ``channel``, ``queue``, ``agent``), keyed like the report's groups. Both
count only what never depends on the report's range (when and how a ticket was
created, its current status); a range reads whole hours here and its partial first
and last hours from ``ticket_fact`` (:func:`split`). The facts refresh recomputes the
hours of the tickets it refreshed, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, text

from deskterm.store.dialect.metrics import hour_start
from deskterm.store.types import UTCDateTime

HOUR = timedelta(hours=1)
ROLLUP_GROUPINGS = {
    "all": "'all'",
    "channel": "f.channel",
    "queue": "f.queue",
    "agent": "coalesce(f.assignee, '(unassigned)')",
}
_TABLES = {
    "fact_created_hour": ("channel, queue", "f.channel, f.queue", "1 = 1"),
    "fact_open_hour": ("status", "f.status", "f.done = 0"),
}


def _fill(conn: Connection, hour: str, where: str, params: dict[str, datetime]) -> None:
    for table, (columns, values, only) in _TABLES.items():
        # By position: the hour may be a bound value and the key a constant.
        positions = ", ".join(str(i) for i in range(1, 4 + values.count(",") + 1) if i != 2)
        if params:
            positions = positions.removeprefix("1, ")
        selects = " UNION ALL ".join(
            f"SELECT {hour} AS h, '{name}', {key}, {values}, count(*) FROM ticket_fact f "
            f"WHERE {where} AND {only} AND f.merged_into_id IS NULL GROUP BY {positions}"
            for name, key in ROLLUP_GROUPINGS.items()
        )
        stmt = text(
            f"INSERT INTO {table} (hour_start, grouped, group_key, {columns}, n) {selects}"
        ).bindparams(*(bindparam(n, type_=UTCDateTime()) for n in params))
        conn.execute(stmt, params)


def rebuild(conn: Connection) -> None:
    """Every hour from the facts (after the facts were rebuilt)."""
    for table in _TABLES:
        conn.exec_driver_sql(f"DELETE FROM {table}")
    _fill(conn, hour_start(conn.dialect.name, "f.created_at"), "1 = 1", {})


def refill(conn: Connection, hours: Iterable[datetime]) -> None:
    """Recompute the given hours (their starts) from the facts."""
    for start in sorted(set(hours)):
        params = {"h": start, "h2": start + HOUR}
        for table in _TABLES:
            conn.execute(
                text(f"DELETE FROM {table} WHERE hour_start = :h").bindparams(
                    bindparam("h", type_=UTCDateTime())
                ),
                {"h": start},
            )
        _fill(conn, ":h", "f.created_at >= :h AND f.created_at < :h2", params)


def created_hours(conn: Connection, where: str) -> set[datetime]:
    """The creation hours of the facts matching ``where`` (over ``ticket_fact f``)."""
    stmt = text(f"SELECT f.created_at FROM ticket_fact f WHERE {where}").columns(
        created_at=UTCDateTime()
    )
    return {floor_hour(at) for (at,) in conn.execute(stmt)}


def floor_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def split(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """Whole hours ``[h0, h1)`` inside ``[since, until)``: read from the roll-ups, the
    rest (``[since, h0)`` and ``[h1, until)``) from the facts. ``h0 == h1`` when the
    range holds no whole hour."""
    h0 = floor_hour(since)
    if h0 < since:
        h0 += HOUR
    h1 = max(h0, floor_hour(until))
    return h0, h1
