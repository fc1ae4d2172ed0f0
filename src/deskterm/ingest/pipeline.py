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
and changes are written relative to what was read (:mod:`deskterm.store.ticket_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from deskterm.attachments import AttachmentStore
from deskterm.connectors.records import (
    AlreadyStored,
    InboundRecord,
    Item,
    ParseFailure,
    SyncCheckpoint,
)
from deskterm.connectors.records import content_hash as content_hash  # re-exported
from deskterm.ingest.pacing import BULK_FACTOR, BatchPacer, Contention
from deskterm.ingest.state import HookContext as HookContext  # re-exported for hooks
from deskterm.ingest.state import IngestHook, IngestSummary, People, Run, attachment_rows, fill_keys
from deskterm.ingest.threads import normalize_subject, ticket_token
from deskterm.settings import Settings
from deskterm.store import Store
from deskterm.store.errors import Conflict, StoreError
from deskterm.store.ingest_ops import IngestWriter
from deskterm.store.ticket_state import TicketState
from deskterm.store.types import utcnow
from deskterm.textsafe import clean_line

log = logging.getLogger(__name__)
_CONFLICT_RETRIES = 5


class Ingestor:
    """Feeds connector items into the store; one instance per import run."""

    def __init__(
        self,
        store: Store,
        config: Settings,
        *,
        hooks: Sequence[IngestHook] = (),
        progress: Callable[[IngestSummary], None] | None = None,
        bulk: bool = False,
    ) -> None:
        self.store = store
        self.config = config
        self.hooks = list(hooks)
        self.progress = progress
        self.bulk = bulk
        self.batch_size = config.ingest.batch_size
        if bulk and "batch_size" not in config.ingest.model_fields_set:
            self.batch_size *= BULK_FACTOR
        self.window = timedelta(days=config.ingest.thread_window_days)
        self.gap = timedelta(hours=config.chat.session_gap_hours)
        self.people = People(config)
        # Chat records are small: bigger batches make fewer, cheaper commits.
        self.chat_batch_size = config.chat.batch_size or 10 * config.ingest.batch_size
        self.pacer = BatchPacer(config.ingest.batch_ms)  # agents wait at most ~batch_ms
        self._now = utcnow()  # one created_at per batch
        self.default_queue = config.ingest.default_queue
        self.attachment_store = AttachmentStore.from_settings(config.ingest)
        self._run = Run()
        self.contention = Contention(store, bulk=bulk)

    # -- driving ---------------------------------------------------------------------

    def run(self, items: Iterable[Item], *, connector: str) -> IngestSummary:
        """Import everything ``items`` yields; Ctrl-C keeps every committed batch."""
        total = IngestSummary()
        batch: list[Item] = []
        try:
            for item in items:
                batch.append(item)
                limit = self.pacer.limit(
                    self.chat_batch_size
                    if isinstance(item, InboundRecord) and item.conversation
                    else self.batch_size,
                    paced=self.contention.paced(),
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
                alone = not self.contention.paced()
                with (
                    self.pacer.timing(len(batch)),
                    self.store.ingest.ingest_unit(alone=alone) as writer,
                ):
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
                if not isinstance(item, InboundRecord):
                    raise
                failure = ParseFailure(item.raw_ref or item.source_key, item.source_key, str(exc))
                with self.store.ingest.ingest_unit() as writer:
                    summary.add(self._write(writer, [failure], connector))
        return summary

    # -- one batch -------------------------------------------------------------------

    def _write(self, writer: IngestWriter, batch: list[Item], connector: str) -> IngestSummary:
        summary = IngestSummary()
        records = [i for i in batch if isinstance(i, InboundRecord)]
        summary.messages_duplicate += sum(isinstance(i, AlreadyStored) for i in batch)
        failures = [(f.source, f.position, f.reason) for f in batch if isinstance(f, ParseFailure)]
        for record in records:
            fill_keys(record)
        self._now = utcnow()
        self._run.new_batch()
        fresh = self._run.drop_duplicates(writer, records, summary)
        self._run.preload_identities(writer, fresh)
        self._run.preload_threads(writer, fresh)
        self._run.preload_sessions(writer, fresh)
        self._run.preload_tickets(writer, fresh)

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
                attachments[record.source_key] = attachment_rows(record, self.attachment_store)
            messages.append(row)
            summary.messages_new += 1

        for hook in self.hooks:
            end_batch = getattr(hook, "end_batch", None)
            if end_batch is not None:
                end_batch()
        ids = writer.insert_messages(messages, need_ids=attachments.keys())
        found = [
            dict(a, message_id=ids[k]) for k, rs in attachments.items() for a in rs if k in ids
        ]
        writer.insert_attachments(found)
        writer.update_tickets({id(s): s for s in self._run.tickets.values() if s.dirty}.values())
        writer.add_events(events)
        if failures:
            writer.record_failures(connector, failures)
            summary.failed(failures)
        for item in batch:
            if isinstance(item, SyncCheckpoint):
                writer.save_sync_state(item.account, item.folder, item.uidvalidity, item.last_uid)
        return summary

    # -- placing a message -----------------------------------------------------------

    def _place(
        self,
        writer: IngestWriter,
        record: InboundRecord,
        summary: IngestSummary,
        events: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], bool]:
        direction = record.direction or (
            "outbound" if self.people.is_agent(record.author, record.channel) else "inbound"
        )
        author_identity: int | None = None
        customer_id: int | None = None
        if direction == "inbound":
            author_identity, customer_id = self._run.customer_for(
                writer, record.author, record.sent_at, summary
            )
        else:
            for party in record.recipients:
                if not self.people.is_agent(party, record.channel):
                    customer_id = self._run.customer_for(writer, party, record.sent_at, summary)[1]
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
            "author_name": self.people.author_name(record.author),
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
            ctx = HookContext(
                record, direction, ticket, new, customer_id, writer, row, events,
                customer_id in self._run.new_customers,
            )  # fmt: skip
            for hook in self.hooks:
                hook(ctx)
        return row, new

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
            self._run.preload_sessions(writer, [record])
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
