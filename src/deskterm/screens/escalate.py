"""Escalate a ticket: another queue and/or priority, with a note saying why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from deskterm.screens.base import DeskNode
from deskterm.screens.format import priority_label
from deskterm.screens.prompt import LastItemSuggester
from deskterm.vocab import PRIORITIES


@dataclass(frozen=True)
class Escalation:
    """What to change (``None``: leave as is) and why (kept as an internal note)."""

    queue: str | None
    priority: str | None
    note: str


class EscalateScreen(DeskNode, ModalScreen[Escalation | None]):
    """Queue (with completions), priority and the required note in one small form.

    Enter in any field (or ``ctrl+s``) escalates once a note is written and something
    changes; Tab moves between the fields.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Escalate"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, number: int, queue: str, priority: str) -> None:
        super().__init__()
        self.number = number
        self.queue = queue
        self.priority = priority

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(f"Escalate #{self.number}", "bold"), classes="dialog-title")
            yield Static("Queue")
            yield Input(self.queue, id="escalate-queue", compact=True, select_on_focus=False)
            yield Static("Priority")
            yield Select(
                [(priority_label(p), p) for p in PRIORITIES],
                value=self.priority if self.priority in PRIORITIES else Select.BLANK,
                allow_blank=self.priority not in PRIORITIES,
                compact=True,
                id="escalate-priority",
            )
            yield Static("Why (required; kept as an internal note)")
            yield Input(placeholder="needs a billing specialist", id="escalate-note", compact=True)
            yield Static(Content.styled("Enter escalates · Tab: next · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one("#escalate-queue", Input).focus()
        self._load_queues()

    @work(thread=True, exclusive=True, group="suggestions", exit_on_error=False)
    def _load_queues(self) -> None:
        queues = self.desk.store.queue.distinct_values("queue")
        self.app.call_from_thread(self._set_queues, queues)

    def _set_queues(self, queues: list[str]) -> None:
        self.query_one("#escalate-queue", Input).suggester = LastItemSuggester(queues)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        queue = self.query_one("#escalate-queue", Input).value.strip()
        priority = self.query_one("#escalate-priority", Select).value
        note = self.query_one("#escalate-note", Input)
        changes = Escalation(
            queue=queue if queue and queue != self.queue else None,
            priority=priority if isinstance(priority, str) and priority != self.priority else None,
            note=note.value.strip(),
        )
        if changes.queue is None and changes.priority is None:
            self.notify("Change the queue, the priority or both.", severity="warning")
            self.query_one("#escalate-queue", Input).focus()
        elif not changes.note:
            self.notify("Say why it is escalated.", severity="warning")
            note.focus()
        else:
            self.dismiss(changes)

    def action_cancel(self) -> None:
        self.dismiss(None)
