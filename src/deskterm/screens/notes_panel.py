"""Resolution notes: an editor that autosaves, keeps every version and never loses a draft.

Two clocks run behind the typing. A moment after each change the text goes to a
draft file (:mod:`deskterm.screens.drafts`), so closing the terminal mid-sentence
loses at most that moment. After a pause in typing the text is saved to the store as
a new version, and the draft is removed. If a colleague saved in between, the store
refuses (optimistic concurrency): the draft stays, and ``ctrl+s`` saves this text as
a further version — all versions are kept, so nothing is overwritten silently.

One save runs at a time (a second one, based on the same version, would be refused by
our own first); typing during a save schedules the next.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static, TextArea

from deskterm.screens.base import DeskApp, DeskNode
from deskterm.screens.drafts import Draft, DraftBox
from deskterm.screens.format import ago, line
from deskterm.screens.messages import TicketChanged
from deskterm.store.errors import Conflict
from deskterm.store.models import NoteVersion

DRAFT_DELAY = 0.3  # seconds after a change before the draft file is written
SAVE_DELAY = 1.5  # seconds of quiet before a new version is saved to the store


@dataclass
class NoteState:
    """What the editor's text is based on."""

    ticket: int
    base_version: int = 0  # the store version the text started from
    saved_body: str = ""  # the text of that version
    saved_by: str = ""
    saved_at: datetime | None = None
    conflict: str = ""  # why the last save was refused


