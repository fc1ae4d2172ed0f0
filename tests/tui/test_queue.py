"""The queue screen: views, counts, filter bar, paging window, vim keys."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.app import make_app
from deskterm.cli import app as cli_app
from deskterm.query import TicketFilter, parse_query
from deskterm.screens.queue import QueueScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.ticket_table import MAX_ROWS, TicketTable
from deskterm.screens.views import ViewBar
from deskterm.settings import AgentSettings, Settings
from deskterm.store import Store
from deskterm.views import saved_views
from tests.tui.conftest import AGENT, console, screen_text, settle


def all_numbers(store: Store, f: TicketFilter) -> list[int]:
    """Every ticket of a filter in queue order, straight from the store."""
    numbers: list[int] = []
    page = store.queue.list_tickets(f, None, 50)
    while True:
        numbers += [r.number for r in page.rows if r.number not in numbers]
        if page.next is None:
            return numbers
        page = store.queue.list_tickets(f, page.next, 50)


async def test_first_page_then_counts_and_views(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        table = queue.query_one(TicketTable)
        mine = saved_views(AGENT)[0].filter
        assert [r.number for r in table.rows] == all_numbers(demo_store, mine)
        bar = queue.query_one(ViewBar)
        for view in saved_views(AGENT):
            assert bar.counts[view.key] == demo_store.queue.count_tickets(view.filter)
        text = screen_text(app)
        assert f"All {demo_store.tickets.ticket_count()}" in text
        assert "demo.db" in text and AGENT in text  # header: store and agent

        await pilot.press("5")  # Solved
        await settle(pilot)
        assert {r.status for r in table.rows} == {"solved", "closed"}
        await pilot.press("2")  # Unassigned
        await settle(pilot)
        assert table.rows and all(r.assignee is None for r in table.rows)
        assert {r.status for r in table.rows} <= {"new", "open", "pending", "on_hold"}
        await pilot.press("6")
        await settle(pilot)
        assert table.row_count == 50  # a page; the rest comes while scrolling
        assert [r.number for r in table.rows] == all_numbers(demo_store, TicketFilter())[:50]


async def test_filter_bar_uses_the_query_language(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("6", "slash")
        await pilot.press(*"status:open priority:high,urgent")
        await pilot.press("enter")
        await settle(pilot)
        wanted = all_numbers(demo_store, parse_query("status:open priority:high,urgent"))
        assert wanted and [r.number for r in table.rows] == wanted
        assert "filter: status:open priority:high,urgent" in screen_text(app)
        assert f"{len(wanted)} tickets" in screen_text(app)
        assert app.focused is table

        await pilot.press("slash", *"bogus:1", "enter")  # an unknown key: error, rows kept
        await settle(pilot)
        assert [r.number for r in table.rows] == wanted
        assert any("Unknown filter" in n.message for n in app._notifications)

        await pilot.press("escape")  # leave the bar, then clear the filter
        await pilot.press("escape")
        await settle(pilot)
        assert [r.number for r in table.rows] == all_numbers(demo_store, TicketFilter())[:50]
        assert "filter:" not in screen_text(app)


async def test_full_text_filter_and_phrases(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("6", "slash", *'"charged twice" status:pending', "enter")
        await settle(pilot)
        found = [r.number for r in table.rows]
        assert found and len(found) == len(set(found))
        for number in found:
            detail = demo_store.tickets.get_ticket(number)
            assert detail.ticket.status == "pending"
            assert any("charged twice" in m.body.lower() for m in detail.messages)


async def test_paging_keeps_a_window_and_follows_store_order(big_store: Store) -> None:
    order = all_numbers(big_store, TicketFilter())
    app = console(big_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("6")
        await settle(pilot)
        assert table.row_count == 50  # only the first page at first
        seen = [table.current.number]  # type: ignore[union-attr]
        await pilot.press("j")  # the key; then the same action, faster
        seen.append(table.current.number)  # type: ignore[union-attr]
        for _ in range(len(order) - 2):
            table.action_move(1)
            if table.loading_page:
                await settle(pilot)
            seen.append(table.current.number)  # type: ignore[union-attr]
            assert table.row_count <= MAX_ROWS
        assert seen == order  # every ticket once, in the store's order
        assert table.window.at_end and not table.window.at_start

        for _ in range(len(order) - 1):  # and back up, through pages dropped before
            table.action_move(-1)
            if table.loading_page:
                await settle(pilot)
            seen.append(table.current.number)  # type: ignore[union-attr]
        assert seen[len(order) - 1 :] == order[::-1]
        assert table.window.at_start


async def test_g_and_G_jump_to_the_ends_of_a_big_view(big_store: Store) -> None:
    order = all_numbers(big_store, TicketFilter())
    app = console(big_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        assert table.current.number == order[-1]  # type: ignore[union-attr]
        await pilot.press("k", "k")
        assert table.current.number == order[-3]  # type: ignore[union-attr]
        await pilot.press("g")
        await settle(pilot)
        assert table.current.number == order[0]  # type: ignore[union-attr]
        await pilot.press("ctrl+d")
        half = table.visible_rows // 2
        assert table.cursor_row == half
        await pilot.press("ctrl+u")
        assert table.cursor_row == 0
        await pilot.press("down", "down", "up")
        assert table.current.number == order[1]  # type: ignore[union-attr]


async def test_enter_opens_the_highlighted_ticket(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        await pilot.press("j", "j")
        number = table.current.number  # type: ignore[union-attr]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen) and app.screen.number == number
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert table.current is not None and table.current.number == number


async def test_q_quits_from_the_queue(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_reread_shows_mail_a_sync_stored_and_keeps_the_cursor(
    demo_store: Store,
) -> None:
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.settings import parse_settings
    from tests.store.helpers import mail
    from tests.tui.conftest import NOW

    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await pilot.press("6", "j", "j", "j")
        table = queue.query_one(TicketTable)
        resting = table.current
        assert resting is not None
        before = queue.query_one(ViewBar).counts["all"]
        assert before is not None
        # Another process (deskterm sync) stores new mail meanwhile.
        Ingestor(demo_store, parse_settings({})).run(
            [mail("new@customer.org", "Brand new problem", at=NOW)], connector="test"
        )
        queue.reread()
        await settle(pilot)
        assert table.rows[0].subject == "Brand new problem"
        assert table.current is not None and table.current.number == resting.number
        assert queue.query_one(ViewBar).counts["all"] == before + 1
        # Not while the agent is typing a filter.
        await pilot.press("slash", "x")
        Ingestor(demo_store, parse_settings({})).run(
            [mail("other@customer.org", "Another one", at=NOW)], connector="test"
        )
        queue.reread()
        await settle(pilot)
        assert table.rows[0].subject == "Brand new problem"


async def test_the_ticket_under_a_resting_cursor_is_read_ahead(demo_store: Store) -> None:
    from deskterm.screens.ticket_cache import PREFETCH_DELAY

    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("6", "j", "j")
        table = app.screen.query_one(TicketTable)
        resting = table.current
        assert resting is not None and resting.number not in app.ticket_cache
        await pilot.pause(PREFETCH_DELAY * 2)
        await settle(pilot)
        assert resting.number in app.ticket_cache


async def test_config_warnings_show_in_the_console(demo_store: Store) -> None:
    from deskterm.app import make_app
    from deskterm.settings import parse_settings

    config = parse_settings({"agent": {"name": AGENT, "emial": "x"}})
    app = make_app(demo_store, config)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert [n.message for n in app._notifications] == [
            "config: unknown key [agent] emial — did you mean email?"
        ]


async def test_cli_and_console_list_the_same_tickets_for_each_view(
    demo_store: Store, isolated_home: Path
) -> None:
    """Saved views are defined once: ``tickets list --view`` (by key or by the label the
    console shows) gives the console's rows for every view, in the same order."""
    (isolated_home / "config").mkdir(exist_ok=True)
    (isolated_home / "config" / "config.toml").write_text(
        f'[agent]\nname = "{AGENT}"\n', encoding="utf-8"
    )
    runner = CliRunner()
    db = demo_store.location

    def cli_numbers(name: str) -> list[int]:
        result = runner.invoke(
            cli_app, ["--db", db, "tickets", "list", "--view", name, "--json", "--limit", "500"]
        )
        assert result.exit_code == 0, result.stderr
        return [row["number"] for row in json.loads(result.stdout)]

    # The CLI has no clock to fix: the console runs on real time here, so "Breaching
    # soon" means the same moment in both.
    app = make_app(demo_store, Settings(agent=AgentSettings(name=AGENT)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        for key, view in enumerate(saved_views(AGENT), 1):
            await pilot.press(str(key))
            await settle(pilot)
            for _ in range(10):  # scroll until the console has paged in every row
                if table.row_count >= len(all_numbers(demo_store, view.filter)):
                    break
                table.action_page(1)
                await settle(pilot)
            shown = [r.number for r in table.rows]
            assert shown or view.key in ("sla", "due"), view.label  # none due in the demo
            assert cli_numbers(view.key) == shown, view.label
            assert cli_numbers(view.label.upper()) == shown, view.label
    result = runner.invoke(cli_app, ["--db", db, "tickets", "list", "--view", "nope"])
    assert result.exit_code == 1
    assert "No saved view is called 'nope'; use one of mine," in result.stderr
