"""A customer: profile on top, every ticket on every channel below (paged)."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from deskterm.query import TicketFilter
from deskterm.screens.base import DeskNode
from deskterm.screens.columns import QUEUE_COLUMNS
from deskterm.screens.customer_panel import rating_line, render_profile
from deskterm.screens.ticket_table import TicketTable
from deskterm.screens.widgets import KeyBar, TitleBar
from deskterm.store.customers import CustomerProfile

# Every ticket is this customer's: the channel column takes the customer column's room.
CUSTOMER_COLUMNS = tuple(
    replace(c, shown_from=0) if c.key == "channel" else c
    for c in QUEUE_COLUMNS
    if c.key != "customer"
)


class CustomerScreen(DeskNode, Screen[None]):
    """All tickets of one customer, newest activity first; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("s", "ratings", "Satisfaction history"),
    ]

    def __init__(self, customer_id: int) -> None:
        super().__init__()
        self.customer_id = customer_id
        self.profile: CustomerProfile | None = None
        self._serial = 0

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(Content.styled("Loading…", "dim"), id="customer-profile")
        yield Static(id="customer-count")
        yield TicketTable(CUSTOMER_COLUMNS, id="customer-tickets")
        with VerticalScroll(id="customer-ratings"):
            yield Static(id="customer-ratings-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self._serial = self.desk.change_serial
        self.query_one(TicketTable).focus()
        self.query_one("#customer-ratings").display = False
        self._load(self.customer_id)

    @work(thread=True, exclusive=True, group="customer-load", exit_on_error=False)
    def _load(self, customer_id: int) -> None:
        store = self.desk.store
        profile = store.customers.get_customer(customer_id, ticket_limit=20)
        self.app.call_from_thread(self._show, profile)
        count = store.queue.count_tickets(TicketFilter(customer_ids=(profile.customer.id or 0,)))
        self.app.call_from_thread(self._show_count, count)

    def _show(self, profile: CustomerProfile) -> None:
        self.profile = profile
        self.query_one("#customer-profile", Static).update(render_profile(profile, ratings=0))
        self.query_one(TicketTable).show(TicketFilter(customer_ids=(profile.customer.id or 0,)))
        every = [rating_line(r) for r in profile.ratings] or [Content.styled("none yet", "dim")]
        title = Content.styled(
            f"Satisfaction ({profile.rating_count}) · s: back to tickets", "bold"
        )
        self.query_one("#customer-ratings-list", Static).update(Content("\n").join([title, *every]))

    def action_ratings(self) -> None:
        """Swap the ticket list for every satisfaction response, and back."""
        ratings = self.query_one("#customer-ratings")
        ratings.display = not ratings.display
        table = self.query_one(TicketTable)
        table.display = not ratings.display
        (ratings if ratings.display else table).focus()

    def _show_count(self, count: int) -> None:
        label = "ticket" if count == 1 else "tickets"
        self.query_one("#customer-count", Static).update(
            Content.styled(f"{count:,} {label} on every channel · Enter opens", "bold")
        )

    @on(TicketTable.Opened, "#customer-tickets")
    def _open(self, event: TicketTable.Opened) -> None:
        self.desk.open_ticket(event.number, self.query_one(TicketTable))

    def action_back(self) -> None:
        self.dismiss(None)

    def on_screen_resume(self) -> None:
        self.desk.live.show(None)
        if self.desk.change_serial != self._serial:
            self._serial = self.desk.change_serial
            self._load(self.customer_id)  # the profile and its ratings may have changed too
