"""SVG snapshots of the dashboard at 80x24 (it scrolls) and 120x40, with NO_COLOR set
(the conftest sets it for every test): tiles, charts and the heatmap must read without
colour. Update with ``--snapshot-update`` after a deliberate change, and look first."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from deskterm.store import Store
from tests.tui.conftest import console, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def keys(*pressed: str) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(demo_store: Store, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(console(demo_store), terminal_size=size, run_before=keys("D"))


def test_dashboard_scrolled_by_agent(demo_store: Store, snap_compare: Any) -> None:
    run = keys("D", "g", "g", "g", "end")
    assert snap_compare(console(demo_store), terminal_size=(80, 24), run_before=run)
