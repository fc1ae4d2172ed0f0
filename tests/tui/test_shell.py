"""The app shell: help screen, command palette, footer, the CLI entry points, NO_COLOR."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.screens.choice import ChoiceScreen
from deskterm.screens.help import HelpScreen
from deskterm.screens.queue import QueueScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.store import Store
from tests.tui.conftest import console, help_keys_text, screen_text, settle


async def test_help_lists_the_bindings_of_the_current_screen(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "Keys — Queue" in screen_text(app)
        text = str(app.screen.query_one("#help-keys").render())
        for needed in ("Filter", "Views", "Open", "Quit", "First ticket", "Last ticket"):
            assert needed in text, needed  # (the queue's keys no longer fit one page)
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)

        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        app.screen.query_one("#help-body").scroll_end(animate=False)
        await pilot.pause()
        text = help_keys_text(app)
        for needed in (
            "Back", "Status", "Priority", "Assign", "Tags", "Queue", "Int. note", "Notes",
            "Customer", "Next", "Prev", "Next panel", "HEARD: Empathize", "Save notes",
            "Commands",
        ):  # fmt: skip
            assert needed in text, needed
        assert re.search(r"\]\s+Next", text) and re.search(r"\[\s+Prev", text)
        await pilot.press("q")
        assert isinstance(app.screen, TicketScreen)


async def test_footer_shows_keys_on_every_screen(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "/ Filter" in screen_text(app).splitlines()[-1]
        await pilot.press("enter")
        await settle(pilot)
        assert "esc Back" in screen_text(app).splitlines()[-1]
        await pilot.press("c")
        await settle(pilot)
        assert "esc Back" in screen_text(app).splitlines()[-1]


async def test_palette_runs_screen_actions_and_opens_tickets(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, TicketScreen)
        await pilot.press("ctrl+p")  # (: is the command line now)
        await settle(pilot)
        await pilot.press(*"Priority")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen) and app.screen.title_text == "Priority"
        await pilot.press("escape")
        await settle(pilot)

        other = demo_store.queue.list_tickets(None, None, 60).rows[-1].number
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*f"#{other}")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.number == other


def test_cli_opens_the_console_through_the_factory(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskterm.app import DesktermApp
    from deskterm.cli import app as cli

    ran: list[Any] = []
    monkeypatch.setattr(DesktermApp, "run", lambda self, *a, **k: ran.append(self))
    result = CliRunner().invoke(cli, ["--db", demo_store.location])
    assert result.exit_code == 0, result.output
    assert len(ran) == 1 and ran[0].store.location == demo_store.location


def test_demo_opens_the_console_unless_no_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskterm.app import DesktermApp
    from deskterm.cli import app as cli

    ran: list[Any] = []
    monkeypatch.setattr(DesktermApp, "run", lambda self, *a, **k: ran.append(self))
    db = tmp_path / "d.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--tickets", "20"])
    assert result.exit_code == 0, result.output
    assert len(ran) == 1 and ran[0].store.location == str(db)
    result = CliRunner().invoke(cli, ["demo", "--db", str(tmp_path / "e.db"), "--no-open"])
    assert result.exit_code == 0 and len(ran) == 1


async def test_no_color_draws_in_greys_only(demo_store: Store) -> None:
    """With NO_COLOR (set for every test) nothing on screen carries a hue."""
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.no_color
        svg = app.export_screenshot()
    window_buttons = {"ff5f57", "febc2e", "28c840"}  # the SVG's drawn window frame
    colours = set(re.findall(r"#([0-9a-f]{6})\b", svg)) - window_buttons
    assert colours
    for colour in colours:
        r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
        assert max(r, g, b) - min(r, g, b) <= 8, colour
