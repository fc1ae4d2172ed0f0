"""Marks, bulk actions and undo on the queue screen."""

from __future__ import annotations

from textual.widgets import OptionList

from deskterm.query import parse_query
from deskterm.screens.queue import QueueScreen
from deskterm.screens.ticket_table import TicketTable
from deskterm.store import Store
from deskterm.vocab import STATUSES
from tests.tui.conftest import console, screen_text, settle


async def test_mark_three_set_status_then_undo(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        picked = [r.number for r in table.rows[:3]]
        before = {n: demo_store.tickets.get_ticket(n).ticket.status for n in picked}
        await pilot.press("v", "v", "v")
        text = screen_text(app)
        assert "3 marked" in text
        assert sum(1 for line in text.splitlines() if line.startswith("*")) == 3
        await pilot.press("s")  # status picker, then pick "pending"
        await settle(pilot)
        app.screen.query_one(OptionList).highlighted = STATUSES.index("pending")
        await pilot.press("enter")
        await settle(pilot)
        assert "pending on 3 marked tickets?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert {demo_store.tickets.get_ticket(n).ticket.status for n in picked} == {"pending"}
        assert any("status → pending on 3 tickets" in n.message for n in app._notifications)
        assert "marked" not in screen_text(app)

        await pilot.press("u")
        await settle(pilot)
        assert {n: demo_store.tickets.get_ticket(n).ticket.status for n in picked} == before
        assert any("Undid: status → pending on 3 tickets" in n.message for n in app._notifications)


async def test_cursor_row_without_marks_changes_at_once(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        number = app.screen.query_one(TicketTable).rows[0].number
        await pilot.press("x")  # close, no confirmation for one row
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.status == "closed"


async def test_mark_all_of_a_filtered_view_close_and_undo(big_store: Store) -> None:
    app = console(big_store)
    query = "status:new,open,pending"
    f = parse_query(query)
    wanted = big_store.queue.count_tickets(f)
    assert wanted > 50  # more than the screen has loaded
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6", "slash", *query, "enter")
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        assert f"{wanted:,} marked" in screen_text(app)
        await pilot.press("x")
        await settle(pilot)
        assert f"closed on {wanted:,} marked tickets?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert big_store.queue.count_tickets(f) == 0
        screen = app.screen
        assert isinstance(screen, QueueScreen) and not screen.marks
        await pilot.press("u")
        await settle(pilot)
        assert big_store.queue.count_tickets(f) == wanted
