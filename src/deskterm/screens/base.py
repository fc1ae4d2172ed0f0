"""What every console screen and data widget shares: the app's services, worker errors.

Screens and widgets reach the store, config, clock and drafts through :attr:`desk`
(attributes down), and inherit the single handler that turns a failed worker into a
visible notification instead of a crash or a silent gap. :class:`DeskApp` says what
they may use of the app; the app (``deskterm.app``) imports the screens, never the
other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, cast

from textual.app import App
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from deskterm.screens.drafts import DraftBox
    from deskterm.screens.live import Live
    from deskterm.screens.messages import TicketSequence
    from deskterm.screens.ticket_cache import TicketCache
    from deskterm.settings import Settings
    from deskterm.store import Store


class DeskApp(App[None]):
    """The console app as the screens see it (:class:`deskterm.app.DesktermApp`)."""

    store: Store
    config: Settings
    clock: Callable[[], datetime]  # "now" for relative ages; fixed in snapshot tests
    drafts: DraftBox
    ticket_cache: TicketCache
    change_serial: int  # bumped on every change; screens reload when it moved
    live: Live  # presence of other agents and changes by others
    agent_configured: bool  # an [agent] is set: "My unsolved" means someone

    def work_in_flight(self) -> list[Worker[object]]:
        """Workers that finish (not the live feed)."""
        raise NotImplementedError

    def open_ticket(self, number: int, sequence: TicketSequence | None) -> None:
        """Show a ticket."""
        raise NotImplementedError

    def open_customer(self, customer_id: int) -> None:
        """Show a customer."""
        raise NotImplementedError

    def action_help(self) -> None:
        """Show every key and command."""
        raise NotImplementedError

    def show_error(self, error: BaseException) -> None:
        """A failed store call or worker, as one line the agent can act on."""
        raise NotImplementedError


class DeskNode:
    """Mixin for DOM nodes of the console (put it before the Textual base class)."""

    @property
    def desk(self) -> DeskApp:
        """The running console, typed (``self.app`` is a plain ``App``)."""
        return cast(DeskApp, cast(DOMNode, self).app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker runs with ``exit_on_error=False``; its failure shows here."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.desk.show_error(event.worker.error)
