"""The new-ticket form (N on the queue): a phone call, a walk-in, an email to log or send.

The customer is searched by name, email or phone (:func:`deskterm.manual.find_customers`)
and picked from the list, or is new: found by the email or phone typed, or created
with the name given. The first message is what the customer said, or (outbound) what
the agent sends or said: an outbound email goes out through ``[smtp]``. Saving runs
:func:`deskterm.manual.open_ticket` in a thread worker and dismisses with the new
ticket's number (also when the email could not be sent: the draft waits there).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from deskterm.manual import MANUAL_CHANNELS, NewTicket
from deskterm.screens.base import DeskNode
from deskterm.screens.format import line

FIELDS = (
    ("name", "New customer: name"),
    ("email", "New customer: email"),
    ("phone", "New customer: phone"),
    ("subject", "Subject"),
    ("body", "First message"),
)
DIRECTIONS = (("From the customer (inbound)", "inbound"), ("From me (outbound)", "outbound"))
NEW_CUSTOMER = "new"


def customer_label(row: dict[str, Any]) -> Content:
    """A search hit in full: name, organization, every identity, and the id."""
    facts = [line(row.get("organization")), *(line(i) for i in row["identities"])]
    detail = " · ".join(f for f in facts if f)
    return Content.assemble(
        (line(row["name"]) or "(no name)", "bold"), (f"  {detail}" if detail else "", "dim"),
        (f"  #{row['id']}", "dim"),
    )  # fmt: skip


class NewTicketScreen(DeskNode, ModalScreen[int | None]):
    """Fields, then ctrl+s (or Enter on the last one) saves; Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save the ticket"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.customer_id: int | None = None
        self.hits: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="new-ticket", classes="dialog wide"):
            yield Static(Content.styled("New ticket", "bold"), classes="dialog-title")
            yield Select(
                [(c.replace("_", " "), c) for c in MANUAL_CHANNELS],
                value="phone", allow_blank=False, id="channel", compact=True,
            )  # fmt: skip
            yield Select(DIRECTIONS, value="inbound", allow_blank=False, id="direction",
                         compact=True)  # fmt: skip
            yield Input(placeholder="Find customer: name, email or phone", id="find",
                        compact=True)  # fmt: skip
            yield OptionList(id="matches")
            yield Static(Content.styled("New customer (below)", "dim"), id="picked")
            for key, label in FIELDS:
                yield Input(placeholder=label, id=key, compact=True)
            yield Static(Content.styled("Tab next field · ctrl+s saves · Esc cancels", "dim"))

    def on_mount(self) -> None:
        self.query_one("#matches", OptionList).display = False
        self.query_one("#find", Input).focus()

    def _value(self, key: str) -> str:
        return self.query_one(f"#{key}", Input).value.strip()

    # -- customer search ----------------------------------------------------------------

    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, group="customer-search", exit_on_error=False)
    def _search(self, text: str) -> None:
        from deskterm.manual import find_customers

        hits = find_customers(self.desk.store, self.desk.config, text)
        self.app.call_from_thread(self._found, text, hits)

    def _found(self, text: str, hits: list[dict[str, Any]]) -> None:
        if text != self.query_one("#find", Input).value:
            return  # typed on since: a newer search is coming
        self.hits = hits
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        if text.strip():
            matches.add_options(Option(customer_label(h), id=str(h["id"])) for h in hits)
            matches.add_option(Option(Content.styled("New customer…", "italic"), id=NEW_CUSTOMER))
            matches.highlighted = 0
        matches.display = bool(text.strip())

    @on(Input.Submitted, "#find")
    def _find_submitted(self) -> None:
        matches = self.query_one("#matches", OptionList)
        if matches.display and matches.highlighted is not None:
            option = matches.get_option_at_index(matches.highlighted)
            self._pick(option.id)

    def on_key(self, event: Any) -> None:
        """↑/↓ in the search field move through the hits."""
        matches = self.query_one("#matches", OptionList)
        if self.focused is self.query_one("#find") and matches.display:
            if event.key == "down":
                matches.action_cursor_down()
                event.stop()
            elif event.key == "up":
                matches.action_cursor_up()
                event.stop()

    @on(OptionList.OptionSelected, "#matches")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def _pick(self, option_id: str | None) -> None:
        """Take a hit as the customer, or start a new one with what was typed."""
        picked = self.query_one("#picked", Static)
        new_fields = [self.query_one(f"#{k}", Input) for k in ("name", "email", "phone")]
        hit = next((h for h in self.hits if str(h["id"]) == option_id), None)
        if hit is None:
            self.customer_id = None
            typed = self._value("find")
            key = (
                "email" if "@" in typed else "phone" if any(c.isdigit() for c in typed) else "name"
            )
            self.query_one(f"#{key}", Input).value = typed
            picked.update(Content.styled("New customer (below)", "dim"))
        else:
            self.customer_id = int(hit["id"])
            picked.update(Content.assemble(("Customer: ", "dim"), customer_label(hit)))
        for field in new_fields:
            field.disabled = hit is not None
        self.query_one("#matches", OptionList).display = False
        (self.query_one("#subject") if hit else new_fields[0]).focus()

    # -- saving -------------------------------------------------------------------------

    @on(Input.Submitted, "#body")
    def _last_field(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        new = NewTicket(
            channel=str(self.query_one("#channel", Select).value),
            subject=self._value("subject"),
            body=self._value("body"),
            name=self._value("name"),
            email=self._value("email") or None,
            phone=self._value("phone") or None,
            customer_id=self.customer_id,
            direction=str(self.query_one("#direction", Select).value),
        )
        self._save(new)

    @work(thread=True, exclusive=True, group="new-ticket", exit_on_error=False)
    def _save(self, new: NewTicket) -> None:
        from deskterm.manual import NotSent, open_ticket

        try:
            number = open_ticket(self.desk.store, self.desk.config, new)
        except NotSent as exc:  # the ticket is there, with the message as a draft
            self.app.call_from_thread(self.desk.show_error, exc)
            number = exc.number
        self.app.call_from_thread(self.dismiss, number)

    def action_cancel(self) -> None:
        self.dismiss(None)
