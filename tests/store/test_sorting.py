"""Queue sorts: every order, under filters, paged both ways across ties, gives the
same tickets in the same order on SQLite and on a real PostgreSQL as a plain Python
sort of the same rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from deskterm.query import parse_query
from deskterm.store import Store
from deskterm.store.models import Customer, Ticket, TicketTag
from deskterm.store.queue import TicketRow
from deskterm.vocab import SORTS
from tests.store.helpers import T0, ingest, mail

NOW = T0 + timedelta(days=3)
NAMES = ["ana", "Ana", "Bob", "Émile", "zoë", "Zed", "", "bob", "Ana"]
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _fill(store: Store) -> Store:
    """27 tickets of 9 customers (two nameless-ish, one with none), in three groups
    that share their activity and creation times, SLA clocks some breached, some at
    risk, some none; three snoozed; tags on some."""
    records = [
        mail(f"c{i % 9}@x.org", f"Ticket {i}", f"Body {i}", name=f"n{i % 9}",
             minutes=i, message_id=f"<t{i}@sort>")
        for i in range(27)
    ]  # fmt: skip
    ingest(store, *records)
    with store.db.write() as session:
        for cid, name in enumerate(NAMES, 1):
            session.execute(update(Customer).where(col(Customer.id) == cid).values(name=name))
        ids = sorted(session.execute(select(col(Ticket.id))).scalars())
        for n, number in enumerate(ids):
            at = T0 + timedelta(hours=n % 3)  # ties: nine tickets share each time
            values: dict[str, Any] = {
                "updated_at": at,
                "created_at": T0 - timedelta(days=n % 4),
                "priority": ("low", "normal", "high", "urgent")[n % 4],
                "status": ("new", "open", "pending", "solved")[n % 4],
            }
            if n % 5 != 4:
                due = NOW + timedelta(hours=(n % 7) - 3)  # ties, past and future
                values |= {"sla_next_due": due, "sla_warn_at": due - timedelta(hours=2)}
            if n % 4 == 2 and n % 3 == 0:
                values["remind_at"] = NOW + timedelta(days=n % 2)  # pending: snoozed
            if n == 13:
                values["customer_id"] = None
            session.execute(update(Ticket).where(col(Ticket.id) == number).values(**values))
            if n % 3 == 1:
                session.add(TicketTag(ticket_id=number, tag="vip", updated_at=at))
    store.queue.clock.use_clock(lambda: NOW)
    return store


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(Path(tmp_path_factory.mktemp("sorting")) / "store.db")
    yield _fill(store)
    store.close()


@pytest.fixture(scope="module")
def pg_store(pg_module_url: str) -> Iterator[Store]:
    store = Store.open(pg_module_url)
    yield _fill(store)
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest) -> Store:
    store: Store = request.getfixturevalue(f"{request.param}_store")
    return store


def _fold(name: str) -> str:
    """ASCII-only case folding, as the store's name key does."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in name)


def _desc(row: TicketRow) -> tuple[float, int]:
    return (-row.updated_at.timestamp(), -row.number)


EXPECTED_ORDER: dict[str, Callable[[TicketRow], tuple[Any, ...]]] = {
    "activity": _desc,
    "created": lambda r: (-r.created_at.timestamp(), -r.number),
    "priority": lambda r: (PRIORITY_RANK[r.priority], *_desc(r)),
    "sla": lambda r: (
        (0, r.sla_next_due.timestamp(), r.number) if r.sla_next_due else (1, *_desc(r))
    ),
    "customer": lambda r: (
        (0, _fold(r.customer), r.customer_id or 0, r.number)
        if r.customer
        else ((1, r.customer_id, r.number) if r.customer_id else (2, r.number))
    ),
    "reminder": lambda r: (
        (0, r.remind_at.timestamp(), r.number)
        if r.remind_at and r.status == "pending"
        else (1, *_desc(r))
    ),
}
FILTERS = ["", "status:new,open", "tag:vip", "priority:high,urgent", "sla:breached,at-risk",
           "sla:at-risk", "snoozed:yes", "from:c2@x.org,c4@x.org"]  # fmt: skip


