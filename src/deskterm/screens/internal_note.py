"""Write an internal note: shown in the conversation to agents, never sent."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea


class InternalNoteScreen(ModalScreen[str | None]):
    """Dismisses with the note text (``ctrl+s``), or ``None`` (escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Add note", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(
                Content.styled(f"Internal note on #{self.number} (not sent)", "bold"),
                classes="dialog-title",
            )
            yield TextArea(id="internal-note", soft_wrap=True, tab_behavior="focus")
            yield Static(Content.styled("ctrl+s adds the note · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        body = self.query_one(TextArea).text.strip()
        if not body:
            self.notify("The note is empty.", severity="warning")
            return
        self.dismiss(body)

    def action_cancel(self) -> None:
        self.dismiss(None)
