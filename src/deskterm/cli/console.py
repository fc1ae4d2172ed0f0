"""Opening the TUI from the CLI."""

from __future__ import annotations

from deskterm.cli.common import State


def open_console(st: State) -> None:
    """Run the console on the store and config named by the global options."""
    from deskterm.app import make_app

    app = make_app(st.store(create=True), st.config())
    app.run()
