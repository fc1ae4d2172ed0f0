"""What every console screen and data widget shares: the app's services, worker errors.

Screens and widgets reach the store, config, clock and drafts through :attr:`desk`
(attributes down), and inherit the single handler that turns a failed worker into a
visible notification instead of a crash or a silent gap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from deskterm.app import DesktermApp


class DeskNode:
    """Mixin for DOM nodes of the console (put it before the Textual base class)."""

    @property
    def desk(self) -> DesktermApp:
        """The running console, typed (``self.app`` is a plain ``App``)."""
        return cast("DesktermApp", cast(DOMNode, self).app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker runs with ``exit_on_error=False``; its failure shows here."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.desk.show_error(event.worker.error)
