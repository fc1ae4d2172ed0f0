"""Small widgets the screens share."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList


class VimOptionList(OptionList):
    """An option list that also moves with ``j``/``k`` and ``g``/``G``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
    ]


class KeyBar(Widget):
    """The footer: the current screen's keys, one line, one widget.

    A description written ``Group: detail`` shows as ``Group`` here (the help screen and
    the palette show it whole), so ``1-5 HEARD`` stands for five bindings. Hints that
    do not fit are left out whole, never cut mid-word.

    Textual's ``Footer`` builds a widget per key and rebuilds them whenever focus moves;
    this draws the same list (shown bindings of the focused widget, the screen and the
    app, in that order) as one line of text, so opening a screen stays cheap.
    """

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def render(self) -> Content:
        app = self.app
        seen: set[tuple[str, str]] = set()
        parts: list[Content] = []
        room = self.size.width
        for _, binding, enabled, _ in self.screen.active_bindings.values():
            if not binding.show or (binding.action, binding.description) in seen:
                continue
            seen.add((binding.action, binding.description))
            key_style = "bold" if enabled else "dim"
            part = Content.assemble(
                (f" {app.get_key_display(binding)} ", f"{key_style} $footer-key-foreground"),
                (binding.description.split(":")[0], "" if enabled else "dim"),
            )
            room -= part.cell_length + (1 if parts else 0)
            if room < 0:  # whole hints only: the rest is on ? (help)
                break
            parts.append(part)
        return Content(" ").join(parts)


class TitleBar(Widget):
    """The header: ``deskterm — store · agent`` (the app's title and subtitle), one widget."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        height: 1;
        background: $panel;
        content-align: center middle;
    }
    """

    def render(self) -> Content:
        app = self.app
        return Content.assemble((app.title, "bold"), (f" — {app.sub_title}", "dim"))


class PanelTabs(Widget):
    """The side panels' tab line (``Customer │ HEARD │ Notes``), the active one marked.

    Switching is by key (the ticket screen's Tab, ``1``–``5``, ``n``) or a click.
    """

    DEFAULT_CSS = """
    PanelTabs {
        height: 1;
        background: $panel;
    }
    """

    active: reactive[str] = reactive("")
    """The panel shown (a key of ``tabs``)."""

    class Chosen(Message):
        """A tab was clicked."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, tabs: dict[str, str], active: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tabs = tabs
        self.set_reactive(PanelTabs.active, active)

    def render(self) -> Content:
        parts = [
            Content.styled(f" {label} ", "reverse bold" if name == self.active else "dim")
            for name, label in self.tabs.items()
        ]
        return Content("│").join(parts)

    def on_click(self, event: events.Click) -> None:
        x = 0
        for name, label in self.tabs.items():
            x += len(label) + 3
            if event.x < x:
                self.post_message(self.Chosen(name))
                return
