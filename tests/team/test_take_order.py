"""Which ticket ``take`` gives, and that finding it is a seek on both engines: the most
urgent priority, then the SLA due soonest, then tickets with no due time, oldest first;
a view's conditions narrow it (issue 11)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from deskterm.query import TicketFilter
from deskterm.store import Store
from tests.store.helpers import T0, tickets_for


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    sqlite = request.param == "sqlite"
    s = Store.open(str(tmp_path / "take.db") if sqlite else request.getfixturevalue("pg_url"))
    yield s
    s.close()


def _due(store: Store, number: int, hours: float | None) -> None:
    """Give a ticket an SLA due time (test set-up: the SLA rules are not under test)."""
    due = None if hours is None else T0 + timedelta(hours=hours)
    with store.db.write_connection() as conn:
        conn.execute(
            text("UPDATE ticket SET sla_next_due = :due WHERE id = :id"), {"due": due, "id": number}
        )


def test_take_order_is_priority_then_due_then_oldest(store: Store) -> None:
    a, b, c, d, e, f = tickets_for(store, 6)
    for number in (a, b, c, d, e, f):
        _due(store, number, None)
    _due(store, c, 5)
    _due(store, d, 2)
    store.tickets.set_priority(f, "high", "lead")
    store.tickets.set_priority(e, "low", "lead")
    store.tickets.set_status(b, "pending", "lead")  # not takeable
    order = [store.claims.take_next("Ana") for _ in range(6)]
    assert order == [f, d, c, a, e, None]
    assert {store.tickets.get_ticket(n).ticket.assignee for n in (a, c, d, e, f)} == {"Ana"}
    assert store.tickets.get_ticket(b).ticket.assignee is None


def test_take_keeps_to_the_view(store: Store) -> None:
    first, second, third = tickets_for(store, 3)
    store.tickets.set_queue(second, "billing", "lead")
    store.tickets.set_queue(third, "billing", "lead")
    store.tickets.set_priority(first, "urgent", "lead")
    billing = TicketFilter(queue=("billing",))
    assert store.claims.take_next("Ana", billing) == second
    assert store.claims.take_next("Ben", billing) == third
    assert store.claims.take_next("Ben", billing) is None
    assert store.claims.take_next("Ben") == first


def test_take_search_seeks_the_takeable_index(store: Store) -> None:
    # The partial index is only usable when the query implies its WHERE; a bound
    # parameter where the index has a literal would silently sort every open ticket.
    tickets_for(store, 3)
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT ticket.id") and "LIMIT" in statement:
            seen.append((statement, params))

    event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        store.claims.take_next("Ana", TicketFilter(queue=("general",)))
    finally:
        event.remove(store.db.engine, "before_cursor_execute", capture)
    assert seen
    statement, params = seen[0]
    with store.db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        else:  # a 3-row table is scanned anyway; ask whether the index could serve
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, params)
        plan = "\n".join(str(row[-1]) for row in rows)
    assert "ix_ticket_takeable" in plan, plan
