"""Upward pages and pick lists for the console (store/queue.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from deskterm.demo import DemoBuilder
from deskterm.desk import open_store
from deskterm.query import TicketFilter, parse_query
from deskterm.store import Store
from tests.conftest import ANCHOR

FILTERS = [
    "",
    "status:open",
    "status:new,open,pending",
    "tag:vip",
    "tag:vip priority:high,urgent",
    "assignee:none status:new,open",
    "queue:billing,shipping channel:email",
]


def everything(store: Store, f: TicketFilter) -> list[int]:
    numbers: list[int] = []
    page = store.queue.list_tickets(f, None, 40)
    while True:
        numbers += [r.number for r in page.rows]
        if page.next is None:
            return numbers
        page = store.queue.list_tickets(f, page.next, 40)


def check_upward_paging(store: Store) -> None:
    for query in FILTERS:
        f = parse_query(query)
        order = everything(store, f)
        assert order, query
        # The oldest page, then page by page upwards, rebuilds the whole order.
        rebuilt = store.queue.list_tickets_before(f, None, 25)
        assert [r.number for r in rebuilt] == order[-25:]
        while True:
            above = store.queue.list_tickets_before(f, store.queue.cursor(rebuilt[0]), 25)
            if not above:
                break
            rebuilt = above + rebuilt
        assert [r.number for r in rebuilt] == order, query
    with pytest.raises(ValueError):
        store.queue.list_tickets_before(TicketFilter(text="refund"), None, 10)


def check_distinct_values(store: Store) -> None:
    rows = store.queue.list_tickets(None, None, 1000).rows
    assert store.queue.distinct_values("queue") == sorted({r.queue for r in rows})
    assert store.queue.distinct_values("assignee") == sorted(
        {r.assignee for r in rows if r.assignee}
    )
    tags = {t for r in rows for t in store.tickets.get_ticket(r.number).tags}
    assert store.queue.distinct_values("tag") == sorted(tags)
    assert store.queue.distinct_values("queue", limit=2) == sorted({r.queue for r in rows})[:2]


def test_upward_pages_and_pick_lists_on_sqlite(demo_store: Store) -> None:
    check_upward_paging(demo_store)
    check_distinct_values(demo_store)


@pytest.mark.postgres
def test_upward_pages_and_pick_lists_on_postgresql(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        DemoBuilder(store, tickets=60, seed=7, anchor=ANCHOR).build()
        check_upward_paging(store)
        check_distinct_values(store)
    finally:
        store.close()


@pytest.mark.postgres
async def test_the_console_runs_on_postgresql(pg_url: str) -> None:
    from deskterm.screens.ticket import TicketScreen
    from deskterm.screens.ticket_table import TicketTable
    from tests.tui.conftest import console, screen_text, settle

    store = open_store(pg_url)
    try:
        DemoBuilder(store, tickets=60, seed=7, anchor=ANCHOR).build()
        app = console(store)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("6")
            await settle(pilot)
            table = app.screen.query_one(TicketTable)
            assert [r.number for r in table.rows] == everything(store, TicketFilter())[:50]
            assert "@" in screen_text(app).splitlines()[0]  # database@host in the header
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, TicketScreen) and app.screen.data is not None
            await pilot.press("2")
            await settle(pilot)
            assert "E" in store.tickets.get_ticket(app.screen.number).heard
    finally:
        store.close()
