"""The Textual application: a thin shell that holds the services and pushes screens."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker

from deskterm.query import QueryError
from deskterm.screens.base import DeskApp, DeskNode
from deskterm.screens.drafts import DraftBox
from deskterm.screens.format import store_label
from deskterm.screens.live import MIN_REREAD, Live, PresenceChanged, StoreChanged
from deskterm.screens.messages import TicketChanged, TicketSequence
from deskterm.screens.queue import QueueScreen
from deskterm.screens.ticket_cache import TicketCache
from deskterm.settings import AgentSettings, Settings
from deskterm.store import Store, StoreError
from deskterm.store.types import utcnow

if TYPE_CHECKING:
    from textual.command import Provider


def _commands() -> type[Provider]:
    from deskterm.screens.commands import DeskCommands

    return DeskCommands


CONSOLE_PAGE_CACHE_MIB = 16  # per pooled SQLite connection (see Store.limit_page_cache)


class DesktermApp(DeskNode, DeskApp):
    """The agent console. Screens reach the store, config, clock and drafts from here."""

    TITLE = "deskterm"
    CSS_PATH = "deskterm.tcss"
    COMMANDS = App.COMMANDS | {_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", show=False),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),
        Binding("colon", "command_line", "Command line", show=False, key_display=":"),
    ]

    def __init__(
        self,
        store: Store,
        config: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        drafts: DraftBox | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.store.db.limit_page_cache(CONSOLE_PAGE_CACHE_MIB)
        self.store.sla.use_clock(clock)
        self.config = config
        self.clock = clock  # "now" for relative ages; fixed in snapshot tests
        self.drafts = drafts or DraftBox(store.location)
        self.ticket_cache = TicketCache()
        self.change_serial = 0  # bumped on every change; screens reload when it moved
        self.live = Live(self)
        self._reread_at = 0.0  # when the current screen last re-read after a StoreChanged
        self._reread_due = False
        self.sub_title = f"{store_label(store.location)} · {config.agent.name}"
        self.agent_configured = config.agent.name != AgentSettings().name

    def on_mount(self) -> None:
        self.push_screen(QueueScreen())
        self.run_worker(self.live.run, thread=True, group="live", exit_on_error=False)
        for warning in self.config.warnings:  # printed to stderr too, now behind the screen
            self.notify(warning, title="Config", severity="warning", markup=False, timeout=10)
        self.index_knowledge()
        # Everything built so far lives as long as the app. Freezing it keeps the
        # collector's full passes short: otherwise a 50-70 ms pause lands on a keypress.
        gc.freeze()

    @work(thread=True, exclusive=True, group="kb-index", exit_on_error=False)
    def index_knowledge(self) -> None:
        """Bring the article index in step with the kb folder (changed files only); a
        missing folder is left alone, a bad article is reported."""
        from deskterm.kb.folder import sync_folder
        from deskterm.kb.settings import kb_folder

        folder = kb_folder(self.config, self.store.location)
        if folder.is_dir():
            for failure in sync_folder(self.store, folder).failed[:3]:
                self.call_from_thread(self.notify, failure["reason"], title="Knowledge base",
                                      severity="warning", markup=False)  # fmt: skip

    # The other screens are imported when first shown: the queue paints sooner.

    def action_help(self) -> None:
        from deskterm.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_command_line(self) -> None:
        """``:`` — every action by name, with completion (see screens/command_line.py)."""
        from deskterm.screens.command_line import CommandLine, run_command
        from deskterm.screens.queue import QueueScreen

        under = self.screen
        views = [v.label for v in under.views] if isinstance(under, QueueScreen) else []
        self.push_screen(CommandLine(views), lambda text: run_command(self, text) if text else None)

    def open_ticket(self, number: int, sequence: TicketSequence | None) -> None:
        """Show a ticket. One ticket screen is built once and reused (opening a ticket
        then costs a refresh, not a screen); a ticket opened from a ticket gets its own."""
        from deskterm.screens.ticket import TicketScreen

        if not self.is_screen_installed("ticket"):
            self.install_screen(TicketScreen(number, sequence), "ticket")
        else:
            screen = self.get_screen("ticket")
            if screen in self.screen_stack:
                self.push_screen(TicketScreen(number, sequence))
                return
            cast(TicketScreen, screen).show_ticket(number, sequence)
        self.push_screen("ticket")

    def open_customer(self, customer_id: int) -> None:
        from deskterm.screens.customer import CustomerScreen

        self.push_screen(CustomerScreen(customer_id))

    def work_in_flight(self) -> list[Worker[object]]:
        """Workers that finish (tests and benchmarks wait for these); the live feed
        runs for as long as the console does."""
        return [w for w in self.workers if w.group != "live"]

    def on_ticket_changed(self, message: TicketChanged) -> None:
        self.change_serial += 1

    def on_store_changed(self, message: StoreChanged) -> None:
        """Someone (an agent, an import, a sync) changed tickets: the screen on top
        re-reads at once, the others when they come back."""
        self.change_serial += 1
        if self._reread_due:
            return
        wait = self._reread_at + MIN_REREAD - time.monotonic()
        if wait > 0:
            self._reread_due = True
            self.set_timer(wait, self._reread_current)
        else:
            self._reread_current()

    def _reread_current(self) -> None:
        self._reread_at, self._reread_due = time.monotonic(), False
        reread = getattr(self.screen, "reread", None)
        if callable(reread):
            reread()

    def on_presence_changed(self, message: PresenceChanged) -> None:
        shown = getattr(self.screen, "presence_changed", None)
        if callable(shown):
            shown()

    def show_error(self, error: BaseException) -> None:
        """A failed store call or worker, as one line the agent can act on."""
        expected = isinstance(error, StoreError | QueryError)
        text = str(error) if expected else f"{type(error).__name__}: {error}"
        self.notify(text, title="Error", severity="error", markup=False, timeout=8)
        if not expected:
            self.log.error(error)


def make_app(
    store: Store, config: Settings, *, clock: Callable[[], datetime] = utcnow
) -> DesktermApp:
    """The one app factory shared by the CLI, the tests and the snapshots."""
    return DesktermApp(store, config, clock=clock)
