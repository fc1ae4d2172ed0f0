"""The ingest pipeline shared by every connector.

It is the one place that decides which customer a message comes from and which
ticket it belongs to:

* **Identity**: the author's (kind, value) identity finds or becomes a customer;
  ``Party.links`` (a Slack profile's email) attach to the same customer.
* **Direction**: mail from ``[agent]`` addresses and chat from ``[chat] agents`` is
  outbound; everything else inbound.
* **Threading** (mail): Message-ID / In-Reply-To / References first, then a
  ``[#123]`` token in the subject (only for that ticket's own customer), then the
  normalized subject with the same customer inside a window.
  A reply to a solved ticket reopens it; a reply to a closed one starts a new
  ticket linked to it.
* **Sessions** (chat): a conversation continues its latest ticket unless the quiet
  gap passed or that ticket was solved.
* **Idempotence**: a source key seen before, or the same Message-ID with the same
  content, is a duplicate.

Records are committed in batches. Bad input arrives as failures from the connectors
and becomes failure rows, never an abort; an exception in this code is a bug and
stops the run. A batch that collides with another writer's rows is replayed (it
then sees them stored); one that fails to write is retried one record at a time.

The run never writes back a copy of a ticket: store rows are read again every batch
and changes are written relative to what was read (see
:meth:`~deskterm.store.ingest_ops.IngestWriter.update_tickets`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from deskterm.attachments import AttachmentStore
from deskterm.config import Config, ConfigError
from deskterm.connectors.records import (
    AlreadyStored,
    AttachmentRecord,
    InboundRecord,
    Item,
    ParseFailure,
    Party,
    SyncCheckpoint,
)
from deskterm.connectors.records import content_hash as content_hash  # re-exported
from deskterm.ingest.threads import normalize_subject, ticket_token
from deskterm.store import Store
from deskterm.store.errors import Conflict, StoreError
from deskterm.store.ingest_ops import IngestWriter, TicketState
from deskterm.store.types import utcnow
from deskterm.textsafe import clean_line

log = logging.getLogger(__name__)
_CONFLICT_RETRIES = 5


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


class IngestHook(Protocol):
    """Called for every stored message after its ticket is known, before the write.

    A hook may also have an ``end_batch()`` method, called once after the batch's
    messages are placed and before they are written (for work done per ticket rather
    than per message).
    """

    def __call__(self, ctx: HookContext) -> None: ...


def _chat_agents(config: Config) -> set[str]:
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


class _Run:
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

    def replay(self) -> _Run:
        """Caches for replaying a batch that failed: none of its own, only what the
        run knows about others' changes."""
        run = _Run()
        run.left, run.held = self.left, self.held
        return run

    def new_batch(self) -> None:
        """Forget what the store may have changed since the last batch committed."""
        for state in self.tickets.values():
            self.left[state.id] = tuple(getattr(state, n) for n in _AGENT_FIELDS)
        self.tickets = {}
        self.identities = {}
        self.absent = set()
        self.new_customers = set()

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


