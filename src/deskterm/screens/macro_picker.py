"""Pick a macro (canned response) from a fuzzy-filtered list."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from deskterm.screens.base import DeskNode
from deskterm.screens.format import line, priority_label, status_label
from deskterm.screens.reply_sending import channel_name

if TYPE_CHECKING:
    from deskterm.macros import Macro


def describe(macro: Macro) -> Content:
    """One option: the title, then the name and what the macro changes, dimmed."""
    does = [f"→ {status_label(macro.status)}"] if macro.status else []
    if macro.priority:
        does.append(priority_label(macro.priority))
    does.extend(f"+{line(tag)}" for tag in macro.tags)
    detail = " · ".join([line(macro.name), *does])
    return Content.assemble((line(macro.title), "bold"), ("  " + detail, "dim"))


class MacroPicker(DeskNode, ModalScreen["Macro | None"]):
    """Type to filter (letters in order, a macro's shortcut key first); Enter picks.

    Only macros meant for the ticket's channel are offered. Dismisses with the macro,
    or ``None``; a broken macro file is reported and closes the picker.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next macro", show=False),
        Binding("up", "move(-1)", "Previous macro", show=False),
    ]

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel
        self.macros: list[Macro] = []
        self.shown: list[Macro] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(
                Content.styled(f"Macro for a reply on {channel_name(self.channel)}", "bold"),
                classes="dialog-title",
            )
            yield Input(placeholder="type to filter", id="macro-filter", compact=True)
            yield OptionList(id="macro-list")
            yield Static(Content.styled("Enter inserts · ↑↓ choose · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.query_one(OptionList).loading = True
        self._load()

    @work(thread=True, exclusive=True, group="macros", exit_on_error=False)
    def _load(self) -> None:
        from deskterm.macros import MacroError, load_macros, macros_dir

        config = self.desk.config
        try:
            macros = load_macros(config)
        except MacroError as exc:
            self.app.call_from_thread(self._broken, str(exc))
            return
        self.app.call_from_thread(self._loaded, macros, str(macros_dir(config)))

    def _broken(self, why: str) -> None:
        self.notify(why, title="Macros", severity="error", markup=False, timeout=10)
        self.dismiss(None)

    def _loaded(self, macros: list[Macro], directory: str) -> None:
        self.query_one(OptionList).loading = False
        self.macros = macros
        if not macros:
            self.notify(
                f"No macros yet: add Markdown files to {directory}.", title="Macros", markup=False
            )
        self._filter(self.query_one(Input).value)

    @on(Input.Changed, "#macro-filter")
    def _typed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        from deskterm.macros import search

        self.shown = search(self.macros, query, self.channel)
        options = self.query_one(OptionList)
        options.clear_options()
        if self.shown:
            options.add_options(Option(describe(m), id=str(i)) for i, m in enumerate(self.shown))
            options.highlighted = 0
        elif self.macros:
            options.add_option(Option(Content.styled("No macro matches.", "dim"), disabled=True))

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    @on(Input.Submitted, "#macro-filter")
    def _submitted(self) -> None:
        self._pick(self.query_one(OptionList).highlighted)

    @on(OptionList.OptionSelected, "#macro-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def _pick(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.shown):
            self.notify("No macro to insert.", severity="warning", markup=False)
            return
        self.dismiss(self.shown[index])

    def action_cancel(self) -> None:
        self.dismiss(None)
