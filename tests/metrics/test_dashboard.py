"""The dashboard: reachable by key and palette, every number equal to
``deskterm report --json`` for the same range, range and grouping by key."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from deskterm.app import make_app
from deskterm.cli import app as cli_app
from deskterm.report_view import percent
from deskterm.screens import dashboard_parts as parts
from deskterm.screens.dashboard import DashboardScreen
from deskterm.settings import AgentSettings, Settings
from deskterm.store import Store
from tests.tui.conftest import AGENT, NOW, console, screen_text, settle


def report_json(db: Path, since: str, until: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli_app, ["--db", str(db), "report", "--since", since, "--until", until, "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


async def test_dashboard_numbers_equal_report_json(demo_store: Store, tmp_path: Path) -> None:
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        for days in (30, 90, 7):  # the default, then each press of d
            assert screen.days == days and screen.data is not None and screen.previous is not None
            assert screen.reading is not None
            since, until = screen.reading  # the range shown (a prefetched one's own)
            cli = report_json(tmp_path / "demo.db", since.isoformat(), until.isoformat())
            shown = {k: v for k, v in screen.data.items() if k not in ("by", "groups")}
            assert shown == cli
            before = report_json(
                tmp_path / "demo.db", (since - (until - since)).isoformat(), since.isoformat()
            )
            text = screen_text(app)
            for title, value, moved, _ in parts.tile_texts(cli, before):
                if title in text:  # the tiles above the fold at this size
                    assert value in text and moved in text
            assert percent(cli["fcr_rate"]) in text
            await pilot.press("d")
            await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert screen.by == "channel" and screen.groups is not None
        since, until = screen.bounds()
        assert screen.groups == demo_store.metrics.report(since, until, "channel")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DashboardScreen)


async def test_dashboard_is_in_the_palette(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")  # the palette (":" is the command line)
        await settle(pilot)
        await pilot.press(*"dashboard")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


async def test_custom_range_by_key(demo_store: Store) -> None:
    from datetime import UTC, datetime

    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("D", "c")
        await settle(pilot)
        await pilot.press(*"10..x", "enter")  # not a range: a warning, nothing changes
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen) and screen.custom is None
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"2026-10-01..2026-10-14", "enter")
        await settle(pilot)
        since, until = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC)
        assert screen.bounds() == (since, until) and screen.days == 14
        full = demo_store.metrics.report(since, until, "week")
        assert screen.data is not None
        assert {k: v for k, v in screen.data.items() if k != "groups"} == {
            k: v for k, v in full.items() if k != "groups"
        }

        def weekly(groups: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
            return [
                (g["key"], g["first_response"], g["csat"])
                for g in groups
                if g["first_response"]["count"] or g["csat"]["responses"]
            ]

        assert weekly(screen.data["groups"]) == weekly(full["groups"])
        assert "2026-10-01 00:00 to 2026-10-15 00:00 UTC" in screen_text(app)


async def test_prefetched_ranges_switch_without_a_query_and_drop_on_a_change(
    demo_store: Store, tmp_path: Path
) -> None:
    from datetime import timedelta

    from deskterm.store.satisfaction import Response
    from tests.tui.conftest import NOW

    app = console(demo_store)
    reads: list[tuple[Any, ...]] = []
    report = demo_store.metrics.report

    def counted(*args: Any, **kw: Any) -> Any:
        reads.append(args)
        return report(*args, **kw)

    demo_store.metrics.report = counted  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)  # 30 days drawn, then 90 and 7 prefetched
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        reads.clear()
        await pilot.press("d")
        await settle(pilot)
        assert screen.days == 90 and reads == []  # drawn from the cache
        # Another process records a survey answer inside the range: the live feed does
        # not see it (no ticket changes), the report mark does.
        number = demo_store.queue.list_tickets(None, None, 1).rows[0].number
        prefetched = screen.cache.entries[(7, None)].reports["data"]["csat"]["responses"]
        demo_store.satisfaction.import_response(
            Response("csat", 1, NOW - timedelta(days=1), number), "survey"
        )
        await pilot.press("d")
        await settle(pilot)
        assert screen.days == 7 and reads  # read again
        assert screen.reading is not None and screen.data is not None
        since, until = screen.reading
        cli = report_json(tmp_path / "demo.db", since.isoformat(), until.isoformat())
        assert {k: v for k, v in screen.data.items() if k not in ("by", "groups")} == cli
        assert screen.data["csat"]["responses"] == prefetched + 1


async def test_every_range_ends_at_one_moment_until_r(demo_store: Store) -> None:
    # A clock that moves at every read: the ranges still share their end (so they
    # share their weeks), and r reads as of the new now.
    ticks = itertools.count()
    config = Settings(agent=AgentSettings(name=AGENT))
    app = make_app(demo_store, config, clock=lambda: NOW + timedelta(seconds=next(ticks)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen) and screen.reading is not None
        first = screen.reading[1]
        for days in (90, 7):
            await pilot.press("d")
            await settle(pilot)
            assert screen.days == days and screen.reading is not None
            assert screen.reading[1] == first
        await pilot.press("r")
        await settle(pilot)
        assert screen.reading is not None and screen.reading[1] > first
