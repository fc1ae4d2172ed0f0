"""Per-ticket metrics facts (``ticket_fact``), kept current incrementally.

A report reads one narrow row per ticket instead of counting each ticket's replies
and HEARD steps again. Triggers (:mod:`deskterm.store.dialect.facts`) queue a ticket
in ``ticket_fact_dirty`` in the same transaction as any write that changes its facts;
:func:`refresh`, run before each report, recomputes the queued tickets and deletes
exactly the queue rows it read, in one transaction. A writer that commits later (even
with a lower queue id) leaves its row for the next refresh, so no watermark can skip
a change; with an empty queue the refresh is one indexed read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from deskterm.store import fact_rollup
from deskterm.store.base import Database
from deskterm.store.dialect.facts import analyze_facts, serialize_refresh
from deskterm.store.dialect.metrics import hour_and_weekday, seconds_between
from deskterm.vocab import HEARD_STEPS

# Above this many queued rows, rebuilding every fact is cheaper than row by row.
FULL_REBUILD = 50_000
_CHUNK = 500
_COLUMNS = (
    "ticket_id, created_at, solved_at, first_response_at, status, done, merged_into_id, "
    "channel, queue, assignee, customer_id, reopen_count, sla_first_response_due, "
    "sla_resolution_due, sla_paused_at, replies, heard_mask, early, first_response_s, "
    "resolution_s, created_hour, created_weekday, fr_met, fr_due_from, breach_from, "
    "sla_resolution_missed"
)
_DONE = "t.status IN ('solved', 'closed')"
# Breached whatever the range: answered or solved after the target, or a target
# missed before a merge (the flags merge_tickets sets keep it missed).
_LATE = (
    "(t.first_response_at > t.sla_first_response_due "
    f"OR ({_DONE} AND t.solved_at > t.sla_resolution_due) "
    "OR t.sla_first_response_missed OR t.sla_resolution_missed)"
)
# Breached once a range ends after: an unanswered first-response target, or a running
# (not paused) resolution target of an open ticket.
_FR_WAIT = "CASE WHEN t.first_response_at IS NULL THEN t.sla_first_response_due END"
_RES_WAIT = f"CASE WHEN NOT {_DONE} AND t.sla_paused_at IS NULL THEN t.sla_resolution_due END"


def fact_select(dialect_name: str, where: str) -> str:
    """``INSERT`` of the facts of the tickets matching ``where`` (over ``ticket t``)."""
    bits = " ".join(f"WHEN '{s}' THEN {1 << i}" for i, s in enumerate(HEARD_STEPS))
    hour, weekday = hour_and_weekday(dialect_name, "t.created_at")
    # Replies are counted over the ticket's messages, not filtered by direction in
    # WHERE: without statistics (a new, imported or copied store) both engines took
    # the (direction, ...) index for it, a scan of every reply in the store per ticket.
    return (
        f"INSERT INTO ticket_fact ({_COLUMNS}) SELECT t.id, t.created_at, t.solved_at, "
        "t.first_response_at, t.status, "
        "CASE WHEN t.status IN ('solved', 'closed') THEN 1 ELSE 0 END, t.merged_into_id, "
        "t.channel, t.queue, t.assignee, t.customer_id, t.reopen_count, "
        "t.sla_first_response_due, t.sla_resolution_due, t.sla_paused_at, "
        "(SELECT count(CASE WHEN m.direction = 'outbound' THEN 1 END) FROM message m "
        "WHERE m.ticket_id = t.id), "
        f"(SELECT coalesce(sum(CASE h.step {bits} ELSE 0 END), 0) FROM heard_step h "
        "WHERE h.ticket_id = t.id AND h.done), "
        "(SELECT count(*) FROM heard_step x JOIN heard_step r ON r.ticket_id = x.ticket_id "
        "WHERE x.ticket_id = t.id AND r.step = 'R' AND r.done AND x.step IN ('E', 'A') "
        "AND x.done AND x.done_at <= r.done_at), "
        f"{seconds_between(dialect_name, 't.first_response_at', 't.created_at')}, "
        f"{seconds_between(dialect_name, 't.solved_at', 't.created_at')}, {hour}, {weekday}, "
        "CASE WHEN t.first_response_at <= t.sla_first_response_due "
        "AND NOT t.sla_first_response_missed THEN 1 ELSE 0 END, "
        "CASE WHEN t.sla_first_response_due IS NULL THEN NULL "
        "WHEN t.first_response_at IS NOT NULL OR t.sla_first_response_missed "
        "THEN t.created_at "
        "ELSE t.sla_first_response_due END, "
        f"CASE WHEN {_LATE} THEN t.created_at WHEN ({_FR_WAIT}) IS NULL THEN {_RES_WAIT} "
        f"WHEN ({_RES_WAIT}) IS NULL OR ({_FR_WAIT}) < ({_RES_WAIT}) THEN {_FR_WAIT} "
        f"ELSE {_RES_WAIT} END, "
        "CASE WHEN t.sla_resolution_missed THEN 1 ELSE 0 END "
        f"FROM ticket t WHERE {where}"
    )


def rebuild(conn: Connection) -> None:
    """Every ticket's facts from scratch (the migration, and after bulk loads)."""
    conn.exec_driver_sql("DELETE FROM ticket_fact_dirty")
    conn.exec_driver_sql("DELETE FROM ticket_fact")
    conn.exec_driver_sql(fact_select(conn.dialect.name, "1 = 1"))
    fact_rollup.rebuild(conn)
    analyze_facts(conn)


def refresh(db: Database) -> int:
    """Bring the facts of queued tickets up to date; the number of tickets refreshed."""
    with db.read() as session:
        if (
            session.connection().exec_driver_sql("SELECT 1 FROM ticket_fact_dirty LIMIT 1").first()
            is None
        ):
            return 0
    with db.write_connection() as conn:
        serialize_refresh(conn)
        queued = conn.exec_driver_sql(
            f"SELECT count(*) FROM (SELECT 1 FROM ticket_fact_dirty LIMIT {FULL_REBUILD + 1}) q"
        ).scalar_one()
        if queued > FULL_REBUILD:
            rebuild(conn)
            return int(conn.exec_driver_sql("SELECT count(*) FROM ticket_fact").scalar_one())
        # The rows this statement deletes are exactly the ones refreshed below; rows
        # committed meanwhile stay queued. Later statements see at least their writes.
        rows = conn.exec_driver_sql("DELETE FROM ticket_fact_dirty RETURNING ticket_id")
        ids = sorted({int(r[0]) for r in rows})
        hours: set[datetime] = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ", ".join(str(i) for i in ids[start : start + _CHUNK])
            hours |= fact_rollup.created_hours(conn, f"f.ticket_id IN ({chunk})")
            conn.exec_driver_sql(f"DELETE FROM ticket_fact WHERE ticket_id IN ({chunk})")
            conn.exec_driver_sql(fact_select(conn.dialect.name, f"t.id IN ({chunk})"))
            hours |= fact_rollup.created_hours(conn, f"f.ticket_id IN ({chunk})")
        fact_rollup.refill(conn, hours)
        return len(ids)
