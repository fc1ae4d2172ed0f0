"""Snooze: a ticket set pending until a date phrase comes back to open when its time
comes (clock injected), in the console and from the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.cli import app as cli
from deskterm.query import parse_query
from deskterm.snooze import WhenError, parse_when
from deskterm.store import Store
from deskterm.store.snooze_ops import REMINDER
from tests.store.helpers import tickets_for
from tests.tui.conftest import NOW, console, screen_text, settle

runner = CliRunner()


def test_phrases() -> None:
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # TZ=UTC in tests
    assert parse_when("tomorrow 9:00", monday) == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    assert parse_when("in 3d", monday) == monday + timedelta(days=3)
    assert parse_when("mon", monday) == datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    with pytest.raises(WhenError, match="Cannot read 'whenever'"):
        parse_when("whenever", monday)
    with pytest.raises(WhenError, match="in the past"):
        parse_when("2020-01-01", monday)


async def test_snoozed_ticket_returns_when_due(demo_store: Store) -> None:
    app = console(demo_store)
    clock = [NOW]
    app.clock = lambda: clock[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        row = app.screen.query_one("TicketTable").current  # type: ignore[attr-defined]
        await pilot.press("z", *"tomorrow 9:00", "enter")
        await settle(pilot)
        ticket = demo_store.tickets.get_ticket(row.number).ticket
        assert ticket.status == "pending"
        assert ticket.remind_at == datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
        assert [r.number for r in demo_store.snooze.due()] == [row.number]
        app.screen.reread()  # type: ignore[attr-defined]
        await settle(pilot)
        assert demo_store.tickets.get_ticket(row.number).ticket.status == "pending"
        clock[0] = datetime(2026, 11, 3, 9, 1, tzinfo=UTC)
        app.screen.reread()  # type: ignore[attr-defined]
        await settle(pilot)
        back = demo_store.tickets.get_ticket(row.number).ticket
        assert back.status == "open" and back.remind_at is None
        woke = demo_store.tickets.events(row.number)[-1]
        assert (woke.kind, woke.old, woke.new, woke.actor) == (
            "status",
            "pending",
            "open",
            REMINDER,
        )
        assert any(f"Back from snooze: #{row.number}" in n.message for n in app._notifications)


def test_cli_snooze_due_and_wake(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    (number,) = tickets_for(store, 1)
    store.close()
    result = runner.invoke(cli, ["--db", db, "tickets", "set", str(number), "--snooze", "in 3d"])
    assert result.exit_code == 0, result.stderr
    assert " pending " in result.stdout
    due = runner.invoke(cli, ["--db", db, "tickets", "due", "--json"])
    assert due.exit_code == 0 and '"number": 1' in due.stdout
    bad = runner.invoke(cli, ["--db", db, "tickets", "set", "1", "--snooze", "someday maybe"])
    assert bad.exit_code == 1 and bad.stderr.startswith("deskterm: Cannot read")
    woke = runner.invoke(cli, ["--db", db, "tickets", "wake", "--json"])
    assert woke.exit_code == 0 and '"woken": []' in woke.stdout  # not due for 3 days
    store = Store.open(db)
    assert store.snooze.wake(datetime.now(UTC) + timedelta(days=4)) == [number]
    assert store.tickets.get_ticket(number).ticket.status == "open"
    store.close()
    undo = runner.invoke(cli, ["--db", db, "undo"])  # the snooze, but the reminder reopened it
    assert undo.exit_code == 3 and undo.stdout.startswith("Undid: snooze until")
    assert undo.stderr.strip() == f"deskterm: #{number} not changed: status changed since."


def test_cli_wake_reports_what_came_due(tmp_path: Path) -> None:
    import time

    db = str(tmp_path / "s.db")
    store = Store.open(db)
    (number,) = tickets_for(store, 1)
    store.snooze.snooze(number, datetime.now(UTC) + timedelta(seconds=0.5), "ana")
    store.close()
    time.sleep(0.6)
    woke = runner.invoke(cli, ["--db", db, "tickets", "wake", "--json"])
    assert woke.exit_code == 0 and json.loads(woke.stdout) == {"woken": [number]}


async def test_due_view_lists_snoozed_tickets_soonest_reminder_first(demo_store: Store) -> None:
    numbers = [r.number for r in demo_store.queue.list_tickets(limit=3).rows]
    for hours, number in zip((30, 5, 12), numbers, strict=True):
        demo_store.snooze.snooze(number, NOW + timedelta(hours=hours), "Ana")
    expected = [numbers[1], numbers[2], numbers[0]]
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        table = app.screen.query_one("TicketTable")
        assert [r.number for r in table.rows] == expected  # type: ignore[attr-defined]
        text = screen_text(app)
        assert "Due 3" in text and "by reminder" in text
        await pilot.press("colon", *"sort created", "enter")
        await settle(pilot)
        created = demo_store.queue.list_tickets(parse_query("snoozed:yes"), sort="created").rows
        assert [r.number for r in table.rows] == [r.number for r in created]  # type: ignore[attr-defined]
        assert "by newest created" in screen_text(app)
    listed = demo_store.queue.list_tickets(parse_query("snoozed:yes"), sort="reminder").rows
    assert [r.number for r in listed] == expected
