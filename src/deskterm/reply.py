"""Replying to a ticket: one service for the console and ``deskterm reply``.

* **Email tickets** are sent through SMTP (:mod:`deskterm.mailer`) with ``From`` the
  agent, ``To`` the customer, ``Subject`` ``Re: … [#N]`` (the token threads the
  customer's answer back), ``In-Reply-To``/``References`` from the conversation and
  a fresh ``Message-ID``; then stored as an outbound message.
* **Chat tickets** (exports are read-only) store the reply as outbound and *not
  delivered by deskterm*; the console copies it to the clipboard for the agent to
  paste into the chat.
* Internal notes are :meth:`Store.add_internal_note`; nothing here ever sends one.

The reply is saved as a draft before anything is sent, so a failed send (or a crash)
loses nothing: :class:`ReplyError` says why and the draft waits in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TYPE_CHECKING

from deskterm.textsafe import clean_line, clean_text

if TYPE_CHECKING:
    from deskterm.macros import Macro
    from deskterm.settings import Settings
    from deskterm.store import Store
    from deskterm.store.models import Customer, Message, Ticket

# Reply/forward prefixes and ticket tokens, stripped before adding our own.
MAX_REFERENCES = 20


class ReplyError(Exception):
    """The reply was not sent (or not recorded); the message says why. The draft is kept."""


class NeedsConfirmation(ReplyError):
    """Solving with HEARD steps open needs the agent's confirmation (policy ``warn``);
    ask, then call again with ``confirm_solve=True``."""


@dataclass
class ReplyResult:
    """What happened: the stored message and what the console should do next."""

    number: int
    message: Message
    delivered: bool
    status: str
    clipboard_text: str | None = None
    recipients: str = ""
    actions: list[str] = field(default_factory=list)


def thread_headers(messages: Sequence[Message]) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for a reply to the newest message that has an id.

    RFC 5322 §3.6.4: the parent's References (or its In-Reply-To) plus its Message-ID,
    capped to the most recent :data:`MAX_REFERENCES`.
    """
    parent = next((m for m in reversed(messages) if m.message_id), None)
    if parent is None or parent.message_id is None:
        return None, []
    chain = parent.references.split() or ([parent.in_reply_to] if parent.in_reply_to else [])
    refs = list(dict.fromkeys([*chain, parent.message_id]))
    return parent.message_id, refs[-MAX_REFERENCES:]


def customer_address(
    store: Store, customer: Customer | None, messages: Sequence[Message]
) -> str | None:
    """Where the reply goes: the address the customer last wrote from, else their first
    email identity."""
    for msg in reversed(messages):
        if msg.direction == "inbound" and msg.channel == "email" and "@" in msg.author_address:
            return msg.author_address
    if customer is not None and customer.id is not None:
        addresses = store.replies.customer_addresses(customer.id)
        if addresses:
            return addresses[0]
    return None


def compose_email(
    config: Settings,
    ticket: Ticket,
    to: str,
    body: str,
    messages: Sequence[Message],
    *,
    to_name: str = "",
) -> EmailMessage:
    """The RFC 5322 message for a reply (not sent); ``Re:`` only when the customer
    wrote first."""
    from deskterm.ingest.threads import format_token, reply_subject, strip_subject
    from deskterm.store.types import utcnow

    agent = config.agent
    if not agent.email:
        raise ReplyError("Set [agent] email in the config to send replies by email.")
    assert ticket.id is not None
    msg = EmailMessage()
    msg["From"] = formataddr((agent.name, agent.email))
    msg["To"] = formataddr((clean_line(to_name), to))
    subject = clean_line(ticket.subject)
    if any(m.direction == "inbound" for m in messages):
        msg["Subject"] = reply_subject(subject, ticket.id)
    else:  # the agent writes first (a ticket opened by hand): nothing to answer
        msg["Subject"] = f"{strip_subject(subject)} {format_token(ticket.id)}".strip()
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=agent.email.rpartition("@")[2] or None)
    in_reply_to, references = thread_headers(messages)
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(references)
    msg["X-Deskterm-Ticket"] = str(ticket.id)
    msg.set_content(body)
    return msg


