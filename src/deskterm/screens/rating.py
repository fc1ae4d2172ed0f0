"""Record a satisfaction score (CSAT, CES or NPS) with an optional comment."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from deskterm.screens.base import DeskNode
from deskterm.screens.messages import TicketChanged
from deskterm.store.errors import InvalidValue
from deskterm.store.satisfaction import SCALES, check_score

LABELS = {
    "csat": "CSAT: how satisfied, 1-5",
    "ces": "CES: how easy, 1-7 (effort)",
    "nps": "NPS: would recommend, 0-10",
}


class RatingScreen(DeskNode, ModalScreen[bool]):
    """Kind by ``tab`` through the three scales, score and comment; Enter records it
    (in a worker) and dismisses with ``True``; Esc dismisses with ``False``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+k", "kind", "Next scale", priority=True),
    ]

    def __init__(self, number: int, kind: str = "csat") -> None:
        super().__init__()
        self.number = number
        self.kind = kind

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(
                Content.styled(f"Satisfaction on #{self.number}", "bold"), classes="dialog-title"
            )
            yield Static(id="rating-kind")
            yield Input(placeholder="score", id="rating-score", compact=True, type="integer")
            yield Input(placeholder="comment (optional)", id="rating-comment", compact=True)
            yield Static(Content.styled("Enter records · ctrl+k next scale · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self._show_kind()
        self.query_one("#rating-score", Input).focus()

    def _show_kind(self) -> None:
        text = " · ".join(f"[{LABELS[k]}]" if k == self.kind else k.upper() for k in SCALES)
        self.query_one("#rating-kind", Static).update(Content(text))

    def action_kind(self) -> None:
        kinds = list(SCALES)
        self.kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)]
        self._show_kind()

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted)
    def _submit(self) -> None:
        raw = self.query_one("#rating-score", Input).value.strip()
        if not raw.lstrip("-").isdigit():
            self.notify("Type the score as a whole number.", severity="warning")
            return
        score = int(raw)
        try:
            check_score(self.kind, score)
        except InvalidValue as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        comment = self.query_one("#rating-comment", Input).value.strip()
        self._record(score, comment)

    @work(thread=True, exclusive=True, group="rating", exit_on_error=False)
    def _record(self, score: int, comment: str) -> None:
        actor = self.desk.config.agent.name
        self.desk.store.satisfaction.rate(self.number, self.kind, score, actor, comment=comment)
        self.app.call_from_thread(self._done, score)

    def _done(self, score: int) -> None:
        self.notify(f"Recorded {self.kind.upper()} {score} on #{self.number}.")
        self.app.post_message(TicketChanged(self.number))
        self.dismiss(True)
