"""The help screen (``?``, F1): every binding of the screen it was opened from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.keys import format_key
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from deskterm.screens.widgets import KeyBar

_SECTION_NAMES = {
    "QueueScreen": "Queue",
    "TicketScreen": "Ticket",
    "CustomerScreen": "Customer",
    "TicketTable": "Ticket list",
    "Conversation": "Conversation (focused)",
    "HistoryList": "Ticket history (focused)",
    "HeardSteps": "HEARD checklist (focused)",
    "NotesEditor": "Resolution notes editor (focused)",
    "ReplyEditor": "Reply editor (focused)",
}


def _section_name(node_type: type[DOMNode]) -> str:
    name = node_type.__name__
    return _SECTION_NAMES.get(name) or re.sub(r"(?<!^)(?=[A-Z])", " ", name).capitalize()


def _own_bindings(node_type: type[DOMNode]) -> list[Binding]:
    bindings: list[BindingType] = list(node_type.__dict__.get("BINDINGS", []))
    return [b for b in Binding.make_bindings(bindings) if b.description]


Section = tuple[str, DOMNode, list[Binding]]


def binding_sections(screen: Screen[object], app: App[object]) -> list[Section]:
    """(title, node, bindings) for the screen, the console's widgets on it, and the app.

    The node is where the bindings' actions run (the palette runs them there).
    """
    sections: list[Section] = [(_section_name(type(screen)), screen, _own_bindings(type(screen)))]
    seen: set[type[DOMNode]] = set()
    for widget in screen.query("*"):
        kind = type(widget)
        if kind in seen or not kind.__module__.startswith("deskterm."):
            continue
        seen.add(kind)
        own = _own_bindings(kind)
        if own:
            sections.append((_section_name(kind), widget, own))
    everywhere = _own_bindings(type(app))
    everywhere.append(Binding("ctrl+q", "quit", "Quit deskterm"))
    sections.append(("Everywhere", app, everywhere))
    return [section for section in sections if section[2]]


def key_label(binding: Binding) -> str:
    """The key as typed (``]``, ``ctrl+d``, ``G``), not a footer abbreviation like ``1-5``."""
    return format_key(binding.key)


def render_keys(sections: Iterable[Section]) -> Content:
    """A two-column list: keys (merged when they share an action) and what they do."""
    lines: list[Content] = []
    for name, _, bindings in sections:
        if lines:
            lines.append(Content(""))
        lines.append(Content.styled(name, "bold underline"))
        merged: dict[tuple[str, str], list[str]] = {}
        for binding in bindings:
            merged.setdefault((binding.action, binding.description), []).append(key_label(binding))
        for (_, description), keys in merged.items():
            shown = " ".join(dict.fromkeys(keys))
            lines.append(Content.assemble((f"  {shown:<12} ", "bold"), description))
    return Content("\n").join(lines)


def render_commands() -> Content:
    """The ``:`` command line's commands, after the keys."""
    from deskterm.screens.command_line import help_lines

    lines = [Content(""), Content.styled("Command line (:)", "bold underline")]
    lines += [Content.assemble((f"  {cmd:<22} ", "bold"), what) for cmd, what in help_lines()]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Keys of the screen underneath; escape, ``?`` or ``q`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q,f1", "close", "Close help"),
        Binding("j", "scroll('down')", "Scroll down", show=False),
        Binding("k", "scroll('up')", "Scroll up", show=False),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        sections = binding_sections(self.under, self.app)
        title = f"Keys — {sections[0][0] if sections else 'deskterm'}"
        with VerticalScroll(id="help-body", classes="dialog wide"):
            yield Static(Content.styled(title, "bold"), classes="dialog-title")
            yield Static(render_keys(sections), id="help-keys")
            yield Static(render_commands(), id="help-commands")
        yield KeyBar()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, direction: str) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        if direction == "down":
            body.scroll_down()
        else:
            body.scroll_up()
