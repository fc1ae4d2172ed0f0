"""The ``:`` command line: completion, queue actions by name, goto, views, help."""

from __future__ import annotations

from deskterm.screens.command_line import CommandLine
from deskterm.screens.queue import QueueScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.ticket_table import TicketTable
from deskterm.screens.views import ViewBar
from deskterm.store import Store
from tests.tui.conftest import console, screen_text, settle


async def test_commands_with_completion(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        row = app.screen.query_one(TicketTable).current
        assert row is not None
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, CommandLine)
        await pilot.press(*"sta", "tab", "space", *"pend", "tab")
        assert app.screen.query_one("#command-input").value == "status pending"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(row.number).ticket.status == "pending"

        await pilot.press("colon", *"view solved", "enter")
        await settle(pilot)
        assert app.screen.query_one(ViewBar).active == "solved"
        await pilot.press("colon", *"bogus", "enter")
        await settle(pilot)
        assert any("Unknown command :bogus" in n.message for n in app._notifications)
        await pilot.press("colon", *"undo", "enter")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(row.number).ticket.status == row.status

        await pilot.press("colon", *"help", "enter")
        await settle(pilot)
        assert ":status STATUS" in screen_text(app) or ":status" in str(
            app.screen.query_one("#help-commands").render()
        )
        await pilot.press("escape")
        await pilot.press("colon", *"goto 7", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.number == 7
        await pilot.press("colon", *"close", "enter")
        await settle(pilot)
        assert any(":close works on the queue" in n.message for n in app._notifications)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
