"""Tickets opened by hand: a phone call, a walk-in, an email the agent logs.

The first message goes through the same ingest pipeline as imported mail and chats,
so the customer is found or created by identity, and triage rules, emotion cues and
SLA clocks apply exactly as for any other ticket.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deskterm.connectors.records import InboundRecord, Party
from deskterm.store.errors import InvalidValue
from deskterm.store.types import utcnow
from deskterm.vocab import CHANNELS

if TYPE_CHECKING:
    from deskterm.settings import Settings
    from deskterm.store import Store

MANUAL_CHANNELS = ("phone", "in_person", "email")


@dataclass(frozen=True)
class NewTicket:
    """What the agent typed: who (an email, a phone number or both, and a name), how
    they got in touch, and what they said."""

    channel: str
    subject: str
    body: str
    name: str = ""
    email: str | None = None
    phone: str | None = None


def open_ticket(store: Store, config: Settings, new: NewTicket) -> int:
    """Store the ticket and its first (inbound) message; the new ticket's number."""
    if new.channel not in CHANNELS:
        raise InvalidValue(f"Channel must be one of {', '.join(MANUAL_CHANNELS)}.")
    if not new.subject.strip() or not new.body.strip():
        raise InvalidValue("A new ticket needs a subject and a first message.")
    identities = [("email", new.email.strip().lower())] if new.email else []
    if new.phone:
        from deskterm.connectors.phones import to_e164

        phone = to_e164(new.phone, config.chat.default_region)
        if phone is None:
            raise InvalidValue(f"{new.phone!r} is not a phone number.")
        identities.append(("phone", phone))
    if not identities:
        raise InvalidValue("Give the customer's email or phone, so replies find them.")
    (kind, value), links = identities[0], tuple(identities[1:])
    key = f"manual:{uuid.uuid4().hex}"
    record = InboundRecord(
        source_key=key,
        channel=new.channel,
        sent_at=utcnow(),
        author=Party(kind, value, new.name.strip(), links=links),
        body=new.body.strip(),
        subject=new.subject.strip(),
        direction="inbound",
        conversation=key,
        conversation_title=new.subject.strip(),
        date_source="manual",
    )
    from deskterm.ingest.pipeline import Ingestor

    Ingestor(store, config).run([record], connector="manual")
    number = store.tickets.ticket_of_message(key)
    if number is None:
        raise InvalidValue("The ticket could not be stored; see deskterm import failures.")
    return number
