"""A one-line modal input with suggestions from the store (queue, assignee, tags)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from deskterm.screens.base import DeskNode


class LastItemSuggester(Suggester):
    """Completes the last comma-separated item (``vip, bil`` → ``vip, billing``)."""

    def __init__(self, values: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.values = sorted(set(values), key=str.lower)

    async def get_suggestion(self, value: str) -> str | None:
        head, sep, last = value.rpartition(",")
        stem = last.lstrip()
        if not stem:
            return None
        for candidate in self.values:
            if candidate.lower().startswith(stem.lower()) and candidate.lower() != stem.lower():
                return f"{head}{sep}{last[: len(last) - len(stem)]}{candidate}"
        return None


class PromptScreen(DeskNode, ModalScreen[str | None]):
    """Dismisses with the text typed (stripped), or ``None`` on escape.

    ``suggest`` names a store field (``queue``, ``assignee``, ``tag``) whose existing
    values are offered as completions (right arrow accepts).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        value: str,
        *,
        suggest: str | None = None,
        extra: Sequence[str] = (),
        allow_empty: bool = False,
        placeholder: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.suggest = suggest
        self.extra = tuple(extra)
        self.allow_empty = allow_empty
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="dialog-title")
            yield Input(
                self.value,
                placeholder=self.placeholder,
                id="prompt-input",
                select_on_focus=False,
                compact=True,
            )
            yield Static(Content.styled("Enter saves · → completes · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.suggest:
            self._load_suggestions(self.suggest)

    @work(thread=True, exclusive=True, group="suggestions", exit_on_error=False)
    def _load_suggestions(self, field: str) -> None:
        values = [*self.desk.store.queue.distinct_values(field), *self.extra]
        self.app.call_from_thread(self._set_suggester, values)

    def _set_suggester(self, values: list[str]) -> None:
        self.query_one(Input).suggester = LastItemSuggester(values)

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value and not self.allow_empty:
            self.notify("Type a value, or press Esc to cancel.", severity="warning")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
