"""SVG snapshots of triage at speed at 80x24: marks with the status line, the bulk
confirmation, and the queue after undo."""

from __future__ import annotations

from typing import Any

from deskterm.store import Store
from tests.tui.conftest import console
from tests.tui.test_snapshots import steps

SIZE = (80, 24)


def test_three_marked(demo_store: Store, snap_compare: Any) -> None:
    run = steps("6", "v", "v", "v")
    assert snap_compare(console(demo_store), terminal_size=SIZE, run_before=run)


def test_bulk_close_confirmation(demo_store: Store, snap_compare: Any) -> None:
    run = steps("6", "v", "v", "v", "x")
    assert snap_compare(console(demo_store), terminal_size=SIZE, run_before=run)


def test_mark_all_closed_then_undone(demo_store: Store, snap_compare: Any) -> None:
    run = steps("6", "asterisk", "x", "y", "u")
    assert snap_compare(console(demo_store), terminal_size=SIZE, run_before=run)


def test_command_line_completes(demo_store: Store, snap_compare: Any) -> None:
    run = steps("6", "colon", "s", "t", "a", "tab", "space", "p", "e")
    assert snap_compare(console(demo_store), terminal_size=SIZE, run_before=run)


def test_new_phone_ticket_form(demo_store: Store, snap_compare: Any) -> None:
    # Found by nobody: Enter makes a new customer of the name typed in the search.
    run = steps("N", *"Rui Alves", "enter", "tab", "tab", *"+351912345678", "tab",
                *"Card declined")  # fmt: skip
    assert snap_compare(console(demo_store), terminal_size=SIZE, run_before=run)


def test_queue_sorted_by_sla_due(demo_store: Store, snap_compare: Any) -> None:
    """All tickets after ``o`` three times: SLA due, breached first; the header marks
    the SLA column and the status line names the order."""
    run = steps("6", "o", "o", "o")
    assert snap_compare(console(demo_store), terminal_size=SIZE, run_before=run)
