"""Replies and drafts: what a reply needs to be addressed and threaded, storing a sent
reply as an outbound message (first response, status), and the agent's drafts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.changes import load_ticket, log_event, status_side_effects, touch
from deskterm.store.errors import InvalidValue, NotFound
from deskterm.store.models import Customer, Identity, Message, ReplyDraft, Ticket
from deskterm.store.sla_clock import SlaClock
from deskterm.store.types import utcnow
from deskterm.vocab import STATUSES


@dataclass
class OutboundReply:
    """A reply that left deskterm (or, for chat, was handed to the agent to paste)."""

    body: str
    channel: str
    author_name: str
    author_address: str = ""
    recipients: str = ""
    subject: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: str = ""
    content_hash: str = ""
    delivered: bool = True
    sent_at: datetime = field(default_factory=utcnow)


class Replies:
    """Replies and drafts for the CLI and the console."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock

    def reply_context(self, number: int) -> tuple[Ticket, Customer | None, list[Message]]:
        """The ticket, its customer and its public messages (oldest first), to address
        and thread a reply. A merged ticket answers for the one it was merged into."""
        with self.db.read() as session:
            ticket = session.get(Ticket, number)
            if ticket is None:
                raise NotFound(f"There is no ticket #{number}.")
            if ticket.merged_into_id is not None:
                raise InvalidValue(
                    f"Ticket #{number} was merged into #{ticket.merged_into_id}; reply there."
                )
            customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
            messages = list(
                session.exec(
                    select(Message)
                    .where(Message.ticket_id == number, col(Message.direction) != "note")
                    .order_by(col(Message.sent_at), col(Message.id))
                ).all()
            )
        return ticket, customer, messages

    def customer_addresses(self, customer_id: int) -> list[str]:
        """The customer's email identities, oldest first."""
        with self.db.read() as session:
            return list(
                session.exec(
                    select(Identity.value)
                    .where(Identity.customer_id == customer_id, Identity.kind == "email")
                    .order_by(col(Identity.id))
                ).all()
            )

    def record_reply(
        self,
        number: int,
        reply: OutboundReply,
        actor: str,
        *,
        status: str | None = None,
    ) -> Message:
        """Store a reply as an outbound message, record the first response, set the
        status (``status``, else ``new`` becomes ``open``) and drop the agent's draft."""
        if status is not None and status not in STATUSES:
            raise InvalidValue(f"Status must be one of {', '.join(STATUSES)}, not {status!r}.")
        with self.db.write() as session:
            ticket = load_ticket(session, number, None)
            now = reply.sent_at
            source_key = (
                f"mail:{reply.message_id}"
                if reply.message_id
                else f"reply:{number}:{now.timestamp():.6f}"
            )
            msg = Message(
                ticket_id=number,
                direction="outbound",
                channel=reply.channel,
                author_name=reply.author_name,
                author_address=reply.author_address,
                recipients=reply.recipients,
                sent_at=now,
                date_source="deskterm",
                subject=reply.subject,
                body=reply.body,
                source_key=source_key,
                message_id=reply.message_id,
                in_reply_to=reply.in_reply_to,
                references=reply.references,
                content_hash=reply.content_hash,
                delivered=reply.delivered,
            )
            session.add(msg)
            ticket.message_count += 1
            session.flush()
            log_event(
                session,
                "reply",
                actor=actor,
                ticket_id=number,
                new=msg.id,
                detail={
                    "channel": reply.channel,
                    "to": reply.recipients,
                    "message_id": reply.message_id,
                    "delivered": reply.delivered,
                },
                at=now,
            )
            if ticket.first_response_at is None:
                ticket.first_response_at = now
                log_event(
                    session,
                    "first_response",
                    actor=actor,
                    ticket_id=number,
                    new=now.isoformat(),
                    at=now,
                )
            wanted = status or ("open" if ticket.status == "new" else None)
            if wanted is not None and wanted != ticket.status:
                old = ticket.status
                ticket.status = wanted
                status_side_effects(ticket, old, wanted, now)
                log_event(
                    session, "status", actor=actor, ticket_id=number, old=old, new=wanted, at=now
                )
            touch(session, ticket, now)
            self.clock.apply(session, ticket, now)
            session.execute(
                delete(ReplyDraft).where(
                    col(ReplyDraft.ticket_id) == number, col(ReplyDraft.author) == actor
                )
            )
            return msg

    def save_draft(
        self,
        number: int,
        author: str,
        body: str,
        *,
        macro: str | None = None,
        status_after: str | None = None,
        error: str | None = None,
    ) -> ReplyDraft:
        """Keep (or replace) the agent's unsent reply on a ticket."""
        with self.db.write() as session:
            load_ticket(session, number, None)
            draft = session.get(ReplyDraft, (number, author)) or ReplyDraft(
                ticket_id=number, author=author
            )
            draft.body = body
            draft.macro = macro
            draft.status_after = status_after
            draft.error = error
            draft.updated_at = utcnow()
            session.add(draft)
            return draft

    def get_draft(self, number: int, author: str) -> ReplyDraft | None:
        with self.db.read() as session:
            return session.get(ReplyDraft, (number, author))

    def drafts(self, author: str | None = None) -> list[ReplyDraft]:
        """Unsent replies, newest first (failed sends carry their ``error``)."""
        with self.db.read() as session:
            stmt = select(ReplyDraft).order_by(col(ReplyDraft.updated_at).desc())
            if author is not None:
                stmt = stmt.where(ReplyDraft.author == author)
            return list(session.exec(stmt).all())

    def discard_draft(self, number: int, author: str) -> bool:
        with self.db.write() as session:
            draft = session.get(ReplyDraft, (number, author))
            if draft is None:
                return False
            session.delete(draft)
            return True
