"""The reply composer under the conversation: write, pick a macro, send; never lose text.

The text is the agent's reply draft in the store (:meth:`Store.save_draft`), written a
moment after each change in a worker, so it is there again when the composer opens
next time — after leaving the ticket, a failed send, or the terminal being closed
(the last change is written on unmount). Sending goes through
:func:`deskterm.reply.send_reply` (SMTP for email tickets, recorded and copied to the
clipboard for chat tickets), which keeps the draft whenever nothing was sent.

Draft writes can finish out of order and can still be queued when a reply is sent;
each carries a sequence number and only a newer one than the last written (or
cancelled) runs, so an older text never replaces a newer one and a sent reply never
comes back as a draft.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static, TextArea

from deskterm.screens.choice import ChoiceScreen
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.format import line, status_label
from deskterm.screens.reply_sending import DraftState, ReplySending, channel_name
from deskterm.vocab import STATUSES

if TYPE_CHECKING:
    from deskterm.macros import Macro
    from deskterm.store.models import ReplyDraft

DRAFT_DELAY = 0.5  # seconds after a change before the draft is written to the store
UNCHANGED = "unchanged"  # the status choice that leaves the status to the macro, or as is


class ReplyEditor(TextArea):
    """The reply TextArea; its keys act on the composer around it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send reply"),
        Binding("ctrl+o", "editor", "Edit in $EDITOR"),
        Binding("ctrl+t", "status_after", "Status after send"),
        Binding("ctrl+g", "discard", "Discard draft"),
        Binding("escape", "leave", "Leave reply (draft kept)", show=False),
    ]

    @property
    def composer(self) -> ReplyComposer:
        return next(a for a in self.ancestors if isinstance(a, ReplyComposer))

    def action_send(self) -> None:
        self.composer.send()

    def action_editor(self) -> None:
        self.composer.open(then=self.composer.edit_externally)

    def action_status_after(self) -> None:
        self.composer.choose_status()

    def action_discard(self) -> None:
        self.composer.discard()

    def action_leave(self) -> None:
        self.composer.leave()


