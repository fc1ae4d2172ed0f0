"""The views' names say what they count."""

from __future__ import annotations

from deskterm.query import TicketFilter
from deskterm.screens.views import ViewBar
from deskterm.store import Store
from deskterm.views import saved_views
from tests.tui.conftest import AGENT, console, screen_text, settle

NAMES = {"new": "", "open": "open", "pending": "pending", "on_hold": "on hold"}


def test_each_status_view_names_every_status_it_counts() -> None:
    for view in saved_views(AGENT):
        label = view.label.lower()
        if view.key == "mine":  # new, open, pending and on hold
            assert set(view.filter.status) == set(NAMES) and "unsolved" in label
            continue
        named = [s for s in view.filter.status if NAMES.get(s, s) and NAMES.get(s, s) in label]
        if named:  # a label that names a status ("Pending …") names each one it counts
            for status in view.filter.status:
                assert NAMES.get(status, status) in label, (view.label, status)


async def test_my_unsolved_counts_pending_and_on_hold(demo_store: Store) -> None:
    statuses = ("new", "open", "pending", "on_hold")
    mine = demo_store.queue.count_tickets(TicketFilter(assignee=(AGENT,), status=statuses))
    waiting = demo_store.queue.count_tickets(
        TicketFilter(assignee=(AGENT,), status=("pending", "on_hold"))
    )
    solved = demo_store.queue.count_tickets(TicketFilter(status=("solved", "closed")))
    assert waiting and mine > waiting
    app = console(demo_store)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(ViewBar).counts["mine"] == mine
        text = screen_text(app)
        assert f"My unsolved {mine}" in text and f"Solved & closed {solved}" in text
        assert "My open" not in text