def _check_solve(store: Store, config: Settings, number: int, status: str | None, ok: bool) -> None:
    from deskterm.heard import Verdict, check_status

    if status is None:
        return
    check = check_status(store, number, status, config.heard.solve_policy)
    if check.verdict is Verdict.REFUSE:
        raise ReplyError(f"{check.reason}; the policy requires them before solving.")
    if check.verdict is Verdict.CONFIRM and not ok:
        raise NeedsConfirmation(f"{check.reason}; confirm to solve anyway.")


def send_reply(
    store: Store,
    config: Settings,
    number: int,
    body: str,
    *,
    actor: str | None = None,
    macro: Macro | None = None,
    status: str | None = None,
    confirm_solve: bool = False,
    transport: Callable[[EmailMessage], None] | None = None,
) -> ReplyResult:
    """Send (email) or record (chat) a reply to ticket ``number``.

    ``status`` (else the macro's) is set once the reply is stored; a macro's priority
    and tags are applied too. ``transport`` replaces SMTP (for embedding); by default
    the ``[smtp]`` settings are used. Raises :class:`ReplyError` with the reason when
    nothing was sent; the text stays in the agent's draft (:meth:`Store.get_draft`).
    """
    from deskterm import mailer
    from deskterm.ingest.pipeline import content_hash
    from deskterm.settings import ConfigError
    from deskterm.store.errors import StoreError
    from deskterm.store.replies import OutboundReply
    from deskterm.vocab import STATUSES

    actor = actor or config.agent.name
    body = clean_text(body).strip("\n").rstrip()
    if not body.strip():
        raise ReplyError("The reply is empty.")
    status_after = status or (macro.status if macro else None)
    if status_after is not None and status_after not in STATUSES:
        raise ReplyError(f"Status must be one of {', '.join(STATUSES)}, not {status_after!r}.")
    ticket, customer, messages = store.replies.reply_context(number)
    store.replies.save_draft(
        number, actor, body, macro=macro.name if macro else None, status_after=status_after
    )
    _check_solve(store, config, number, status_after, confirm_solve)

    def failed(why: str) -> ReplyError:
        store.replies.save_draft(
            number,
            actor,
            body,
            macro=macro.name if macro else None,
            status_after=status_after,
            error=why,
        )
        return ReplyError(f"The reply to #{number} was not sent: {why} The draft is kept.")

    body_out = body + "\n"
    if ticket.channel == "email":
        to = customer_address(store, customer, messages)
        if to is None:
            raise failed("the customer has no email address.")
        try:
            name = customer.name if customer and "@" not in customer.name else ""
            email = compose_email(config, ticket, to, body_out, messages, to_name=name)
            send = transport or (lambda m: mailer.send(config.require_smtp(), m))
            send(email)
        except (mailer.SendError, ConfigError, ReplyError) as exc:
            raise failed(str(exc).rstrip(".") + ".") from exc
        from deskterm.connectors.records import InboundRecord, Party

        agent = config.agent
        record = InboundRecord(
            source_key="",
            channel="email",
            sent_at=ticket.created_at,
            author=Party("email", agent.email),
            body=body_out,
            subject=str(email["Subject"]),
        )
        reply = OutboundReply(
            body=body_out,
            channel="email",
            author_name=agent.name,
            author_address=agent.email,
            recipients=to,
            subject=str(email["Subject"]),
            message_id=str(email["Message-ID"]),
            in_reply_to=str(email["In-Reply-To"]) if email["In-Reply-To"] else None,
            references=str(email["References"] or ""),
            content_hash=content_hash(record),
            delivered=True,
        )
    else:
        reply = OutboundReply(
            body=body_out,
            channel=ticket.channel,
            author_name=config.agent.name,
            delivered=False,
        )
    try:
        stored = store.replies.record_reply(number, reply, actor, status=status_after)
    except StoreError as exc:
        # The draft saved above is still there: recording it is what failed.
        what = "was sent but could not be stored" if reply.delivered else "could not be stored"
        raise ReplyError(f"The reply to #{number} {what}: {exc} The draft is kept.") from exc
    actions: list[str] = []
    if macro is not None:
        from dataclasses import replace

        from deskterm.macros import apply_actions

        actions = apply_actions(store, number, replace(macro, status=None), actor)
    final = store.tickets.get_ticket(number).ticket
    return ReplyResult(
        number=number,
        message=stored,
        delivered=reply.delivered,
        status=final.status,
        clipboard_text=None if reply.delivered else body,
        recipients=reply.recipients,
        actions=actions,
    )
