"""The rating key on the ticket screen records a score (event-logged) with a comment."""

from __future__ import annotations

import json

from deskterm.screens.rating import RatingScreen
from deskterm.store import Store
from tests.tui.conftest import console, settle


async def test_star_records_a_score_with_a_comment(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        number = app.screen.number  # type: ignore[attr-defined]
        await pilot.press("asterisk")
        await settle(pilot)
        assert isinstance(app.screen, RatingScreen)
        await pilot.press("9", "enter")  # CSAT is 1-5: refused, the dialog stays
        await settle(pilot)
        assert isinstance(app.screen, RatingScreen)
        await pilot.press("ctrl+k", "ctrl+k")  # CSAT -> CES -> NPS
        await pilot.press("tab", *"loves it", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, RatingScreen)
    events = [e for e in demo_store.tickets.events(number) if e.kind in ("csat", "ces", "nps")]
    assert [(e.kind, e.new, e.actor) for e in events][-1] == ("nps", "9", "Ana Souza")
    assert json.loads(events[-1].detail or "{}") == {"comment": "loves it", "source": "agent"}
    assert demo_store.tickets.get_ticket(number).ticket.nps == 9
