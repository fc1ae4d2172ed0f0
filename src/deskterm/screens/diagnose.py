"""Diagnose: the root-cause category (from config) and a line of explanation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from deskterm.screens.widgets import VimOptionList


class DiagnoseScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with ``(category, text)``, or ``None`` on escape.

    Enter on a category moves to the text; Enter in the text finishes.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, causes: Sequence[str]) -> None:
        super().__init__()
        self.causes = list(causes)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled("Diagnose: root cause", "bold"), classes="dialog-title")
            yield VimOptionList(
                *(Option(Content(cause), id=str(n)) for n, cause in enumerate(self.causes)),
                id="causes",
            )
            yield Input(placeholder="What caused it? (optional)", id="cause-text", compact=True)
            yield Static(Content.styled("Enter picks, then Enter saves · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one("#causes", OptionList).focus()

    @on(OptionList.OptionSelected, "#causes")
    def _picked(self) -> None:
        self.query_one("#cause-text", Input).focus()

    @on(Input.Submitted, "#cause-text")
    def _submitted(self, event: Input.Submitted) -> None:
        causes = self.query_one("#causes", OptionList)
        index = causes.highlighted
        if index is None:
            causes.focus()
            return
        self.dismiss((self.causes[index], event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
