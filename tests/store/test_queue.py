"""Queue pages: filters, keyset paging without gaps or repeats, counts."""

from __future__ import annotations

from datetime import timedelta

from deskterm.query import TicketFilter, parse_query
from deskterm.store import Store
from tests.store.helpers import T0, ingest, mail, tickets_for


def all_pages(store: Store, f: TicketFilter, limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = store.queue.list_tickets(f, after=cursor, limit=limit)
        seen.extend(r.number for r in page.rows)
        if page.next is None:
            return seen
        cursor = page.next


def test_newest_activity_first_and_pages_cover_everything(store: Store) -> None:
    numbers = tickets_for(store, 23)
    pages = all_pages(store, TicketFilter(), 5)
    assert pages == sorted(numbers, reverse=True)


def test_no_gaps_or_repeats_while_new_tickets_arrive(store: Store) -> None:
    numbers = tickets_for(store, 30)
    first = store.queue.list_tickets(limit=10)
    ingest(store, *(mail(f"new{i}@x.org", f"New {i}", at=T0 + timedelta(days=2), minutes=i)
                    for i in range(15)))  # fmt: skip
    rest = all_pages_from(store, first.next, 7)
    got = [r.number for r in first.rows] + rest
    assert len(got) == len(set(got))
    assert sorted(got) == numbers


def all_pages_from(store: Store, cursor: object, limit: int) -> list[int]:
    out: list[int] = []
    while cursor is not None:
        page = store.queue.list_tickets(after=cursor, limit=limit)  # type: ignore[arg-type]
        out.extend(r.number for r in page.rows)
        cursor = page.next
    return out


def test_each_filter_and_multi_value_union(store: Store) -> None:
    numbers = tickets_for(store, 12)
    for i, n in enumerate(numbers):
        store.tickets.set_status(n, ("new", "open", "pending", "solved")[i % 4], "ana")
        store.tickets.set_priority(n, ("low", "high")[i % 2], "ana")
        if i % 3 == 0:
            store.tickets.assign(n, "Ben", "ana")
            store.tickets.set_tags(n, ["vip", "billing"] if i % 2 == 0 else ["vip"], "ana")
        if i % 5 == 0:
            store.tickets.set_queue(n, "billing", "ana")

    def check(query: str, predicate) -> None:  # type: ignore[no-untyped-def]
        f = parse_query(query)
        expected = [
            n for n in sorted(numbers, key=lambda n: store.tickets.get_ticket(n).ticket.updated_at,
                              reverse=True) if predicate(store.tickets.get_ticket(n))
        ]  # fmt: skip
        assert all_pages(store, f, 2) == expected, query
        assert store.queue.count_tickets(f) == len(expected), query

    check("status:open", lambda d: d.ticket.status == "open")
    check("status:new,pending", lambda d: d.ticket.status in ("new", "pending"))
    check(
        "priority:high status:open,solved",
        lambda d: d.ticket.priority == "high" and d.ticket.status in ("open", "solved"),
    )
    check("assignee:Ben", lambda d: d.ticket.assignee == "Ben")
    check("assignee:none", lambda d: d.ticket.assignee is None)
    check("assignee:none,Ben", lambda d: True)
    check("tag:vip", lambda d: "vip" in d.tags)
    check("tag:vip tag:billing", lambda d: {"vip", "billing"} <= set(d.tags))
    check("tag:vip status:open", lambda d: "vip" in d.tags and d.ticket.status == "open")
    check("queue:billing", lambda d: d.ticket.queue == "billing")
    check("channel:email", lambda d: True)
    check("channel:whatsapp", lambda d: False)
    check("from:c3@example.org", lambda d: d.customer is not None and d.customer.name == "C3")
    check("from:example.org", lambda d: True)
    check("from:nobody.test", lambda d: False)


def _plan_of_page(store: Store, query: str) -> str:
    """SQLite's plan for the queue page of ``query`` (captured from the real statement)."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM ticket" in statement and "LIMIT" in statement:
            statements.append((statement, parameters))

    event.listen(store.db.engine, "before_cursor_execute", capture)
    try:
        store.queue.list_tickets(parse_query(query))
    finally:
        event.remove(store.db.engine, "before_cursor_execute", capture)
    sql, params = statements[-1]
    with store.db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()  # type: ignore[arg-type]
    return "\n".join(str(r[-1]) for r in rows)


def test_pages_are_index_range_scans_not_table_scans(store: Store) -> None:
    tickets_for(store, 5)
    for query, index in [
        ("", "ix_ticket_activity"),
        ("status:new,open", "ix_ticket_status_activity"),
        ("priority:high", "ix_ticket_priority_activity"),
        ("assignee:none", "ix_ticket_assignee"),
        ("tag:vip", "ix_ticket_tag_activity"),
        ("queue:billing,general", "ix_ticket_queue_activity"),
    ]:
        plan = _plan_of_page(store, query)
        assert index in plan, (query, plan)
        lines = plan.splitlines()
        assert not [ln for ln in lines if ln.startswith("SCAN ticket") and "USING" not in ln]
        # Each ticket access is followed by no sort of its own rows.
        for i, line in enumerate(lines[:-1]):
            if line.startswith(("SEARCH ticket ", "SCAN ticket ")):
                assert "TEMP B-TREE" not in lines[i + 1], (query, plan)


def test_full_text_filter_returns_tickets_newest_match_first(store: Store) -> None:
    ingest(
        store,
        mail("a@x.org", "Refund please", "I want my money back", minutes=1),
        mail("b@x.org", "Hello", "Where is my parcel", minutes=2),
        mail("c@x.org", "Refund again", "money money", minutes=3),
    )
    rows = store.queue.list_tickets(parse_query("money")).rows
    assert [r.subject for r in rows] == ["Refund again", "Refund please"]
    rows = store.queue.list_tickets(parse_query('"money back"')).rows
    assert [r.subject for r in rows] == ["Refund please"]
    rows = store.queue.list_tickets(parse_query("money from:c@x.org")).rows
    assert [r.subject for r in rows] == ["Refund again"]
    page = store.queue.list_tickets(parse_query("money"), limit=1)
    assert [r.subject for r in page.rows] == ["Refund again"]
    nxt = store.queue.list_tickets(parse_query("money"), after=page.next, limit=1)
    assert [r.subject for r in nxt.rows] == ["Refund please"]
