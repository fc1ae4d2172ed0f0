"""Triggers that mark a ticket's metrics facts stale, for each engine.

Every write that can change a ticket's facts (the ticket's own columns, its messages,
its HEARD steps) adds the ticket to ``ticket_fact_dirty`` in the same transaction, so
a committed change is always either refreshed or still queued; no write path has to
remember to do it.
"""

from __future__ import annotations

from sqlalchemy import Connection

from deskterm.store.dialect import is_sqlite

# Ticket columns the facts copy or derive from (other updates leave facts alone).
_TICKET_COLUMNS = (
    "status, queue, assignee, channel, customer_id, created_at, first_response_at, "
    "solved_at, sla_first_response_due, sla_resolution_due, sla_paused_at, reopen_count, "
    "merged_into_id, sla_first_response_missed, sla_resolution_missed"
)
_MARK = "INSERT INTO ticket_fact_dirty(ticket_id) VALUES"
_SQLITE = {
    "fact_ticket_ai": f"AFTER INSERT ON ticket BEGIN {_MARK} (new.id); END",
    "fact_ticket_au": f"AFTER UPDATE OF {_TICKET_COLUMNS} ON ticket BEGIN {_MARK} (new.id); END",
    "fact_ticket_ad": f"AFTER DELETE ON ticket BEGIN {_MARK} (old.id); END",
    **{
        f"fact_{table}_ai": f"AFTER INSERT ON {table} BEGIN {_MARK} (new.ticket_id); END"
        for table in ("message", "heard_step")
    },
    **{
        f"fact_{table}_au": (
            f"AFTER UPDATE ON {table} BEGIN {_MARK} (new.ticket_id); {_MARK} (old.ticket_id); END"
        )
        for table in ("message", "heard_step")
    },
    **{
        f"fact_{table}_ad": f"AFTER DELETE ON {table} BEGIN {_MARK} (old.ticket_id); END"
        for table in ("message", "heard_step")
    },
}
_PG_FUNCTIONS = {
    "deskterm_fact_ticket": f"""
        CREATE FUNCTION deskterm_fact_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN {_MARK} (OLD.id); ELSE {_MARK} (NEW.id); END IF;
          RETURN NULL;
        END $$""",
    "deskterm_fact_child": f"""
        CREATE FUNCTION deskterm_fact_child() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'DELETE' THEN {_MARK} (NEW.ticket_id); END IF;
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.ticket_id <> NEW.ticket_id) THEN
            {_MARK} (OLD.ticket_id);
          END IF;
          RETURN NULL;
        END $$""",
}
_PG_TRIGGERS = {
    "fact_ticket_ai": "AFTER INSERT ON ticket FOR EACH ROW EXECUTE FUNCTION deskterm_fact_ticket()",
    "fact_ticket_au": (
        f"AFTER UPDATE OF {_TICKET_COLUMNS} ON ticket "
        "FOR EACH ROW EXECUTE FUNCTION deskterm_fact_ticket()"
    ),
    "fact_ticket_ad": "AFTER DELETE ON ticket FOR EACH ROW EXECUTE FUNCTION deskterm_fact_ticket()",
    "fact_message": (
        "AFTER INSERT OR UPDATE OR DELETE ON message "
        "FOR EACH ROW EXECUTE FUNCTION deskterm_fact_child()"
    ),
    "fact_heard_step": (
        "AFTER INSERT OR UPDATE OR DELETE ON heard_step "
        "FOR EACH ROW EXECUTE FUNCTION deskterm_fact_child()"
    ),
}
# Any constant: refreshes of the facts take this transaction-level lock in turn.
_REFRESH_LOCK = 730_130_013


def install_fact_triggers(conn: Connection) -> None:
    """Create the mark-stale triggers (used by the migration)."""
    if is_sqlite(conn):
        for name, body in _SQLITE.items():
            conn.exec_driver_sql(f"CREATE TRIGGER {name} {body}")
        return
    for ddl in _PG_FUNCTIONS.values():
        conn.exec_driver_sql(ddl)
    for name, body in _PG_TRIGGERS.items():
        conn.exec_driver_sql(f"CREATE TRIGGER {name} {body}")


def drop_fact_triggers(conn: Connection) -> None:
    """Remove the triggers (the migration's downgrade)."""
    if is_sqlite(conn):
        for name in _SQLITE:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        return
    for name, body in _PG_TRIGGERS.items():
        table = body.split(" ON ", 1)[1].split()[0]
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for fn in _PG_FUNCTIONS:
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}()")


def serialize_refresh(conn: Connection) -> None:
    """Make concurrent refreshes take turns (SQLite's write lock already does): two
    overlapping ones could otherwise write an older snapshot's facts over newer ones."""
    if not is_sqlite(conn):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_REFRESH_LOCK})")


def analyze_facts(conn: Connection) -> None:
    """Give PostgreSQL's planner statistics for freshly filled fact tables (without
    them it scans the whole table instead of a range); SQLite plans without any."""
    if not is_sqlite(conn):
        for table in ("ticket_fact", "fact_created_hour", "fact_open_hour"):
            conn.exec_driver_sql(f"ANALYZE {table}")