class Ingestor:
    """Feeds connector items into the store; one instance per import run."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        hooks: Sequence[IngestHook] = (),
        progress: Callable[[IngestSummary], None] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.hooks = list(hooks)
        self.progress = progress
        self.batch_size = max(1, config.ingest.batch_size)
        self.window = timedelta(days=config.ingest.thread_window_days)
        self.gap = timedelta(hours=config.ingest.session_gap_hours)
        self.agent_addresses = config.agent.addresses()
        self.chat_agents = _chat_agents(config)
        # Chat records are small: bigger batches make fewer, cheaper commits.
        chat_batch = config.section("chat").get("batch_size", 10 * self.batch_size)
        if not isinstance(chat_batch, int) or isinstance(chat_batch, bool) or chat_batch < 1:
            raise ConfigError("chat.batch_size must be a positive whole number.")
        self.chat_batch_size = chat_batch
        self._agents: dict[tuple[str, str, str], bool] = {}
        self._names: dict[str, str] = {}
        self._now = utcnow()  # one created_at per batch
        self.default_queue = str(config.section("ingest").get("default_queue", "general"))
        self.attachment_store = AttachmentStore.from_config(config)
        self._run = _Run()

    # -- driving ---------------------------------------------------------------------

    def run(self, items: Iterable[Item], *, connector: str) -> IngestSummary:
        """Import everything ``items`` yields; Ctrl-C keeps every committed batch."""
        total = IngestSummary()
        batch: list[Item] = []
        try:
            for item in items:
                batch.append(item)
                limit = (
                    self.chat_batch_size
                    if isinstance(item, InboundRecord) and item.conversation
                    else self.batch_size
                )
                if len(batch) >= limit or isinstance(item, SyncCheckpoint):
                    total.add(self._commit(batch, connector))
                    batch = []
                    if self.progress:
                        self.progress(total)
            if batch:
                total.add(self._commit(batch, connector))
                batch = []
        except KeyboardInterrupt:
            total.interrupted = True
        if self.progress:
            self.progress(total)
        return total

    def _commit(self, batch: list[Item], connector: str) -> IngestSummary:
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                with self.store.ingest.ingest_unit() as writer:
                    return self._write(writer, batch, connector)
            except Conflict as exc:
                # Another import stored some of the same rows first: once it committed,
                # the batch sees them as duplicates (or as the identities they are).
                log.info("batch conflicted with another writer (%s); replaying it", exc)
                self._run = self._run.replay()
                if attempt == _CONFLICT_RETRIES:
                    log.warning("batch still conflicts; retrying one record at a time")
            except StoreError as exc:
                log.warning("batch write failed (%s); retrying one record at a time", exc)
                break
        self._run = self._run.replay()
        summary = IngestSummary()
        for item in batch:
            try:
                with self.store.ingest.ingest_unit() as writer:
                    summary.add(self._write(writer, [item], connector))
            except StoreError as exc:
                self._run = self._run.replay()
                if isinstance(item, InboundRecord):
                    failure = ParseFailure(
                        item.raw_ref or item.source_key, item.source_key, str(exc)
                    )
                    with self.store.ingest.ingest_unit() as writer:
                        summary.add(self._write(writer, [failure], connector))
                else:
                    raise
        return summary

    # -- one batch -------------------------------------------------------------------

    def _write(self, writer: IngestWriter, batch: list[Item], connector: str) -> IngestSummary:
        summary = IngestSummary()
        records = [i for i in batch if isinstance(i, InboundRecord)]
        summary.messages_duplicate += sum(isinstance(i, AlreadyStored) for i in batch)
        failures = [(f.source, f.position, f.reason) for f in batch if isinstance(f, ParseFailure)]
        for record in records:
            # Chat messages are known by their source keys alone; only mail needs the
            # content hash (Message-ID reuse, mail without a Message-ID).
            if not record.content_hash and record.conversation is None:
                record.content_hash = content_hash(record)
        self._now = utcnow()
        self._run.new_batch()
        fresh = self._drop_duplicates(writer, records, summary)
        self._preload_identities(writer, fresh)
        self._preload_threads(writer, fresh)
        self._preload_sessions(writer, fresh)

        messages: list[dict[str, Any]] = []
        attachments: dict[str, list[dict[str, Any]]] = {}
        events: list[dict[str, Any]] = []
        touched: set[int] = set()
        for record in fresh:
            try:
                row, new_ticket = self._place(writer, record, summary, events)
            except Exception as exc:
                # Not bad input (connectors turn that into failures): a bug, which
                # stops the run; say which record met it.
                exc.add_note(f"at {record.raw_ref or connector} {record.source_key}")
                raise
            ticket_id = row["ticket_id"]
            if not new_ticket and ticket_id not in touched:
                summary.tickets_updated += 1
            touched.add(ticket_id)
            if record.attachments:
                attachments[record.source_key] = [
                    {
                        "filename": clean_line(a.filename)[:255],
                        "content_type": a.content_type[:127],
                        "size": a.size,
                        "stored_path": record.extra.get(f"stored:{i}") or self._keep(a),
                    }
                    for i, a in enumerate(record.attachments)
                ]
            messages.append(row)
            summary.messages_new += 1

        for hook in self.hooks:
            end_batch = getattr(hook, "end_batch", None)
            if end_batch is not None:
                end_batch()
        ids = writer.insert_messages(messages, need_ids=attachments.keys())
        writer.insert_attachments(
            [
                dict(a, message_id=ids[key])
                for key, rows in attachments.items()
                for a in rows
                if key in ids
            ]
        )
        writer.update_tickets({id(s): s for s in self._run.tickets.values() if s.dirty}.values())
        writer.add_events(events)
        if failures:
            writer.record_failures(connector, failures)
            summary.messages_failed += len(failures)
            summary.failures.extend(
                {"source": s, "position": p, "reason": r} for s, p, r in failures
            )
        for item in batch:
            if isinstance(item, SyncCheckpoint):
                writer.save_sync_state(item.account, item.folder, item.uidvalidity, item.last_uid)
        return summary

    def _drop_duplicates(
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

    def _preload_threads(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        """Find, in two queries for the whole batch, the tickets of stored messages these
        mails refer to and of stored replies to them (an import out of order sees a
        reply before the message it answers), so threading asks nothing per message."""
        mail = [r for r in records if r.conversation is None]
        tickets = self._run.message_tickets
        refs = {ref for r in mail for ref in (r.in_reply_to, *r.references) if ref}
        refs.difference_update(tickets)
        if refs:
            tickets.update(writer.tickets_of_message_ids(refs))
        ids = {r.message_id for r in mail if r.message_id}
        ids.difference_update(self._run.reply_tickets)
        if ids:
            for message_id, ticket_id in writer.tickets_replying_to(ids).items():
                self._run.reply_tickets.setdefault(message_id, ticket_id)

    def _preload_sessions(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        """The latest ticket of every chat conversation new to this run, in one query."""
        sessions = self._run.sessions
        keys = {
            r.conversation for r in records if r.conversation and r.conversation not in sessions
        }
        if not keys:
            return
        found = writer.latest_tickets_for(keys)
        for key in keys:
            state = found.get(key)
            sessions[key] = state.id if state is not None else None

    def _keep(self, attachment: AttachmentRecord) -> str | None:
        """Write an attachment's bytes when ``[ingest] store_attachments`` is on."""
        if self.attachment_store is None or attachment.data is None:
            return None
        try:
            return self.attachment_store.save(attachment)
        except (OSError, ValueError) as exc:
            log.warning("attachment %r not kept: %s", clean_line(attachment.filename), exc)
            return None

    # -- identities ------------------------------------------------------------------

    def _preload_identities(self, writer: IngestWriter, records: list[InboundRecord]) -> None:
        wanted = set()
        for record in records:
            for party in (record.author, *record.recipients):
                key = (party.kind, party.value)
                if key not in self._run.identities:
                    wanted.add(key)
                    wanted.update(party.links)
        if wanted:
            found = writer.identities(wanted)
            self._run.identities.update(found)
            self._run.absent.update(wanted.difference(found))

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

    def _customer_for(
        self, writer: IngestWriter, party: Party, at: datetime, summary: IngestSummary
    ) -> tuple[int, int]:
        """(identity id, customer id) for a party, creating the customer if new."""
        cache = self._run.identities
        key = (party.kind, party.value)
        if key in cache:
            ident, customer = cache[key]
        else:
            linked = next((cache[link] for link in party.links if link in cache), None)
            unknown = [link for link in party.links if link not in self._run.absent]
            if linked is None and unknown:
                linked_rows = writer.identities(unknown)
                cache.update(linked_rows)
                linked = next(iter(linked_rows.values()), None)
            if linked is not None:
                customer = linked[1]
            else:
                name = clean_line(party.name) or party.value
                customer = writer.create_customer(name[:200], party.organization, at)
                self._run.new_customers.add(customer)
                summary.customers_created += 1
            ident = writer.add_identity(customer, party.kind, party.value, clean_line(party.name))
            cache[key] = (ident, customer)
        for link in party.links:
            if link not in cache:
                cache[link] = (writer.add_identity(customer, link[0], link[1], ""), customer)
        return ident, customer

    # -- placing a message -----------------------------------------------------------

    def _place(
        self,
        writer: IngestWriter,
        record: InboundRecord,
        summary: IngestSummary,
        events: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        direction = record.direction or (
            "outbound" if self.is_agent(record.author, record.channel) else "inbound"
        )
        author_identity: int | None = None
        customer_id: int | None = None
        if direction == "inbound":
            author_identity, customer_id = self._customer_for(
                writer, record.author, record.sent_at, summary
            )
        else:
            for party in record.recipients:
                if not self.is_agent(party, record.channel):
                    customer_id = self._customer_for(writer, party, record.sent_at, summary)[1]
                    break

        if record.conversation:
            ticket, new = self._session_ticket(writer, record, customer_id, summary, events)
        else:
            ticket, new = self._mail_ticket(writer, record, direction, customer_id, summary, events)

        self._apply_message(ticket, record, direction)
        row = {
            "ticket_id": ticket.id,
            "direction": direction,
            "channel": record.channel,
            "author_identity_id": author_identity,
            "author_name": self._author_name(record.author),
            "author_address": record.author.value[:320],
            "recipients": ", ".join([p.value for p in record.recipients])[:2000]
            if record.recipients
            else "",
            "sent_at": record.sent_at,
            "date_source": record.date_source,
            "subject": clean_line(record.subject)[:998] if record.subject else "",
            "body": record.body,
            "source_key": record.source_key,
            "message_id": record.message_id,
            "in_reply_to": record.in_reply_to,
            "references": " ".join(record.references),
            "content_hash": record.content_hash,
            "raw_ref": record.raw_ref,
            "delivered": True,
            "emotion": None,
            "emotion_score": None,
            "created_at": self._now,
        }
        if record.message_id:
            self._run.message_tickets[record.message_id] = ticket.id
        if record.in_reply_to:
            self._run.reply_tickets.setdefault(record.in_reply_to, ticket.id)
        if self.hooks:
            ctx = HookContext(record, direction, ticket, new, customer_id, writer, row, events)
            for hook in self.hooks:
                hook(ctx)
        return row, new

    def _author_name(self, party: Party) -> str:
        raw = party.name or party.value
        name = self._names.get(raw)
        if name is None:
            if len(self._names) > 100_000:
                self._names.clear()
            name = self._names[raw] = clean_line(raw)[:200]
        return name

    def _apply_message(self, ticket: TicketState, record: InboundRecord, direction: str) -> None:
        ticket.message_count += 1
        ticket.updated_at = max(ticket.updated_at, record.sent_at)
        # A status someone set while this run went on is theirs: older mail in the
        # run does not undo it.
        agent_status = "status" in ticket.held
        if direction == "outbound":
            earliest = ticket.first_response_at is None or record.sent_at < ticket.first_response_at
            if earliest and record.sent_at >= ticket.created_at:
                ticket.first_response_at = record.sent_at
            if ticket.status == "new" and not agent_status:
                ticket.status = "open"
        elif direction == "inbound" and ticket.status == "pending" and not agent_status:
            ticket.status = "open"
        ticket.dirty = True

    def _state(self, writer: IngestWriter, ticket_id: int) -> TicketState | None:
        """The batch's copy of a ticket (of the one it was merged into, if it was)."""
        state = self._run.tickets.get(ticket_id)
        if state is None:
            state = writer.tickets([ticket_id]).get(ticket_id)
            if state is not None:
                state = self._run.adopt(state, ticket_id)
        return state

    def _new_ticket(
        self,
        writer: IngestWriter,
        record: InboundRecord,
        customer_id: int | None,
        conversation_key: str | None,
        summary: IngestSummary,
        events: list[dict[str, Any]],
        parent: TicketState | None = None,
    ) -> TicketState:
        subject = clean_line(record.subject or record.conversation_title)
        if not subject:
            subject = clean_line(record.body.strip().split("\n", 1)[0])[:80] or "(no subject)"
        state = writer.create_ticket(
            {
                "subject": subject[:300],
                "status": "new",
                "priority": "normal",
                "queue": self.default_queue,
                "channel": record.channel,
                "customer_id": customer_id,
                "conversation_key": conversation_key,
                "created_at": record.sent_at,
                "updated_at": record.sent_at,
                "parent_id": parent.id if parent else None,
            }
        )
        self._run.tickets[state.id] = state
        summary.tickets_created += 1
        events.append(
            {"kind": "created", "ticket_id": state.id, "actor": "ingest", "at": record.sent_at,
             "new": record.channel, "detail": {"source": record.source_key}}
        )  # fmt: skip
        if parent is not None:
            writer.link(state.id, parent.id, "followup")
            events.append(
                {"kind": "followup", "ticket_id": state.id, "actor": "ingest",
                 "at": record.sent_at, "old": parent.id, "new": state.id}
            )  # fmt: skip
        return state

    def _continue(
        self,
        writer: IngestWriter,
        ticket: TicketState,
        record: InboundRecord,
        direction: str,
        customer_id: int | None,
        conversation_key: str | None,
        summary: IngestSummary,
        events: list[dict[str, Any]],
    ) -> tuple[TicketState, bool]:
        """Apply the solved/closed rules of a reply to an existing mail ticket."""
        if direction != "inbound":
            return ticket, False
        if ticket.status == "closed":
            followup = self._followup(writer, ticket)
            if followup is not None:  # an earlier reply already started the new ticket
                return self._continue(
                    writer, followup, record, direction, customer_id, conversation_key,
                    summary, events,
                )  # fmt: skip
            state = self._new_ticket(
                writer,
                record,
                customer_id or ticket.customer_id,
                conversation_key,
                summary,
                events,
                parent=ticket,
            )
            self._run.followups[ticket.id] = state.id
            return state, True
        if ticket.status == "solved" and "status" not in ticket.held:
            ticket.status = "open"
            ticket.reopen_count += 1
            ticket.solved_at = None
            ticket.dirty = True
            summary.tickets_reopened += 1
            events.append(
                {"kind": "reopen", "ticket_id": ticket.id, "actor": "ingest",
                 "at": record.sent_at, "old": "solved", "new": "open",
                 "detail": {"source": record.source_key}}
            )  # fmt: skip
        return ticket, False

    def _followup(self, writer: IngestWriter, closed: TicketState) -> TicketState | None:
        """The ticket a reply to ``closed`` started before, if any."""
        followup = self._run.followups.get(closed.id)
        if followup is None:
            followup = writer.followup_of(closed.id)
        if followup is None or followup == closed.id:
            return None
        self._run.followups[closed.id] = followup
        return self._state(writer, followup)

    def _mail_ticket(
        self,
        writer: IngestWriter,
        record: InboundRecord,
        direction: str,
        customer_id: int | None,
        summary: IngestSummary,
        events: list[dict[str, Any]],
    ) -> tuple[TicketState, bool]:
        subject_key = (
            f"subject:{customer_id}:{normalize_subject(record.subject)}"
            if customer_id is not None and normalize_subject(record.subject)
            else None
        )
        ticket = self._threaded(writer, record) or self._by_token(writer, record, customer_id)
        if ticket is None and subject_key:
            candidate_id = self._run.conversations.get(subject_key)
            if candidate_id is not None:
                candidate = self._state(writer, candidate_id)
            elif customer_id in self._run.new_customers:
                candidate = None  # a customer new in this run has no stored tickets
            else:
                candidate = writer.latest_ticket_for(subject_key)
            if candidate is not None and abs(record.sent_at - candidate.updated_at) <= self.window:
                ticket = self._run.adopt(candidate)
        if ticket is None:
            state = self._new_ticket(writer, record, customer_id, subject_key, summary, events)
            if subject_key:
                self._run.conversations[subject_key] = state.id
            return state, True
        if ticket.customer_id is None and customer_id is not None:
            ticket.customer_id = customer_id
        result = self._continue(
            writer, ticket, record, direction, customer_id, subject_key, summary, events
        )
        if subject_key and result[1]:
            self._run.conversations[subject_key] = result[0].id
        return result

    def _threaded(self, writer: IngestWriter, record: InboundRecord) -> TicketState | None:
        """The ticket of the message this one answers (In-Reply-To, then References from
        the nearest), or of a stored reply to it; looked up per batch beforehand."""
        for ref in (record.in_reply_to, *reversed(record.references)):
            if ref and ref in self._run.message_tickets:
                state = self._state(writer, self._run.message_tickets[ref])
                if state is not None:
                    return state
        found = self._run.reply_tickets.get(record.message_id) if record.message_id else None
        return self._state(writer, found) if found is not None else None

    def _by_token(
        self, writer: IngestWriter, record: InboundRecord, customer_id: int | None
    ) -> TicketState | None:
        """The ticket a ``[#N]`` subject token names, when the headers found none.

        The token is only trusted for the ticket's own customer: anyone can type
        ``[#12]`` into a subject, and that must not put their mail in someone else's
        ticket.
        """
        number = ticket_token(record.subject)
        if number is None:
            return None
        state = self._state(writer, writer.merged_target(number))
        if state is None:
            return None
        if None not in (state.customer_id, customer_id) and state.customer_id != customer_id:
            return None
        return state

    def _session_ticket(
        self,
        writer: IngestWriter,
        record: InboundRecord,
        customer_id: int | None,
        summary: IngestSummary,
        events: list[dict[str, Any]],
    ) -> tuple[TicketState, bool]:
        key = record.conversation
        assert key is not None
        if key not in self._run.sessions:
            self._preload_sessions(writer, [record])
        ticket_id = self._run.sessions[key]
        ticket = self._state(writer, ticket_id) if ticket_id is not None else None
        if customer_id is not None:
            self._run.conversation_customer.setdefault(key, customer_id)
        customer = customer_id or self._run.conversation_customer.get(key)
        if (
            ticket is None
            or ticket.status in ("solved", "closed")
            or record.sent_at - ticket.updated_at > self.gap
        ):
            fallback = ticket.customer_id if ticket is not None else None
            state = self._new_ticket(writer, record, customer or fallback, key, summary, events)
            self._run.sessions[key] = state.id
            return state, True
        if ticket.customer_id is None and customer is not None:
            ticket.customer_id = customer
        return ticket, False