def _forward(store: Store, query: str, sort: str, size: int) -> list[int]:
    f, cursor = parse_query(query), None
    out: list[int] = []
    while True:
        page = store.queue.list_tickets(f, after=cursor, limit=size, sort=sort)
        out.extend(r.number for r in page.rows)
        if page.next is None:
            return out
        cursor = page.next


def _backward(store: Store, query: str, sort: str, size: int) -> list[int]:
    f, before = parse_query(query), None
    out: list[int] = []
    while True:
        rows = store.queue.list_tickets_before(f, before, size, sort=sort)
        out = [r.number for r in rows] + out
        if len(rows) < size:
            return out
        before = store.queue.cursor(rows[0], sort)


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("query", FILTERS)
def test_each_sort_pages_both_ways_like_a_python_sort(
    any_store: Store, query: str, sort: str
) -> None:
    everything = any_store.queue.list_tickets(parse_query(query), limit=1000).rows
    expected = [r.number for r in sorted(everything, key=EXPECTED_ORDER[sort])]
    assert expected, query
    assert _forward(any_store, query, sort, 1000) == expected
    assert _forward(any_store, query, sort, 2) == expected  # pages end inside ties
    assert _backward(any_store, query, sort, 2) == expected
    # The console re-reads from a row: an inclusive cursor starts the page on it.
    rows = any_store.queue.list_tickets(parse_query(query), limit=1000, sort=sort).rows
    middle = rows[len(rows) // 2]
    again = any_store.queue.list_tickets(
        parse_query(query), any_store.queue.cursor(middle, sort, inclusive=True), 3, sort
    )
    assert [r.number for r in again.rows] == expected[len(rows) // 2 :][:3]


def test_sla_sort_puts_breached_first_then_least_time_left(sqlite_store: Store) -> None:
    rows = sqlite_store.queue.list_tickets(parse_query("sla:breached,at-risk"), sort="sla").rows
    dues = [r.sla_next_due for r in rows]
    assert dues == sorted(d for d in dues if d)
    breached = [d is not None and d <= NOW for d in dues]
    assert breached[0] and not breached[-1] and breached == sorted(breached, reverse=True)


def test_unknown_sort_is_one_sentence(sqlite_store: Store) -> None:
    with pytest.raises(ValueError, match="Sort by one of activity, created"):
        sqlite_store.queue.list_tickets(sort="size")


def _plans(store: Store, query: str, sort: str, cursor: Any) -> list[str]:
    """SQLite's plans of the statements one page of ``sort`` runs."""
    from sqlalchemy import event

    statements: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "LIMIT" in statement:
            statements.append((statement, parameters))

    event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        store.queue.list_tickets(parse_query(query), cursor, 2, sort)
    finally:
        event.remove(store.db.engine, "before_cursor_execute", capture)
    with store.db.engine.connect() as conn:
        return [
            "\n".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, p))
            for sql, p in statements
        ]


@pytest.mark.parametrize(
    ("sort", "index"),
    [("created", "ix_ticket_created"), ("sla", "ix_ticket_sla_due"),
     ("customer", "ix_customer_name_key"), ("reminder", "ix_ticket_remind_at"),
     ("priority", "ix_ticket_priority_activity")],
)  # fmt: skip
@pytest.mark.parametrize("query", ["", "status:new,open", "sla:breached,at-risk"])
def test_sort_pages_walk_their_index_and_never_sort_the_table(
    sqlite_store: Store, query: str, sort: str, index: str
) -> None:
    """Without statistics SQLite would rather filter on the status index and sort a
    third of the tickets; every page must read its sort's own index in order."""
    first = sqlite_store.queue.list_tickets(parse_query(query), None, 2, sort)
    for cursor in (None, first.next):
        plans = _plans(sqlite_store, query, sort, cursor)
        if not query:
            assert index in plans[0], (sort, plans)
        for plan in plans:
            assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (query, sort, plan)
            assert not [ln for ln in plan.splitlines() if ln == "SCAN ticket"], plan
