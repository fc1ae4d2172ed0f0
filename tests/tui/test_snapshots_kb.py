"""SVG snapshot of the knowledge panel at 80x24 (see test_snapshots.py for updating)."""

from __future__ import annotations

from typing import Any

from deskterm.store import Store
from tests.tui.conftest import console
from tests.tui.test_knowledge import kb_demo  # noqa: F401  (fixture)
from tests.tui.test_snapshots import steps


def test_knowledge_panel(kb_demo: Store, snap_compare: Any) -> None:  # noqa: F811
    run = steps("enter", "K")
    assert snap_compare(console(kb_demo), terminal_size=(80, 24), run_before=run)
