"""The new-ticket form (N on the queue): a phone call, a walk-in or an email to log.

The customer is found by email or phone, or created with the name given; the first
message is what the customer said. Saving runs :func:`deskterm.manual.open_ticket`
in a thread worker and dismisses with the new ticket's number.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from deskterm.manual import MANUAL_CHANNELS, NewTicket
from deskterm.screens.base import DeskNode

FIELDS = (
    ("name", "Customer name"),
    ("email", "Email (finds the customer)"),
    ("phone", "Phone (finds the customer)"),
    ("subject", "Subject"),
    ("body", "What they said"),
)


class NewTicketScreen(DeskNode, ModalScreen[int | None]):
    """Fields, then ctrl+s (or Enter on the last one) saves; Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save the ticket"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="new-ticket", classes="dialog wide"):
            yield Static(Content.styled("New ticket", "bold"), classes="dialog-title")
            yield Select(
                [(c.replace("_", " "), c) for c in MANUAL_CHANNELS],
                value="phone",
                allow_blank=False,
                id="channel",
                compact=True,
            )
            for key, label in FIELDS:
                yield Input(placeholder=label, id=key, compact=True)
            yield Static(Content.styled("Tab next field · ctrl+s saves · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def _value(self, key: str) -> str:
        return self.query_one(f"#{key}", Input).value.strip()

    @on(Input.Submitted, "#body")
    def _last_field(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        channel = self.query_one("#channel", Select).value
        new = NewTicket(
            channel=str(channel),
            subject=self._value("subject"),
            body=self._value("body"),
            name=self._value("name"),
            email=self._value("email") or None,
            phone=self._value("phone") or None,
        )
        self._save(new)

    @work(thread=True, exclusive=True, group="new-ticket", exit_on_error=False)
    def _save(self, new: NewTicket) -> None:
        from deskterm.manual import open_ticket

        number = open_ticket(self.desk.store, self.desk.config, new)
        self.app.call_from_thread(self.dismiss, number)

    def action_cancel(self) -> None:
        self.dismiss(None)
