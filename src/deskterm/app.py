"""The Textual application: a thin shell that pushes screens."""

from __future__ import annotations

from textual.app import App

from deskterm.config import Config
from deskterm.screens.queue import QueueScreen
from deskterm.store import Store


class DesktermApp(App[None]):
    """The agent console."""

    TITLE = "deskterm"
    CSS_PATH = "deskterm.tcss"

    def __init__(self, store: Store, config: Config) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.sub_title = store.location

    def on_mount(self) -> None:
        self.push_screen(QueueScreen())


def make_app(store: Store, config: Config) -> DesktermApp:
    """The one app factory shared by the CLI, the tests and the snapshots."""
    return DesktermApp(store, config)
