"""Presence and live updates across consoles and processes, on SQLite and PostgreSQL
(issue 11): another agent's open ticket, their reply in progress, and changes made by
another process show in a running console within 2 seconds."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deskterm.app import make_app
from deskterm.settings import AgentSettings, Settings
from deskterm.store import Store
from tests.tui.conftest import console, screen_text, settle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A demo store that two consoles open, each through its own connections."""
    from deskterm.demo import DemoBuilder
    from tests.conftest import ANCHOR

    target = str(tmp_path / "team.db")
    if request.param == "postgres":
        target = request.getfixturevalue("pg_url")
    store = Store.open(target)
    DemoBuilder(store, tickets=40, seed=3, anchor=ANCHOR).build()
    store.close()
    yield target


async def _within(seconds: float, check: Callable[[], bool]) -> float:
    """Wait until ``check()`` holds; how long it took (fails after ``seconds``)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def test_presence_rows_expire_and_leave(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "p.db")
    store.presence.beat("a", "Ana", 7, "replying")
    store.presence.beat("b", "Ben", 7, "viewing")
    assert {(s.agent, s.activity) for s in store.presence.others("b")} == {("Ana", "replying")}
    store.presence.leave("a")
    assert store.presence.others("b") == []
    store.close()


async def test_a_second_console_sees_who_has_a_ticket_open(shared: str) -> None:
    ana_store, ben_store = Store.open(shared), Store.open(shared)
    ben = make_app(ben_store, Settings(agent=AgentSettings(name="Ben Okafor")))
    ana = console(ana_store)
    async with ana.run_test(size=(100, 30)) as ana_pilot, ben.run_test(size=(100, 30)) as pilot:
        for p in (pilot, ana_pilot):
            await p.press("6")  # All: both see the same first row
            await settle(p)
        number = ana.screen.query_one("#tickets").current.number  # type: ignore[attr-defined]
        await ana_pilot.press("enter")
        await settle(ana_pilot)
        table = ben.screen.query_one("#tickets")
        await _within(2.0, lambda: ben.live.marker(number) == "●")
        await pilot.pause()
        assert "●" in screen_text(ben)
        await ana_pilot.press("r")  # Ana starts a reply
        await settle(ana_pilot)
        await _within(2.0, lambda: ben.live.marker(number) == "✎")
        ben.open_ticket(number, table)  # type: ignore[arg-type]
        await settle(pilot)
        await _within(2.0, lambda: "Ana Souza is replying" in screen_text(ben))
    ana_store.close()
    ben_store.close()


async def test_changes_from_another_process_show_within_two_seconds(shared: str) -> None:
    store = Store.open(shared)
    app = console(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        row = app.screen.query_one("#tickets").current  # type: ignore[attr-defined]
        assert row.priority != "urgent"
        subprocess.run(
            [
                str(Path(sys.executable).with_name("deskterm")),
                "--db",
                shared,
                "tickets",
                "set",
                str(row.number),
                "--priority",
                "urgent",
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        took = await _within(
            2.0,
            lambda: any(
                r.number == row.number and r.priority == "urgent"
                for r in app.screen.query_one("#tickets").rows  # type: ignore[attr-defined]
            ),
        )
        assert took < 2.0
    store.close()


async def test_a_console_without_an_agent_says_so_and_opens_on_open(tmp_path: Path) -> None:
    from deskterm.desk import open_store

    store = open_store(tmp_path / "s.db", Settings())
    app = make_app(store, Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        [note] = [n for n in app._notifications if n.message.startswith("No [agent] in")]
        assert note.markup is False  # "[agent]" must show as text, not vanish as a style
        assert app.screen.view.key == "open"  # type: ignore[attr-defined]
    store.close()