class ReplyComposer(ReplySending, Vertical):
    """A header line (recipient, macro, status after sending) and the editor.

    Hidden until :meth:`open`; the ticket screen tells it which ticket is shown
    (:meth:`switch`) and reloads the ticket when it posts :class:`Sent` (sending is
    in :mod:`deskterm.screens.reply_sending`).
    """

    class Left(Message):
        """The agent left the editor (escape); the draft is kept."""

    def __init__(self, number: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.number = number
        self.loaded = False  # the ticket's draft and recipient are shown
        self.loading = False
        self.channel = ""
        self.to: str | None = None
        self.macro: Macro | None = None
        self.status_after: str | None = None
        self.saved = DraftState()
        self.sending = set()
        self.editor = ReplyEditor(
            "",
            soft_wrap=True,
            tab_behavior="focus",
            placeholder="Write the reply — kept as a draft as you type",
            id="reply-editor",
            read_only=True,
        )
        self._then: list[Callable[[], None]] = []
        self._timer: Timer | None = None
        self._lock = threading.Lock()
        self._seq = 0
        self._written: dict[int, int] = {}  # ticket -> last draft sequence written or cancelled

    def compose(self) -> ComposeResult:
        yield Static(id="reply-head")
        yield self.editor

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def state(self) -> DraftState:
        name = self.macro.name if self.macro else None
        return DraftState(self.editor.text, name, self.status_after)

    @property
    def dirty(self) -> bool:
        return self.loaded and self.state != self.saved

    # -- opening, switching ------------------------------------------------------------

    def open(self, *, focus: bool = True, then: Callable[[], None] | None = None) -> None:
        """Show the composer with the saved draft; ``then`` runs once it is loaded."""
        self.add_class("-open")
        if focus:
            self.editor.focus()
        if then is not None:
            self._then.append(then)
        if self.loaded:
            self._run_pending()
        elif not self.loading:
            self.loading = True
            self._head("Loading the draft…")
            self._load(self.number)

    @work(thread=True, exclusive=True, group="reply-load", exit_on_error=False)
    def _load(self, number: int) -> None:
        from deskterm.macros import MacroError, find_macro, load_macros
        from deskterm.reply import customer_address

        store, config = self.desk.store, self.desk.config
        try:
            draft = store.replies.get_draft(number, config.agent.name)
            ticket, customer, messages = store.replies.reply_context(number)
            to = customer_address(store, customer, messages) if ticket.channel == "email" else None
        except BaseException:
            self.app.call_from_thread(self._load_failed, number)
            raise
        macro, problem = None, ""
        if draft is not None and draft.macro:
            try:
                macro = find_macro(load_macros(config), draft.macro)
            except MacroError as exc:
                problem = str(exc)
        self.app.call_from_thread(self._loaded, number, ticket.channel, to, draft, macro, problem)

    def _load_failed(self, number: int) -> None:
        if number == self.number:
            self.loading = False
            self._then.clear()
            self.close()

    def _loaded(
        self,
        number: int,
        channel: str,
        to: str | None,
        draft: ReplyDraft | None,
        macro: Macro | None,
        problem: str,
    ) -> None:
        if number != self.number:
            return
        self.loading, self.loaded = False, True
        self.channel, self.to, self.macro = channel, to, macro
        body = ""
        if draft is not None:
            body = draft.body
            self.status_after = draft.status_after
            when = draft.updated_at.astimezone()
            failed = f" The last send failed: {draft.error}" if draft.error else ""
            self.notify(
                f"Restored your unsent reply to #{number} from {when:%H:%M}.{failed}",
                title="Reply draft",
                severity="warning" if draft.error else "information",
                markup=False,
            )
        if problem:
            self.notify(problem, title="Macro", severity="error", markup=False)
        self.editor.load_text(body)
        self.editor.move_cursor(self.editor.document.end)
        self.editor.read_only = False
        self.saved = DraftState(body, macro.name if macro else None, self.status_after)
        self._head()
        self._run_pending()

    def _run_pending(self) -> None:
        pending, self._then = self._then, []
        for action in pending:
            action()

    def switch(self, number: int) -> None:
        """Another ticket is shown: keep this one's draft, close, forget its state."""
        self._flush()
        self.number = number
        self.loaded = self.loading = False
        self.macro, self.status_after, self.to, self.channel = None, None, None, ""
        self._then.clear()
        self.saved = DraftState()
        self.editor.load_text("")
        self.editor.read_only = True
        self.close()

    def close(self) -> None:
        self.remove_class("-open")

    def leave(self) -> None:
        """Escape: back to the conversation; an empty composer closes."""
        if self.loaded and not self.editor.text.strip() and self.macro is None:
            self.close()
        self.post_message(self.Left())

    # -- the draft ---------------------------------------------------------------------

    @on(TextArea.Changed, "#reply-editor")
    def _changed(self) -> None:
        if self.loaded:
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DRAFT_DELAY, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self.dirty and self.number not in self.sending:
            self._seq += 1
            self._write(self.number, self.state, self._seq)

    @work(thread=True, exit_on_error=False, group="reply-draft")
    def _write(self, number: int, state: DraftState, seq: int) -> None:
        with self._lock:
            if seq <= self._written.get(number, 0):
                return  # a newer text was written, or the reply went out
            self._store_draft(number, state)
            self._written[number] = seq
            if number == self.number:
                self.saved = state

    def _store_draft(self, number: int, state: DraftState) -> None:
        store, actor = self.desk.store, self.desk.config.agent.name
        if state.body.strip():
            store.replies.save_draft(
                number, actor, state.body, macro=state.macro, status_after=state.status
            )
        else:
            store.replies.discard_draft(number, actor)

    def _cancel_writes(self, number: int) -> None:
        """Writes queued so far for ``number`` must not run (the text is being sent or
        discarded)."""
        if self._timer is not None:
            self._timer.stop()
        with self._lock:
            self._seq += 1
            self._written[number] = self._seq

    def on_unmount(self) -> None:
        """Quitting mid-typing: write the draft now, synchronously — the event loop is
        going away and a worker might never run."""
        if self._timer is not None:
            self._timer.stop()
        if self.dirty and self.number not in self.sending:
            self._cancel_writes(self.number)
            with self._lock:
                self._store_draft(self.number, self.state)

    # -- macro, status, $EDITOR, discard -------------------------------------------------

    def use_macro(self, macro: Macro) -> None:
        """Fill in a macro (rendered for this ticket) and apply its actions on send."""

        def fill() -> None:
            self._fill_macro(self.number, macro)

        self.open(then=fill)

    @work(thread=True, exit_on_error=False, group="reply-macro")
    def _fill_macro(self, number: int, macro: Macro) -> None:
        from deskterm.macros import render_for

        text = render_for(self.desk.store, self.desk.config, number, macro)
        self.app.call_from_thread(self._insert, number, macro, text)

    def _insert(self, number: int, macro: Macro, text: str) -> None:
        if number != self.number or not self.loaded:
            return
        self.macro = macro
        self._put(text)

    def insert_text(self, text: str) -> None:
        """Put text (a knowledge-base article or link) into the reply at the cursor."""
        self.open(then=lambda: self._put(text) if self.loaded else None)

    def _put(self, text: str) -> None:
        editor = self.editor
        if not editor.text.strip():
            editor.replace(text, (0, 0), editor.document.end)
            editor.move_cursor((0, 0))  # read it from the top
        else:
            _, column = editor.cursor_location
            editor.insert(("\n" if column else "") + text)
        editor.focus()
        self._head()
        self._schedule()

    def choose_status(self) -> None:
        if not self.loaded:
            self.open(then=self.choose_status)
            return
        current = self.status_after or UNCHANGED

        def label(value: str) -> str:
            if value != UNCHANGED:
                return status_label(value)
            if self.macro is not None and self.macro.status:
                return f"Leave it to the macro ({status_label(self.macro.status)})"
            return "Leave the status as it is"

        def chosen(value: str | None) -> None:
            if value is not None:
                self.status_after = None if value == UNCHANGED else value
                self._head()
                self._schedule()
            self.editor.focus()

        self.app.push_screen(
            ChoiceScreen("Status after sending", (UNCHANGED, *STATUSES), current, labels=label),
            chosen,
        )

    def edit_externally(self) -> None:
        """Edit the reply in ``$VISUAL``/``$EDITOR`` (the console is suspended meanwhile)."""
        from deskterm.editor import EditorError, edit_text

        if self.number in self.sending:
            self.notify("The reply is being sent.", severity="warning", markup=False)
            return
        try:
            with self.app.suspend():
                text = edit_text(self.editor.text)
        except (EditorError, SuspendNotSupported) as exc:
            why = str(exc) or "this terminal cannot hand over to an editor."
            self.notify(why, title="Editor", severity="error", markup=False)
            return
        if text.strip() != self.editor.text.strip():
            self.editor.replace(text, (0, 0), self.editor.document.end)
        self.editor.focus()

    def discard(self) -> None:
        """Throw the draft away (after a yes)."""
        if not self.loaded or (not self.editor.text.strip() and not self.saved.body):
            self.notify("There is no reply draft to discard.", markup=False)
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                self.editor.focus()
                return
            self._cancel_writes(self.number)
            self._discard(self.number)
            self._reset()
            self.close()
            self.post_message(self.Left())

        self.app.push_screen(
            ConfirmScreen(
                f"Discard the reply draft of #{self.number}?", "The text is deleted, not sent."
            ),
            answered,
        )

    @work(thread=True, exit_on_error=False, group="reply-draft")
    def _discard(self, number: int) -> None:
        with self._lock:
            self.desk.store.replies.discard_draft(number, self.desk.config.agent.name)

    def _reset(self) -> None:
        self.macro, self.status_after = None, None
        self.saved = DraftState()
        self.editor.load_text("")
        self._head()

    # -- header --------------------------------------------------------------------------

    def _head(self, doing: str = "") -> None:
        if self.channel == "email":
            where = f"Reply to {line(self.to)}" if self.to else "Reply (no email address!)"
        elif self.channel:
            where = f"Reply on {channel_name(self.channel)} (copied, not sent)"
        else:
            where = "Reply"
        facts = [where]
        if self.macro is not None:
            facts.append(f"macro {line(self.macro.title)}")
        status = self.status_after or (self.macro.status if self.macro else None)
        if status:
            facts.append(f"then {status_label(status)}")
        if doing:
            facts.append(doing)
        self.query_one("#reply-head", Static).update(
            Content.assemble((facts[0], "bold"), (" · " + " · ".join(facts[1:]), "dim"))
            if len(facts) > 1
            else Content.styled(facts[0], "bold")
        )
