"""What an import run produces and keeps: the summary, the hooks' view of a message,
and the caches of one run (:class:`Run`), with the batch lookups that fill them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from deskterm.attachments import AttachmentStore
from deskterm.connectors.records import AttachmentRecord, InboundRecord, Party, content_hash
from deskterm.ingest.threads import normalize_subject
from deskterm.settings import Settings
from deskterm.store.ingest_ops import IngestWriter
from deskterm.store.ticket_state import TicketState
from deskterm.textsafe import clean_line

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    """What an import did; printed for people and as JSON for scripts."""

    messages_new: int = 0
    messages_duplicate: int = 0
    messages_failed: int = 0
    tickets_created: int = 0
    tickets_updated: int = 0
    tickets_reopened: int = 0
    customers_created: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def seen(self) -> int:
        return self.messages_new + self.messages_duplicate + self.messages_failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, other: IngestSummary) -> None:
        for key, value in asdict(other).items():
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, key, getattr(self, key) + value)
        self.failures.extend(other.failures)
        self.interrupted = self.interrupted or other.interrupted

    def failed(self, failures: Sequence[tuple[str, str, str]]) -> None:
        """Count (source, position, reason) failures, keeping them for the report."""
        self.messages_failed += len(failures)
        self.failures.extend({"source": s, "position": p, "reason": r} for s, p, r in failures)


@dataclass
class HookContext:
    """What an ingest hook (triage rules, emotion cues) sees for one new message."""

    record: InboundRecord
    direction: str
    ticket: TicketState
    new_ticket: bool
    customer_id: int | None
    writer: IngestWriter
    message: dict[str, Any]
    events: list[dict[str, Any]]
    # The customer was created by this run: the store holds nothing of theirs before it.
    new_customer: bool = False


class IngestHook(Protocol):
    """Called for every stored message after its ticket is known, before the write.

    A hook may also have an ``end_batch()`` method, called once after the batch's
    messages are placed and before they are written (for work done per ticket rather
    than per message).
    """

    def __call__(self, ctx: HookContext) -> None: ...


class IngestError(Exception):
    """An import or sync cannot go on; the message is one sentence for the user."""


def chat_agents(config: Settings) -> set[str]:
    """``[chat] agents`` as matched: case-folded, and phone numbers also in E.164 so
    ``"+1 415 555 0100"`` in the config matches the ``+14155550100`` identity."""
    from deskterm.connectors.phones import looks_like_phone, to_e164

    agents = set()
    for entry in config.chat.agents:
        agents.add(entry.casefold())
        if looks_like_phone(entry):
            phone = to_e164(entry, config.chat.default_region)
            if phone:
                agents.add(phone.casefold())
    return agents


# Ticket fields an agent may set that ingest also decides (status by replies, the rest
# by triage rules): once someone else changed one during a run, the run leaves it be.
_AGENT_FIELDS = ("status", "priority", "queue", "assignee")
# Tickets kept from batch to batch, the most recently used: mail continues the tickets
# of recent threads; an older one is read again when its thread goes on.
_KNOWN_LIMIT = 10_000
# Message-IDs → tickets kept from batch to batch, the newest; older ones are asked of
# the store (see preload_threads) when a reply refers to them.
_THREADS_LIMIT = 50_000


class Run:
    """Caches that live for one import run (cleared if a batch has to be replayed).

    Rows the store owns (ticket states, identities) are only kept for one batch: the
    next batch reads them again, so a change an agent or another import made in
    between (a status, a customer merge) is what the run builds on.
    """

    def __init__(self) -> None:
        self.identities: dict[tuple[str, str], tuple[int, int]] = {}
        self.tickets: dict[int, TicketState] = {}
        # ticket → the agent fields as this run last wrote them
        self.left: dict[int, tuple[Any, ...]] = {}
        self.held: dict[int, frozenset[str]] = {}
        # tickets as this run last read or wrote them, kept while their version holds
        self.known: dict[int, TicketState] = {}
        self.conversations: dict[str, int] = {}
        self.conversation_customer: dict[str, int] = {}
        self.message_tickets: dict[str, int] = {}
        self.reply_tickets: dict[str, int] = {}
        self.new_customers: set[int] = set()
        self.followups: dict[int, int] = {}
        # chat conversation → its latest ticket (None: it has none yet)
        self.sessions: dict[str, int | None] = {}
        # identities looked up this batch and not stored (until this batch adds them)
        self.absent: set[tuple[str, str]] = set()

    def replay(self) -> Run:
        """Caches for replaying a batch that failed: none of its own, only what the
        run knows about others' changes."""
        run = Run()
        run.left, run.held = self.left, self.held
        return run

    def new_batch(self) -> None:
        """Forget what the store may have changed since the last batch committed."""
        known = self.known
        for state in self.tickets.values():
            self.left[state.id] = tuple(getattr(state, n) for n in _AGENT_FIELDS)
            known.pop(state.id, None)  # to the end: the most recently used
            known[state.id] = state
        for _ in range(len(known) - _KNOWN_LIMIT):
            del known[next(iter(known))]
        for ids in (self.message_tickets, self.reply_tickets):
            for _ in range(len(ids) - _THREADS_LIMIT):
                del ids[next(iter(ids))]
        self.tickets = {}
        self.identities = {}
        self.absent = set()

    def adopt(self, state: TicketState, *ids: int) -> TicketState:
        """The batch's one copy of a ticket read from the store (under its own id and
        any merged-away ids that led to it), marking the fields changed by others."""
        state = self.tickets.setdefault(state.id, state)
        for other in ids:
            self.tickets[other] = state
        left = self.left.get(state.id)
        if left is not None:
            state.held = self.held[state.id] = self.held.get(state.id, frozenset()) | {
                n for n, v in zip(_AGENT_FIELDS, left, strict=True) if getattr(state, n) != v
            }
        return state

    def drop_duplicates(
        self, writer: IngestWriter, records: list[InboundRecord], summary: IngestSummary
    ) -> list[InboundRecord]:
        known = writer.existing_source_keys([r.source_key for r in records])
        pairs = [(r.message_id, r.content_hash) for r in records if r.message_id]
        known_pairs = writer.existing_message_hashes(pairs) if pairs else set()
        # Mail without a Message-ID (an IMAP copy and an mbox copy have different
        # source keys) is recognized by its content alone.
        bare = [r.content_hash for r in records if not r.message_id and r.channel == "email"]
        known_bare = writer.existing_bare_mail_hashes(bare) if bare else set()
        fresh: list[InboundRecord] = []
        for record in records:
            pair = (record.message_id, record.content_hash)
            is_bare = not record.message_id and record.channel == "email"
            if (
                record.source_key in known
                or (record.message_id and pair in known_pairs)
                or (is_bare and record.content_hash in known_bare)
            ):
                summary.messages_duplicate += 1
                continue
            known.add(record.source_key)
            if record.message_id:
                known_pairs.add(pair)  # type: ignore[arg-type]
            elif is_bare:
                known_bare.add(record.content_hash)
            fresh.append(record)
        return fresh

    def preload_threads(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        """Find, in two queries for the whole batch, the tickets of stored messages these
        mails refer to and of stored replies to them (an import out of order sees a
        reply before the message it answers), so threading asks nothing per message."""
        mail = [r for r in records if r.conversation is None]
        tickets = self.message_tickets
        refs = {ref for r in mail for ref in (r.in_reply_to, *r.references) if ref}
        refs.difference_update(tickets)
        if refs:
            tickets.update(writer.tickets_of_message_ids(refs))
        ids = {r.message_id for r in mail if r.message_id}
        ids.difference_update(self.reply_tickets)
        if ids:
            for message_id, ticket_id in writer.tickets_replying_to(ids).items():
                self.reply_tickets.setdefault(message_id, ticket_id)

    def preload_sessions(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        """The latest ticket of every chat conversation new to this run, in one query."""
        sessions = self.sessions
        keys = {
            r.conversation for r in records if r.conversation and r.conversation not in sessions
        }
        if not keys:
            return
        found = writer.latest_tickets_for(keys)
        for key in keys:
            state = found.get(key)
            sessions[key] = state.id if state is not None else None

    def preload_tickets(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        """Read, in one query per batch, the tickets these records are likely to join
        (by thread, session or subject), so placing them asks nothing per message."""
        ids: set[int] = set()
        for r in records:
            if r.conversation:
                ids.add(self.sessions.get(r.conversation) or 0)
                continue
            ids.update(
                self.message_tickets.get(ref) or 0 for ref in (r.in_reply_to, *r.references) if ref
            )
            if r.message_id:
                ids.add(self.reply_tickets.get(r.message_id) or 0)
            subject = normalize_subject(r.subject)
            for party in (r.author, *r.recipients) if subject else ():
                known = self.identities.get((party.kind, party.value))
                if known is not None:
                    ids.add(self.conversations.get(f"subject:{known[1]}:{subject}") or 0)
        ids.discard(0)
        ids.difference_update(self.tickets)
        cached = {i: self.known[i] for i in ids if i in self.known}
        current = writer.versions(cached) if cached else {}
        for ticket_id, state in cached.items():
            if current.get(ticket_id) == state.version:  # nobody wrote it since
                self.adopt(state)
                ids.discard(ticket_id)
        for ticket_id, state in writer.tickets(ids).items() if ids else ():
            self.adopt(state, ticket_id)

    def preload_identities(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        wanted = set()
        for record in records:
            for party in (record.author, *record.recipients):
                key = (party.kind, party.value)
                if key not in self.identities:
                    wanted.add(key)
                    wanted.update(party.links)
        if wanted:
            found = writer.identities(wanted)
            self.identities.update(found)
            self.absent.update(wanted.difference(found))

    def customer_for(
        self, writer: IngestWriter, party: Party, at: datetime, summary: IngestSummary
    ) -> tuple[int, int]:
        """(identity id, customer id) for a party, creating the customer if new."""
        cache = self.identities
        key = (party.kind, party.value)
        if key in cache:
            ident, customer = cache[key]
        else:
            linked = next((cache[link] for link in party.links if link in cache), None)
            unknown = [link for link in party.links if link not in self.absent]
            if linked is None and unknown:
                linked_rows = writer.identities(unknown)
                cache.update(linked_rows)
                linked = next(iter(linked_rows.values()), None)
            if linked is not None:
                customer = linked[1]
            else:
                name = clean_line(party.name) or party.value
                customer = writer.create_customer(name[:200], party.organization, at)
                self.new_customers.add(customer)
                summary.customers_created += 1
            ident = writer.add_identity(customer, party.kind, party.value, clean_line(party.name))
            cache[key] = (ident, customer)
        for link in party.links:
            if link not in cache:
                cache[link] = (writer.add_identity(customer, link[0], link[1], ""), customer)
        return ident, customer


class People:
    """Who is one of us (``[agent]`` addresses, ``[chat] agents``), and display names,
    both cached for the run."""

    def __init__(self, config: Settings) -> None:
        self.agent_addresses = config.agent.addresses()
        self.chat_agents = chat_agents(config)
        self._agents: dict[tuple[str, str, str], bool] = {}
        self._names: dict[str, str] = {}

    def is_agent(self, party: Party, channel: str) -> bool:
        """Whether ``party`` is one of us (configured agent address, name or id)."""
        if party.kind == "email":
            return party.value in self.agent_addresses
        key = (party.kind, party.value, party.name)
        known = self._agents.get(key)
        if known is not None:
            return known
        known = self._agents[key] = bool(
            self.chat_agents
            and (
                party.value.casefold() in self.chat_agents
                or party.name.casefold() in self.chat_agents
            )
        )
        return known

    def author_name(self, party: Party) -> str:
        raw = party.name or party.value
        name = self._names.get(raw)
        if name is None:
            if len(self._names) > 100_000:
                self._names.clear()
            name = self._names[raw] = clean_line(raw)[:200]
        return name


def attachment_rows(record: InboundRecord, keep: AttachmentStore | None) -> list[dict[str, Any]]:
    """The attachment rows of a message; the bytes are written when ``[ingest]
    store_attachments`` is on (``keep``) unless the connector stored them already."""

    def stored(i: int, attachment: AttachmentRecord) -> str | None:
        path = record.extra.get(f"stored:{i}")
        if path or keep is None or attachment.data is None:
            return path or None
        try:
            return keep.save(attachment)
        except (OSError, ValueError) as exc:
            log.warning("attachment %r not kept: %s", clean_line(attachment.filename), exc)
            return None

    return [
        {
            "filename": clean_line(a.filename)[:255],
            "content_type": a.content_type[:127],
            "size": a.size,
            "stored_path": stored(i, a),
        }
        for i, a in enumerate(record.attachments)
    ]


def fill_keys(record: InboundRecord) -> None:
    """The keys duplicates are recognized by. Chat messages are known by their source
    keys alone; only mail needs the content hash (Message-ID reuse, mail without a
    Message-ID). A message its connector found no id for (a Telegram or Discord export
    without one) gets a source key from what it says, where and when: stable, so a
    re-import finds it."""
    if not record.content_hash and record.conversation is None:
        record.content_hash = content_hash(record)
    if not record.source_key:
        what = content_hash(record)
        where = f"{record.conversation or ''}\x1f{record.sent_at.isoformat()}\x1f{what}"
        digest = hashlib.sha1(where.encode("utf-8", "surrogatepass")).hexdigest()
        record.source_key = f"{record.channel}:content:{digest}"