class NotesEditor(TextArea):
    """The notes TextArea (``ctrl+s`` saves now; the screen's ``escape`` leaves it)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "save_now", "Save notes")]

    def action_save_now(self) -> None:
        panel = next(a for a in self.ancestors if isinstance(a, NotesPanel))
        panel.save_now()


class NotesPanel(DeskNode, Vertical):
    """Editor plus a status line (version, author, draft state)."""

    def __init__(self, ticket: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = NoteState(ticket)
        self.loaded = False
        self.saving_for: set[int] = set()  # tickets with a save in flight
        # Kept as an attribute: on unmount the children are gone but the text is needed.
        self.editor = NotesEditor(
            "",
            soft_wrap=True,
            tab_behavior="focus",
            placeholder="Resolution notes (Markdown) — saved as you type",
            id="notes-editor",
            read_only=True,  # until the ticket's notes (or its draft) are loaded
        )
        self._draft_timer: Timer | None = None
        self._save_timer: Timer | None = None
        self._draft_lock = threading.Lock()
        self._draft_seq = 0
        self._draft_written: dict[int, int] = {}

    def compose(self) -> ComposeResult:
        yield self.editor
        yield Static(id="notes-status")

    @property
    def drafts(self) -> DraftBox:
        return self.desk.drafts

    @property
    def saving(self) -> bool:
        return self.state.ticket in self.saving_for

    @property
    def dirty(self) -> bool:
        return self.loaded and self.editor.text != self.state.saved_body

    # -- loading and switching ------------------------------------------------------------

    def switch(self, ticket: int) -> None:
        """Another ticket: keep what was typed for this one, then wait for :meth:`load`."""
        self.flush()
        self.loaded = False
        self.state = NoteState(ticket)
        self.editor.read_only = True
        self.editor.load_text("")
        self.query_one("#notes-status", Static).update(Content.styled("Loading…", "dim"))

    def load(self, ticket: int, note: NoteVersion | None, draft: Draft | None) -> None:
        """Show the latest version, or a draft left behind (a crash, a closed terminal)."""
        if ticket != self.state.ticket or self.loaded:
            return
        state = self.state
        state.base_version = note.version if note else 0
        state.saved_body = note.body if note else ""
        state.saved_by = note.author if note else ""
        state.saved_at = note.saved_at if note else None
        text = state.saved_body
        if draft is not None and draft.body != state.saved_body:
            text = draft.body
            state.base_version = draft.base_version
            self.notify(
                f"Restored unsaved notes of ticket #{ticket} "
                f"from {draft.written_at.astimezone():%H:%M}.",
                title="Draft",
                markup=False,
            )
        self.loaded = True
        self.editor.load_text(text)
        self.editor.read_only = False
        if self.dirty:
            self._schedule_save()
        self._status()

    # -- typing ----------------------------------------------------------------------

    @on(TextArea.Changed, "#notes-editor")
    def _changed(self) -> None:
        if not self.loaded:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DELAY, self._write_draft)
        if not self.state.conflict:
            self._schedule_save()
        self._status()

    def _schedule_save(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._autosave)

    def _draft(self) -> Draft:
        state = self.state
        return Draft(state.ticket, self.editor.text, state.base_version, self.desk.clock())

    def _write_draft(self) -> None:
        if self.dirty:
            self._draft_seq += 1
            self._draft_worker(self._draft(), self._draft_seq)

    @work(thread=True, exit_on_error=False, group="notes-draft")
    def _draft_worker(self, draft: Draft, seq: int) -> None:
        # Writers can finish out of order; an older text never replaces a newer one.
        with self._draft_lock:
            if seq > self._draft_written.get(draft.ticket, 0):
                self.drafts.write(draft)
                self._draft_written[draft.ticket] = seq

    def _autosave(self) -> None:
        if self.saving:
            self._schedule_save()
        elif self.dirty and not self.state.conflict:
            self._start_save(self.state.base_version)

    def save_now(self) -> None:
        """``ctrl+s``: save now; after a conflict, save this text as a newer version."""
        if not self.dirty:
            self.notify("Notes are saved.", markup=False)
        elif self.saving:
            self._schedule_save()
        else:
            self._start_save(None if self.state.conflict else self.state.base_version)

    def _start_save(self, base: int | None) -> None:
        self.saving_for.add(self.state.ticket)
        self._save(self.state.ticket, self.editor.text, base, self._draft_seq)

    @work(thread=True, exit_on_error=False, group="notes-save")
    def _save(self, ticket: int, body: str, base: int | None, seq: int) -> None:
        """Save a version; ``seq`` is the last draft written for this text, which the
        save supersedes (a draft writer still queued with it must not run after)."""
        actor = self.desk.config.agent.name
        try:
            version = self.desk.store.tickets.save_note(ticket, body, actor, base)
        except Conflict as exc:
            with self._draft_lock:
                self.drafts.write(Draft(ticket, body, base or 0, self.desk.clock()))
            self.app.call_from_thread(self._refused, ticket, str(exc))
            return
        except BaseException:
            self.app.call_from_thread(self._save_failed, ticket)
            raise
        with self._draft_lock:
            self.drafts.discard(ticket, body)
            self._draft_written[ticket] = max(self._draft_written.get(ticket, 0), seq)
        self.app.call_from_thread(self._saved, ticket, version)

    def _saved(self, ticket: int, version: NoteVersion) -> None:
        self.saving_for.discard(ticket)
        self.post_message(TicketChanged(ticket))
        if ticket != self.state.ticket:
            return
        state = self.state
        state.base_version = version.version
        state.saved_body = version.body
        state.saved_by = version.author
        state.saved_at = version.saved_at
        state.conflict = ""
        if self.dirty:
            self._schedule_save()
        self._status()

    def _refused(self, ticket: int, why: str) -> None:
        self.notify(why + " Press ctrl+s to save yours as a new version.", severity="warning",
                    title="Notes", markup=False)  # fmt: skip
        self.saving_for.discard(ticket)
        if ticket == self.state.ticket:
            self.state.conflict = why
            self._status()

    def _save_failed(self, ticket: int) -> None:
        self.saving_for.discard(ticket)  # the error itself is shown by the worker handler
        if ticket == self.state.ticket:
            self._status()

    def _status(self) -> None:
        state = self.state
        if state.conflict:
            text = "Not saved: changed by someone else — ctrl+s saves yours as a new version"
        elif self.dirty:
            text = "Unsaved changes (draft kept; saving after a pause)"
        elif state.base_version:
            who = line(state.saved_by) or "someone"
            when = ago(state.saved_at, self.desk.clock())
            text = f"v{state.base_version} saved by {who} {when}"
        else:
            text = "No notes yet · autosaved, every version kept"
        self.query_one("#notes-status", Static).update(Content.styled(text, "dim"))

    # -- leaving -----------------------------------------------------------------------

    def flush(self) -> None:
        """Keep unsaved text now: a draft file, and a save unless one is refused."""
        for timer in (self._draft_timer, self._save_timer):
            if timer is not None:
                timer.stop()
        if not self.dirty:
            return
        self._draft_seq += 1
        self._draft_worker(self._draft(), self._draft_seq)
        if not self.state.conflict and not self.saving:
            self._start_save(self.state.base_version)

    def on_unmount(self) -> None:
        """Quitting (or the screen going away) mid-typing: keep what was typed.

        The draft file is written here, synchronously, because the event loop may be
        shutting down and a worker would not get to run; the store save then goes to
        an app-level worker that outlives this panel.
        """
        for timer in (self._draft_timer, self._save_timer):
            if timer is not None:
                timer.stop()
        if not self.dirty:
            return
        state, body = self.state, self.editor.text
        with self._draft_lock:
            self.drafts.write(self._draft())
        if not state.conflict:
            save_after_leaving(self.desk, state.ticket, body, state.base_version)


def save_after_leaving(desk: DeskApp, ticket: int, body: str, base: int) -> None:
    """Save notes whose panel is gone, in a worker owned by the app (it outlives screens).

    A refusal (someone else saved) leaves the draft file in place and says so.
    """
    actor = desk.config.agent.name

    def save() -> None:
        try:
            desk.store.tickets.save_note(ticket, body, actor, base)
        except Conflict as exc:
            desk.call_from_thread(
                desk.notify, f"{exc}", title="Notes", severity="warning", markup=False
            )
            return
        desk.drafts.discard(ticket, body)
        desk.call_from_thread(desk.post_message, TicketChanged(ticket))

    desk.run_worker(save, thread=True, group="notes-final", exit_on_error=False)
