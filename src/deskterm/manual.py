"""Tickets opened by hand: a phone call, a walk-in, an email the agent logs or sends.

An inbound first message (what the customer said) goes through the same ingest
pipeline as imported mail and chats, so the customer is found or created by identity,
and triage rules, emotion cues and SLA clocks apply exactly as for any other ticket.

An outbound first message (the agent writes or calls first) opens the ticket empty and
then goes out through the reply service, :func:`deskterm.reply.send_reply`: on the
email channel through ``[smtp]`` with the same Message-ID, subject token and draft
rules as every reply. A send that fails keeps the ticket and the draft, and says why
(:class:`NotSent`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deskterm.connectors.records import InboundRecord, Party
from deskterm.store.errors import InvalidValue
from deskterm.store.types import utcnow
from deskterm.vocab import CHANNELS

if TYPE_CHECKING:
    from email.message import EmailMessage

    from deskterm.settings import Settings
    from deskterm.store import Store

MANUAL_CHANNELS = ("phone", "in_person", "email")
DIRECTIONS = ("inbound", "outbound")


@dataclass(frozen=True)
class NewTicket:
    """What the agent typed: who (a customer picked by id, or an email, a phone number
    or both, and a name), how they got in touch, and the first message: what the
    customer said (``inbound``) or what the agent sends or said (``outbound``)."""

    channel: str
    subject: str
    body: str
    name: str = ""
    email: str | None = None
    phone: str | None = None
    customer_id: int | None = None
    direction: str = "inbound"


class NotSent(InvalidValue):
    """The ticket was opened but its outbound first message was not sent; the text
    says why, and the message waits as the agent's draft on ticket ``number``."""

    def __init__(self, number: int, why: str) -> None:
        super().__init__(why)
        self.number = number


def find_customers(
    store: Store, config: Settings, text: str, limit: int = 8
) -> list[dict[str, Any]]:
    """Customers whose name, organization, email or phone matches ``text`` (a phone
    number as typed, ``+351 912 345 678``, is also tried in E.164), for the form's
    customer search."""
    from deskterm.connectors.phones import to_e164

    text = text.strip()
    if not text:
        return []
    found = {c["id"]: c for c in store.customers.list_customers(text, limit)}
    phone = to_e164(text, config.chat.default_region) if any(ch.isdigit() for ch in text) else None
    if phone and phone != text:
        for c in store.customers.list_customers(phone, limit):
            found.setdefault(c["id"], c)
    return list(found.values())[:limit]


def _identities(store: Store, config: Settings, new: NewTicket) -> list[tuple[str, str]]:
    """The customer's (kind, value) identities: the typed email and phone, or those of
    the picked customer, the channel's kind first."""
    if new.customer_id is not None:
        profile = store.customers.get_customer(new.customer_id, ticket_limit=0, rating_limit=0)
        found = [(i.kind, i.value) for i in profile.identities]
    else:
        found = [("email", new.email.strip().lower())] if new.email else []
        if new.phone:
            from deskterm.connectors.phones import to_e164

            phone = to_e164(new.phone, config.chat.default_region)
            if phone is None:
                raise InvalidValue(f"{new.phone!r} is not a phone number.")
            found.append(("phone", phone))
    if not found:
        raise InvalidValue("Give the customer's email or phone, so replies find them.")
    wanted = "email" if new.channel == "email" else "phone"
    return sorted(found, key=lambda i: i[0] != wanted)


def open_ticket(
    store: Store,
    config: Settings,
    new: NewTicket,
    *,
    transport: Callable[[EmailMessage], None] | None = None,
) -> int:
    """Store the ticket and its first message; the new ticket's number. An outbound
    email is sent (``transport`` replaces SMTP, as in :func:`~deskterm.reply.send_reply`);
    :class:`NotSent` when it could not be."""
    if new.channel not in CHANNELS:
        raise InvalidValue(f"Channel must be one of {', '.join(MANUAL_CHANNELS)}.")
    if new.direction not in DIRECTIONS:
        raise InvalidValue("The first message is inbound (from the customer) or outbound.")
    if not new.subject.strip() or not new.body.strip():
        raise InvalidValue("A new ticket needs a subject and a first message.")
    identities = _identities(store, config, new)
    if new.direction == "outbound":
        return _open_outbound(store, config, new, identities, transport)
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


def _open_outbound(
    store: Store,
    config: Settings,
    new: NewTicket,
    identities: list[tuple[str, str]],
    transport: Callable[[EmailMessage], None] | None,
) -> int:
    """The customer, an empty ticket, then the message through the reply service."""
    from deskterm.reply import ReplyError, send_reply

    if new.channel == "email" and identities[0][0] != "email":
        raise InvalidValue("An email needs the customer's email address.")
    if new.channel == "email" and not config.agent.email:
        raise InvalidValue("Set [agent] email in the config to send email.")
    customer = new.customer_id or store.manual.customer_for(new.name, identities)
    actor = config.agent.name
    number = store.manual.open_ticket(
        customer, new.subject, new.channel, config.ingest.default_queue, actor
    )
    try:
        send_reply(store, config, number, new.body, actor=actor, transport=transport)
    except ReplyError as exc:
        # The reply service speaks of "the reply"; here it is the ticket's first message.
        why = str(exc).replace(f"The reply to #{number}", "its first message", 1)
        raise NotSent(number, f"Opened #{number}, but {why[:1].lower()}{why[1:]}") from exc
    return number
