"""The queue: tickets newest activity first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from deskterm.textsafe import clean_line

if TYPE_CHECKING:
    from deskterm.app import DesktermApp
    from deskterm.store.queue import TicketRow


class QueueScreen(Screen[None]):
    """The first page of the queue (the full console lands with the TUI issue)."""

    BINDINGS = [Binding("q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "Pri", "Status", "Customer", "Subject")
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        app: DesktermApp = self.app  # type: ignore[assignment]
        page = app.store.list_tickets(limit=100)
        self.app.call_from_thread(self._show, page.rows)

    def _show(self, rows: list[TicketRow]) -> None:
        table = self.query_one(DataTable)
        for row in rows:
            table.add_row(
                str(row.number), row.priority, row.status, clean_line(row.customer),
                clean_line(row.subject),
            )  # fmt: skip
