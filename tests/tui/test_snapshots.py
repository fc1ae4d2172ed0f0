"""SVG snapshots of every screen at 80x24 and 120x40 (clock and cursors frozen).

Update after a deliberate change with ``pytest tests/tui/test_snapshots.py
--snapshot-update`` and look at the report before committing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from deskterm.store import Store
from tests.tui.conftest import console, freeze, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
Steps = Callable[[Pilot[Any]], Awaitable[None]]


def steps(*keys: str) -> Steps:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        freeze(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES)
def test_queue(demo_store: Store, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(console(demo_store), terminal_size=size, run_before=steps("6"))


@pytest.mark.parametrize("size", SIZES)
def test_ticket(demo_store: Store, snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(console(demo_store), terminal_size=size, run_before=steps("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_ticket_heard_panel(demo_store: Store, snap_compare: Any, size: tuple[int, int]) -> None:
    run = steps("6", "j", "enter", "tab", "tab")
    assert snap_compare(console(demo_store), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_customer(demo_store: Store, snap_compare: Any, size: tuple[int, int]) -> None:
    run = steps("enter", "c")
    assert snap_compare(console(demo_store), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_help(demo_store: Store, snap_compare: Any, size: tuple[int, int]) -> None:
    run = steps("enter", "question_mark")
    assert snap_compare(console(demo_store), terminal_size=size, run_before=run)


def test_ticket_reply_composer(demo_store: Store, snap_compare: Any) -> None:
    run = steps("enter", "r", *"Hi Ingrid,", "enter", *"the duplicate charge is refunded.")
    assert snap_compare(console(demo_store), terminal_size=(80, 24), run_before=run)
