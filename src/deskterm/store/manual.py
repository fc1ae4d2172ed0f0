"""Tickets an agent opens by hand with an outbound first message (an email to a
customer, a call the agent made): the customer and an empty ticket come first, then
the message goes out through the reply service (:func:`deskterm.reply.send_reply`),
so a failed send leaves the ticket and a draft, never a message that was not sent.

Inbound first messages (a call or a walk-in) go through the ingest pipeline instead,
like any other message from a customer (:func:`deskterm.manual.open_ticket`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.changes import log_event
from deskterm.store.errors import InvalidValue, StoreError
from deskterm.store.models import Customer, Identity, Ticket
from deskterm.store.sla_clock import SlaClock
from deskterm.store.types import utcnow


class ManualTickets:
    """``store.manual``: the customer and the ticket of an outbound first message."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock

    def customer_for(self, name: str, identities: Sequence[tuple[str, str]]) -> int:
        """The customer who owns one of ``identities`` (kind, value), else a new one
        with all of them; identities the customer lacks are added."""
        if not identities:
            raise InvalidValue("Give the customer's email or phone, so replies find them.")
        for attempt in range(2):  # an import may add the same identity meanwhile
            try:
                return self._customer_for(name, identities)
            except StoreError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _customer_for(self, name: str, identities: Sequence[tuple[str, str]]) -> int:
        now = utcnow()
        with self.db.write() as session:
            owners = {
                (kind, value): cid
                for kind, value, cid in session.exec(
                    select(Identity.kind, Identity.value, Identity.customer_id).where(
                        col(Identity.value).in_([v for _, v in identities])
                    )
                )
            }
            found = next((owners[i] for i in identities if i in owners), None)
            if found is None:
                fallback = identities[0][1]
                customer = Customer(name=name.strip() or fallback, created_at=now, updated_at=now)
                session.add(customer)
                session.flush()
                assert customer.id is not None
                found = customer.id
            for kind, value in identities:
                if (kind, value) not in owners:
                    domain = value.rpartition("@")[2] if kind == "email" else None
                    session.add(Identity(customer_id=found, kind=kind, value=value,
                                         domain=domain, display=name.strip()))  # fmt: skip
            return found

    def open_ticket(
        self, customer_id: int, subject: str, channel: str, queue: str, actor: str
    ) -> int:
        """A new ticket with no message yet (the first one is the agent's, sent next)."""
        now = utcnow()
        with self.db.write() as session:
            if session.get(Customer, customer_id) is None:
                raise InvalidValue(f"There is no customer #{customer_id}.")
            ticket = Ticket(subject=subject.strip()[:300], channel=channel, queue=queue,
                            customer_id=customer_id, created_at=now, updated_at=now)  # fmt: skip
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            log_event(session, "created", actor=actor, ticket_id=ticket.id, new=channel,
                      detail={"source": "manual", "first": "outbound"}, at=now)  # fmt: skip
            self.clock.apply(session, ticket, now)
            return ticket.id
