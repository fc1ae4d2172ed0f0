"""Saved views: added by the CLI, shown in the console's view bar with a key and a
count, saved from the console with S, listed and removed by the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app as cli
from deskterm.query import TicketFilter, format_query, parse_query
from deskterm.screens.ticket_table import TicketTable
from deskterm.screens.views import ViewBar
from deskterm.store import Store
from tests.tui.conftest import console, screen_text, settle

runner = CliRunner()


def test_format_query_round_trips() -> None:
    for text in ('status:open,pending tag:vip from:acme.com "double charge"', "queue:\"big one\"",
                 "assignee:none sla:at-risk channel:email priority:high"):  # fmt: skip
        f = parse_query(text)
        assert parse_query(format_query(f)) == f
    assert format_query(TicketFilter()) == ""


async def test_saved_view_round_trip(demo_store: Store, tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    result = runner.invoke(
        cli, ["--db", db, "views", "add", "Urgent open", "priority:urgent status:open",
              "--sort", "sla"]
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    bad = runner.invoke(cli, ["--db", db, "views", "add", "x", "bogus:1"])
    assert bad.exit_code == 1 and "Unknown filter" in bad.stderr
    urgent = demo_store.queue.count_tickets(parse_query("priority:urgent status:open"))

    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(ViewBar)
        assert bar.counts["saved:Urgent open"] == urgent
        await pilot.press("9")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        assert len(table.rows) == urgent and table.sort == "sla"  # the view's own order
        assert "by SLA due" in screen_text(app)
        assert {(r.priority, r.status) for r in table.rows} <= {("urgent", "open")}
        await pilot.press("6", "slash", *"tag:vip", "enter")
        await settle(pilot)
        await pilot.press("o", "o", "o", "o")  # activity → created → priority → sla → customer
        await settle(pilot)
        assert table.sort == "customer" and "by customer" in screen_text(app)
        await pilot.press("S", *"VIP", "enter")
        await settle(pilot)
        assert bar.active == "saved:VIP" and table.sort == "customer"
        assert "filter:" not in screen_text(app)
        vip = demo_store.queue.count_tickets(parse_query("tag:vip"))
        assert len(table.rows) == vip and bar.counts["saved:VIP"] == vip
        shown = [r.number for r in table.rows]
        await pilot.press("6")  # All: back to its own order
        await settle(pilot)
        assert table.sort == "activity"

    listed = runner.invoke(cli, ["--db", db, "views", "list", "--counts", "--json"])
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows][-2:] == ["Urgent open", "VIP"]
    assert rows[0]["kind"] == "built-in" and rows[-1] | {"tickets": vip} == rows[-1]
    assert [r["key"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]
    assert [r["sort"] for r in rows][-4:] == ["sla", "reminder", "sla", "customer"]
    # The CLI lists a saved view in its saved order, as the console showed it.
    out = runner.invoke(cli, ["--db", db, "tickets", "list", "--view", "VIP", "--all", "--ids"])
    assert [int(n) for n in out.stdout.split()] == shown
    assert runner.invoke(cli, ["--db", db, "views", "remove", "VIP"]).exit_code == 0
    gone = runner.invoke(cli, ["--db", db, "views", "remove", "VIP"])
    assert (
        gone.exit_code == 1
        and gone.stderr.strip() == "deskterm: There is no saved view named 'VIP'."
    )
