"""Notes drafts survive quitting mid-typing, a killed terminal, and a colleague's save."""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from deskterm.desk import open_store
from deskterm.screens.drafts import Draft, DraftBox
from deskterm.screens.notes_panel import DRAFT_DELAY, NotesEditor, NotesPanel
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.ticket_table import TicketTable
from deskterm.store import Store
from tests.tui.conftest import AGENT, console, settle


def test_draft_box_round_trip_and_guarded_discard(tmp_path: Path) -> None:
    box = DraftBox("/some/store.db", root=tmp_path)
    other = DraftBox("postgresql://db/x", root=tmp_path)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    box.write(Draft(7, "half a séntence\n", 3, at))
    assert box.read(7) == Draft(7, "half a séntence\n", 3, at)
    assert other.read(7) is None  # drafts are per store
    box.discard(7, "something else")  # not the text of the draft: kept
    assert box.read(7) is not None
    box.discard(7, "half a séntence\n")
    assert box.read(7) is None
    box.write(Draft(8, "x", 0, at))
    box.path(8).write_text('{"ticket": 8, "bo')  # a torn file
    assert box.read(8) is None
    assert box.path(8).with_suffix(".bad").exists()  # kept aside for a human


def kept(drafts: DraftBox, store: Store, number: int, expected: str) -> bool:
    """The text is in the draft file or saved (the save may still be finishing)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        draft = drafts.read(number)
        note = store.tickets.get_ticket(number).note
        if (draft and draft.body == expected) or (note and note.body == expected):
            return True
        time.sleep(0.05)
    return False


async def test_quitting_mid_typing_keeps_the_text(demo_store: Store) -> None:
    app = console(demo_store)
    typed = "Customer prefers a call back"
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        number = screen.number
        before = screen.query_one(NotesEditor).text
        await pilot.press("n", "enter", *typed)
        await pilot.press("ctrl+q")  # long before the autosave would run
    expected = f"{before}\n{typed}"
    assert kept(app.drafts, demo_store, number, expected)

    again = console(demo_store)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        again.open_ticket(number, again.screen.query_one(TicketTable))
        await settle(pilot)
        assert again.screen.query_one(NotesEditor).text == expected
        await pilot.pause(2.0)  # the restored draft is saved like any edit
        await settle(pilot)
    assert demo_store.tickets.note_versions(number)[-1].body == expected
    assert again.drafts.read(number) is None


async def test_a_colleagues_save_is_never_overwritten(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        number = screen.number
        demo_store.tickets.save_note(number, "Colleague's notes", "Ben Okafor")
        await pilot.press("n", *" mine")
        panel = screen.query_one(NotesPanel)
        await pilot.pause(2.0)
        await settle(pilot)
        assert panel.state.conflict  # refused, not overwritten
        assert demo_store.tickets.note_versions(number)[-1].body == "Colleague's notes"
        draft = app.drafts.read(number)
        assert draft is not None and draft.body.endswith(" mine")
        await pilot.press("ctrl+s")  # explicitly: save mine as a newer version
        await settle(pilot)
        versions = demo_store.tickets.note_versions(number)
        assert versions[-1].body.endswith(" mine") and versions[-1].author == AGENT
        assert versions[-2].body == "Colleague's notes"  # every version kept


def test_a_killed_terminal_loses_at_most_a_moment(demo_store: Store, tmp_path: Path) -> None:
    """The real program in a pseudo-terminal, killed with SIGKILL mid-typing."""
    location = demo_store.location
    number = demo_store.queue.list_tickets(None, None, 1).rows[0].number  # "All" is view 6
    before = demo_store.tickets.get_ticket(number).note
    demo_store.close()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    program = shutil.which("deskterm", path=str(Path(sys.executable).parent)) or "deskterm"
    proc = subprocess.Popen(
        [program, "--db", location],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            output.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    typed = " typed then killed"
    try:
        deadline = time.monotonic() + 30
        while b"Filter" not in output and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"Filter" in output, "the console did not start"
        for keys in ("6", "\r"):
            os.write(master, keys.encode())
            time.sleep(1.0)
        os.write(master, b"n")
        time.sleep(0.5)
        os.write(master, typed.encode())
        time.sleep(DRAFT_DELAY + 0.7)  # "a second or two" after the last keystroke
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        os.close(master)
    expected = (before.body if before else "") + typed
    store = open_store(location)
    try:
        assert kept(DraftBox(location), store, number, expected)
    finally:
        store.close()


async def test_notes_follow_the_ticket_when_stepping_with_brackets(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        first = screen.number
        await pilot.press("n", *" first ticket")
        await pilot.press("escape", "right_square_bracket")  # before its autosave
        await settle(pilot)
        second = screen.number
        assert second != first
        assert not screen.query_one(NotesEditor).text.endswith(" first ticket")
        await pilot.press("n", *" second ticket")
        await pilot.pause(2.0)
        await settle(pilot)
    first_note, second_note = (demo_store.tickets.get_ticket(n).note for n in (first, second))
    assert first_note is not None and first_note.body.endswith(" first ticket")
    assert second_note is not None and second_note.body.endswith(" second ticket")
    assert app.drafts.read(first) is None and app.drafts.read(second) is None
