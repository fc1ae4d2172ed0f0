"""SLA countdowns and emotion in the console: queue columns, "Breaching soon", HEARD style."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual.widgets import Static

from deskterm import sla
from deskterm.query import TicketFilter
from deskterm.screens.columns import emotion_cell, sla_cell
from deskterm.screens.heard_panel import HeardPanel
from deskterm.screens.ticket_table import TicketTable
from deskterm.screens.views import ViewBar
from deskterm.store import Store
from deskterm.store.queue import TicketRow
from tests.tui.conftest import NOW, console, screen_text, settle
from tests.tui.test_ticket import first_ticket_with, open_ticket


def every_row(store: Store) -> list[TicketRow]:
    return store.queue.list_tickets(TicketFilter(), None, 1000).rows


async def test_breaching_soon_lists_breached_then_at_risk_by_time_left(demo_store: Store) -> None:
    due = [r for r in every_row(demo_store) if sla.status(r, NOW).state in ("at-risk", "breached")]
    assert any(sla.status(r, NOW).state == "at-risk" for r in due), "the demo needs some"
    expected = [r.number for r in sorted(due, key=lambda r: (r.sla_next_due, r.number))]
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        # The view's filter runs in SQL against the console's clock, not the wall clock;
        # least time left first, so the breached tickets lead.
        assert [r.number for r in table.rows] == expected
        assert app.screen.query_one(ViewBar).counts["sla"] == len(expected)
        text = screen_text(app)
        assert f"Breaching soon {len(expected)}" in text
        assert "by SLA due" in text and "SLA▲" in text
        assert "!" in text.split("Breaching soon")[1]  # at-risk countdowns are marked


async def test_view_bar_shortens_labels_when_they_do_not_fit(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(ViewBar)
        bar.set_counts({view.key: 1_234_567 for view in bar.views})
        await pilot.pause()
        text = screen_text(app).splitlines()
        views_line = next(line for line in text if "Mine" in line)
        assert "Risk 1.2M" in views_line and "Breaching soon" not in views_line
        await pilot.resize_terminal(160, 30)
        await pilot.pause()
        assert any("Breaching soon 1.2M" in line for line in screen_text(app).splitlines())


def test_sla_cell_marks_breached_and_at_risk_without_colour(demo_store: Store) -> None:
    row = next(r for r in every_row(demo_store) if r.sla_next_due is not None)
    due = row.sla_next_due
    assert due is not None
    breached = sla_cell(
        replace(row, sla_warn_at=due - timedelta(hours=1)), due + timedelta(hours=3)
    )
    assert breached.plain == "-3h" and "red" in str(breached.style)
    risky = replace(row, sla_warn_at=due - timedelta(hours=2))
    at_risk = sla_cell(risky, due - timedelta(minutes=45))
    assert at_risk.plain == "!45m" and "yellow" in str(at_risk.style)
    fine = sla_cell(risky, due - timedelta(hours=5))
    assert fine.plain == "5h" and not str(fine.style)
    solved = replace(row, status="solved", sla_next_due=None)
    assert sla_cell(solved, due).plain == ""


def test_emotion_cell_shows_feelings_and_hides_neutral(demo_store: Store) -> None:
    row = every_row(demo_store)[0]
    assert emotion_cell(replace(row, emotion="anger"), NOW).plain == "anger"
    assert emotion_cell(replace(row, emotion="frustration"), NOW).plain == "frustr."
    assert emotion_cell(replace(row, emotion="neutral"), NOW).plain == ""
    assert emotion_cell(replace(row, emotion=None), NOW).plain == ""


async def test_heard_panel_suggests_the_response_style(demo_store: Store) -> None:
    frustrated = first_ticket_with(demo_store, emotion="frustration")
    calm = first_ticket_with(demo_store, emotion="neutral")
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, frustrated)
        screen.show_panel("heard")
        await pilot.pause()
        style = screen.query_one(HeardPanel).query_one("#heard-style", Static)
        assert style.display
        text = screen_text(app)
        assert "Customer seems frustrated: calm and validating" in text
        screen.show_ticket(calm, None)
        await settle(pilot)
        assert not style.display
        assert "Customer seems" not in screen_text(app)


async def test_ticket_header_shows_the_running_sla_clock(demo_store: Store) -> None:
    rows = every_row(demo_store)
    breached = next(r for r in rows if sla.status(r, NOW).state == "breached")
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, breached.number)
        state = sla.status(breached, NOW)
        clock = "first response" if state.clock == "first_response" else "resolution"
        assert f"{clock} overdue by {state.label.lstrip('-')}" in screen_text(app)


async def test_agent_corrects_the_emotion_by_key_and_the_style_follows(
    demo_store: Store,
) -> None:
    from textual.widgets import OptionList

    from deskterm.screens.choice import ChoiceScreen
    from deskterm.vocab import EMOTIONS

    number = first_ticket_with(demo_store, emotion="frustration")
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        screen.show_panel("heard")
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        app.screen.query_one(OptionList).highlighted = EMOTIONS.index("anxiety")
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert "Customer seems anxious: reassuring and clear" in text
        assert "set by an agent" in text
    ticket = demo_store.tickets.get_ticket(number).ticket
    assert (ticket.emotion, ticket.emotion_score) == ("anxiety", None)
    (event,) = [e for e in demo_store.tickets.events(number) if e.kind == "emotion_corrected"]
    assert (event.old, event.new, event.actor) == ("frustration", "anxiety", "Ana Souza")
