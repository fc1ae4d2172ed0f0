"""Console fixtures: a deterministic store, the app factory with a fixed clock, helpers."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from rich.console import Console
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerCancelled

from deskterm.app import DesktermApp, make_app
from deskterm.desk import open_store
from deskterm.settings import AgentSettings, HeardSettings, Settings
from deskterm.store import Store
from tests.conftest import ANCHOR

AGENT = "Ana Souza"
NOW = ANCHOR + timedelta(hours=2)  # "now" for every relative age on screen


def console(store: Store, *, policy: str = "warn") -> DesktermApp:
    """The app as the CLI builds it, with a fixed clock and a known agent."""
    config = Settings(agent=AgentSettings(name=AGENT), heard=HeardSettings(solve_policy=policy))
    return make_app(store, config, clock=lambda: NOW)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker has finished and the screen has caught up."""
    app = cast(DesktermApp, pilot.app)
    for _ in range(3):
        for _ in range(50):  # a re-read may cancel a worker we wait for: wait again
            busy = [w for w in app.work_in_flight() if not w.is_finished]
            if not busy:  # (an empty list would mean every worker, the live feed too)
                break
            with contextlib.suppress(WorkerCancelled):
                await app.workers.wait_for_complete(busy)
        await pilot.pause()


def freeze(app: DesktermApp) -> None:
    """No blinking cursors: a snapshot must not depend on when it was taken."""
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False  # type: ignore[attr-defined]


def help_keys_text(app: DesktermApp) -> str:
    """The help screen's whole key list as plain text (not only the part on screen)."""
    keys = app.screen.query_one("#help-keys", Static).render()
    assert isinstance(keys, Content)
    return keys.plain


def screen_text(app: DesktermApp) -> str:
    """What the terminal shows, as plain text (lines joined with newlines)."""
    return _render(app, styles=False)


def screen_output(app: DesktermApp) -> str:
    """The bytes a terminal would receive for the current screen (with styling)."""
    return _render(app, styles=True)


def _render(app: DesktermApp, *, styles: bool) -> str:
    width, height = app.size
    out = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    out.print(app.screen._compositor.render_update(full=True))
    return out.export_text(styles=styles)


@pytest.fixture
def big_store(tmp_path: Path) -> Iterator[Store]:
    """A demo store with more tickets than the console keeps in memory (paging)."""
    from deskterm.demo import DemoBuilder

    store = open_store(tmp_path / "big.db")
    DemoBuilder(store, tickets=420, seed=11, anchor=ANCHOR).build()
    yield store
    store.close()
