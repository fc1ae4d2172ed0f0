"""The ticket screen's operations across tickets: merge, escalate and link.

A mixin, like :class:`~deskterm.screens.ticket_fields.TicketFields`: the bindings stay
on :class:`~deskterm.screens.ticket.TicketScreen` (the help screen lists them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work

from deskterm.screens.base import DeskNode
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.escalate import EscalateScreen, Escalation
from deskterm.screens.format import line
from deskterm.screens.messages import TicketChanged, TicketSequence
from deskterm.screens.prompt import PromptScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from deskterm.screens.ticket_cache import TicketData
    from deskterm.store import Store

    _Base = Screen[None]
else:
    _Base = object


class TicketLinks(DeskNode, _Base):
    """Merge, escalate and link (a mixin: :class:`TicketScreen` gives the ticket shown
    and how to show another)."""

    number: int
    sequence: TicketSequence | None
    data: TicketData | None

    if TYPE_CHECKING:

        def _changed(self) -> None: ...

        def show_ticket(self, number: int, sequence: TicketSequence | None) -> None: ...

    def _ticket_number(self, value: str | None) -> int | None:
        """The number typed into a prompt (``#`` allowed), or ``None`` after saying why."""
        if value is None:
            return None
        text = value.strip().lstrip("#")
        if not (text.isascii() and text.isdigit()):
            self.notify(f"{line(value)!r} is not a ticket number.", severity="warning",
                        markup=False)  # fmt: skip
            return None
        return int(text)

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _ticket_op(self, number: int, title: str, op: Callable[[Store, str], str]) -> None:
        """Run a store operation on ``number``; a StoreError shows as a notification."""
        said = op(self.desk.store, self.desk.config.agent.name)
        self.app.call_from_thread(self._op_done, number, title, said)

    def _op_done(self, number: int, title: str, said: str) -> None:
        self.notify(said, title=title, markup=False)
        if number == self.number:
            self._changed()
        else:
            self.post_message(TicketChanged(number))

    def action_merge(self) -> None:
        self.app.push_screen(
            PromptScreen(f"Merge #{self.number} into", "", placeholder="ticket number, e.g. 1234"),
            self._merge_into,
        )

    def _merge_into(self, value: str | None) -> None:
        target = self._ticket_number(value)
        if target is not None:
            self._check_merge(self.number, target)

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _check_merge(self, source: int, target: int) -> None:
        """Read the target first: an unknown number is refused before asking."""
        subject = self.desk.store.tickets.get_ticket(target).ticket.subject
        self.app.call_from_thread(self._confirm_merge, source, target, subject)

    def _confirm_merge(self, source: int, target: int, subject: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._merge(source, target)

        self.app.push_screen(
            ConfirmScreen(
                f"Merge #{source} into #{target} ({line(subject) or 'no subject'})?",
                f"The messages and tags of #{source} move to #{target}; "
                f"#{source} is closed and links to it.",
            ),
            answered,
        )

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _merge(self, source: int, target: int) -> None:
        self.desk.store.workflow.merge_tickets(source, target, self.desk.config.agent.name)
        self.app.call_from_thread(self._merged, source, target)

    def _merged(self, source: int, target: int) -> None:
        """Land on the ticket that kept everything; both are re-read everywhere."""
        self.notify(f"Merged #{source} into #{target}; #{source} is closed.", title="Merge",
                    markup=False)  # fmt: skip
        self.post_message(TicketChanged(source))
        self.post_message(TicketChanged(target))
        if self.number == source:
            self.show_ticket(target, self.sequence)

    def action_escalate(self) -> None:
        if self.data is not None:
            ticket = self.data.detail.ticket
            self.app.push_screen(
                EscalateScreen(self.number, ticket.queue, ticket.priority), self._escalation
            )

    def _escalation(self, wanted: Escalation | None) -> None:
        if wanted is None:
            return
        number = self.number

        def escalate(store: Store, actor: str) -> str:
            ticket = store.workflow.escalate(
                number, wanted.note, actor, queue=wanted.queue, priority=wanted.priority
            )
            return f"Escalated #{number}: queue {ticket.queue}, priority {ticket.priority}."

        self._ticket_op(number, "Escalate", escalate)

    def action_link(self) -> None:
        self.app.push_screen(
            PromptScreen(f"Link #{self.number} with", "", placeholder="ticket number, e.g. 1234"),
            self._link_to,
        )

    def _link_to(self, value: str | None) -> None:
        other = self._ticket_number(value)
        if other is None:
            return
        number = self.number

        def link(store: Store, actor: str) -> str:
            if store.workflow.link_tickets(number, other, actor):
                return f"Linked #{number} and #{other}."
            return f"#{number} and #{other} were linked already."

        self._ticket_op(number, "Link", link)
