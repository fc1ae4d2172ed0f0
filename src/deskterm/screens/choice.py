"""A small modal list to pick one value (status, priority)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deskterm.screens.widgets import VimOptionList


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of ``values``; dismisses with the value, or ``None`` on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        values: Sequence[str],
        current: str | None,
        *,
        labels: Callable[[str], str] = str,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.values = list(values)
        self.current = current
        self.labels = labels

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            options = [
                Option(
                    Content(("● " if value == self.current else "  ") + self.labels(value)),
                    id=value,
                )
                for value in self.values
            ]
            yield VimOptionList(*options, id="choices")
            yield Static(Content.styled("Enter picks · Esc cancels", "dim"))

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        if self.current in self.values:
            choices.highlighted = self.values.index(self.current)
        choices.focus()

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
