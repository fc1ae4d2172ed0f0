"""The store side of ingest: bulk lookups and writes on one transaction.

The pipeline decides what belongs where; this module only runs the SQL, in batches
(``executemany``) so an import of chat exports can reach tens of thousands of
messages a second. One :class:`IngestWriter` lives for one batch transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from deskterm.store.base import Database
from deskterm.store.dialect.search import catch_up_search_index, defer_search_index
from deskterm.store.dialect.writes import RowWriter, bulk_writes, upsert
from deskterm.store.errors import Conflict, StoreError
from deskterm.store.models import (
    Attachment,
    Customer,
    Event,
    Identity,
    ImportFailure,
    Message,
    SyncState,
    Ticket,
    TicketLink,
    TicketTag,
    table_of,
)
from deskterm.store.ticket_state import (
    RETAG,
    STATE_COLUMNS,
    UPDATE_TICKET,
    UPDATED,
    TicketState,
    state_of,
    update_params,
    utc,
)
from deskterm.store.types import utcnow

T_TICKET = table_of(Ticket)
T_MESSAGE = table_of(Message)
T_IDENTITY = table_of(Identity)
T_CUSTOMER = table_of(Customer)
T_EVENT = table_of(Event)
T_TAG = table_of(TicketTag)
_CHUNK = 500  # bound parameters per IN list, well under every driver's limit
_TIER = select(T_CUSTOMER.c.tier).where(T_CUSTOMER.c.id == bindparam("customer"))


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# A batch at least this big indexes its messages for search in one statement.
_DEFER_SEARCH_AT = 64


class IngestWriter:
    """Lookups and buffered writes for one ingest batch on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows = RowWriter(conn)
        self._search_since: int | None = None
        # Tickets opened in this batch, written once when it ends (with the state its
        # messages left them in) instead of inserted and then updated.
        self._new_tickets: list[tuple[TicketState, dict[str, Any]]] = []

    def finish(self) -> None:
        """Called before the batch commits: write the tickets opened in it, and index
        what was inserted with the search index deferred (see
        :func:`~deskterm.store.dialect.search.defer_search_index`)."""
        self._flush_new_tickets()
        if self._search_since is not None:
            catch_up_search_index(self.conn, self._search_since)
            self._search_since = None

    # -- lookups -----------------------------------------------------------------------

    def existing_source_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(list(keys)):
            found.update(
                self.conn.execute(
                    select(T_MESSAGE.c.source_key).where(T_MESSAGE.c.source_key.in_(part))
                ).scalars()
            )
        return found

    def existing_message_hashes(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (Message-ID, content hash) pairs are stored already."""
        found: set[tuple[str, str]] = set()
        ids = list({mid for mid, _ in pairs})
        for part in _chunks(ids):
            rows = self.conn.execute(
                select(T_MESSAGE.c.message_id, T_MESSAGE.c.content_hash).where(
                    T_MESSAGE.c.message_id.in_(part)
                )
            )
            found.update((r[0], r[1]) for r in rows)
        return found & set(pairs)

    def identities(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, int]]:
        """(kind, value) → (identity id, customer id), following merged customers."""
        out: dict[tuple[str, str], tuple[int, int]] = {}
        # One kind at a time: SQLite searches the (kind, value) index for
        # "kind = ? AND value IN (...)" but scans the table for row-value IN lists.
        by_kind: dict[str, list[str]] = {}
        for kind, value in set(pairs):
            by_kind.setdefault(kind, []).append(value)
        columns = (T_IDENTITY.c.value, T_IDENTITY.c.id, T_IDENTITY.c.customer_id)
        for kind, values in by_kind.items():
            for part in _chunks(values):
                query = select(*columns).where(
                    T_IDENTITY.c.kind == kind, T_IDENTITY.c.value.in_(part)
                )
                for value, ident, customer in self.conn.execute(query):
                    out[(kind, value)] = (ident, customer)
        return out

    def versions(self, ids: Iterable[int]) -> dict[int, int]:
        """Ticket id → version, for tickets not merged away: a state read before is
        still current when its version is."""
        out: dict[int, int] = {}
        for part in _chunks(list(ids)):
            query = select(T_TICKET.c.id, T_TICKET.c.version).where(
                T_TICKET.c.id.in_(part), T_TICKET.c.merged_into_id.is_(None)
            )
            out.update((ticket, version) for ticket, version in self.conn.execute(query))
        return out

    def tickets(self, ids: Iterable[int]) -> dict[int, TicketState]:
        """Ticket id → its current state; a merged ticket maps to the ticket it was
        merged into (following chains), so mail for it lands there."""
        out: dict[int, TicketState] = {}
        redirect: dict[int, int] = {}
        wanted = list(set(ids))
        seen: set[int] = set()
        while wanted:
            seen.update(wanted)
            for part in _chunks(wanted):
                query = select(*STATE_COLUMNS, T_TICKET.c.merged_into_id).where(
                    T_TICKET.c.id.in_(part)
                )
                for row in self.conn.execute(query):
                    if row.merged_into_id is None:
                        out[row.id] = state_of(row)
                    else:
                        redirect[row.id] = row.merged_into_id
            wanted = [t for t in set(redirect.values()) if t not in seen]
        for source in redirect:
            target = source
            while target in redirect and target != redirect[target]:
                target = redirect[target]
                if target == source:
                    break
            if target in out:
                out[source] = out[target]
        return out

    def tickets_of_message_ids(self, message_ids: Iterable[str]) -> dict[str, int]:
        """Message-ID → ticket of the stored message (the newest, if one ID is reused)."""
        out: dict[str, int] = {}
        for part in _chunks(list(message_ids)):
            rows = self.conn.execute(
                select(T_MESSAGE.c.message_id, T_MESSAGE.c.ticket_id)
                .where(T_MESSAGE.c.message_id.in_(part))
                .order_by(T_MESSAGE.c.id)
            )
            out.update((mid, ticket) for mid, ticket in rows)
        return out

    def tickets_replying_to(self, message_ids: Iterable[str]) -> dict[str, int]:
        """Message-ID → ticket of the first stored message replying to it (imports out
        of order see the reply before the message it answers)."""
        out: dict[str, int] = {}
        for part in _chunks(list(message_ids)):
            rows = self.conn.execute(
                select(T_MESSAGE.c.in_reply_to, T_MESSAGE.c.ticket_id)
                .where(T_MESSAGE.c.in_reply_to.in_(part))
                .order_by(T_MESSAGE.c.id.desc())
            )
            out.update((mid, ticket) for mid, ticket in rows)
        return out

    def followup_of(self, ticket_id: int) -> int | None:
        """The newest ticket started by a reply to ``ticket_id`` after it was closed."""
        link = table_of(TicketLink)
        return self.conn.execute(
            select(link.c.ticket_id)
            .where(link.c.other_id == ticket_id, link.c.kind == "followup")
            .order_by(link.c.ticket_id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def existing_bare_mail_hashes(self, hashes: Sequence[str]) -> set[str]:
        """Which content hashes of mail without a Message-ID are stored already."""
        found: set[str] = set()
        for part in _chunks(list(set(hashes))):
            found.update(
                self.conn.execute(
                    select(T_MESSAGE.c.content_hash).where(
                        T_MESSAGE.c.content_hash.in_(part),
                        T_MESSAGE.c.message_id.is_(None),
                        T_MESSAGE.c.channel == "email",
                    )
                ).scalars()
            )
        return found

    def merged_target(self, ticket_id: int) -> int:
        """The ticket that ``ticket_id`` was merged into (following chains), or itself."""
        seen = {ticket_id}
        while True:
            target = self.conn.execute(
                select(T_TICKET.c.merged_into_id).where(T_TICKET.c.id == ticket_id)
            ).scalar_one_or_none()
            if target is None or target in seen:
                return ticket_id
            seen.add(target)
            ticket_id = target

    def latest_ticket_for(self, conversation_key: str) -> TicketState | None:
        """The most recently active ticket of a conversation (chat session or subject)."""
        row = self.conn.execute(
            select(*STATE_COLUMNS)
            .where(T_TICKET.c.conversation_key == conversation_key)
            .where(T_TICKET.c.merged_into_id.is_(None))
            .order_by(T_TICKET.c.updated_at.desc())
            .limit(1)
        ).first()
        return state_of(row) if row else None

    def latest_tickets_for(self, conversation_keys: Iterable[str]) -> dict[str, TicketState]:
        """:meth:`latest_ticket_for` of many conversations in one query per chunk."""
        out: dict[str, TicketState] = {}
        for part in _chunks(list(set(conversation_keys))):
            newest = (
                select(
                    *STATE_COLUMNS,
                    func.row_number()
                    .over(
                        partition_by=T_TICKET.c.conversation_key,
                        order_by=T_TICKET.c.updated_at.desc(),
                    )
                    .label("rank"),
                )
                .where(T_TICKET.c.conversation_key.in_(part))
                .where(T_TICKET.c.merged_into_id.is_(None))
                .subquery()
            )
            names = list(TicketState._COLUMNS)
            rows = self.conn.execute(
                select(*(newest.c[name] for name in names)).where(newest.c.rank == 1)
            )
            for row in rows:
                state = state_of(row)
                if state.conversation_key is not None:
                    out[state.conversation_key] = state
        return out

    def customer_tier(self, customer_id: int) -> str | None:
        """A customer's tier (a statement built once: triage and SLA ask per customer)."""
        tier: str | None = self.conn.execute(_TIER, {"customer": customer_id}).scalar_one_or_none()
        return tier

    # -- writes ------------------------------------------------------------------------

    def create_customer(self, name: str, organization: str | None, at: datetime) -> int:
        values = {
            "name": name, "organization": organization, "tier": "standard", "tags": "",
            "notes": "", "created_at": at, "updated_at": at,
        }  # fmt: skip
        return self.rows.insert_id(T_CUSTOMER, values)

    def add_identity(self, customer_id: int, kind: str, value: str, display: str) -> int:
        domain = value.rpartition("@")[2] if kind == "email" and "@" in value else None
        values = {
            "customer_id": customer_id, "kind": kind, "value": value, "domain": domain,
            "display": display, "created_at": utcnow(),
        }  # fmt: skip
        return self.rows.insert_id(T_IDENTITY, values)

    def create_ticket(self, values: dict[str, Any]) -> TicketState:
        """A new ticket's id and state now, its row when the batch is written: before
        anything that points at it (the batch's messages, a link, the batch's end)."""
        row = {"version": 1, "reopen_count": 0, "message_count": 0, **values}
        row = self.rows.complete(T_TICKET, row) | {"id": self.rows.reserve_id(T_TICKET)}
        state = TicketState(**{name: utc(row.get(name)) for name in TicketState._COLUMNS})
        state.rebase()
        self._new_tickets.append((state, row))
        return state

    def _flush_new_tickets(self) -> None:
        """Insert the tickets reserved in this batch, as they are now (no longer dirty:
        a later change is written like any other)."""
        if not self._new_tickets:
            return
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        tags: list[dict[str, Any]] = []
        for state, row in self._new_tickets:
            for name in UPDATED:
                row[name] = getattr(state, name)
            tags.extend(
                {"ticket_id": state.id, "tag": t, "updated_at": state.updated_at}
                for t in state.add_tags
            )
            state.add_tags = set()
            state.dirty = False
            state.rebase()
            groups.setdefault(tuple(row), []).append(row)
        for rows in groups.values():
            self.rows.insert_many(T_TICKET, rows)
        self._new_tickets.clear()
        if tags:
            self.conn.execute(self._insert_ignore(T_TAG), tags)

    def insert_messages(
        self, rows: list[dict[str, Any]], need_ids: Iterable[str] = ()
    ) -> dict[str, int]:
        """Insert message rows; returns source_key → id for the keys in ``need_ids``
        (messages with attachments)."""
        if not rows:
            return {}
        self._flush_new_tickets()
        if len(rows) >= _DEFER_SEARCH_AT and self._search_since is None:
            self._search_since = defer_search_index(self.conn)
        self.rows.insert_many(T_MESSAGE, rows)
        ids: dict[str, int] = {}
        for part in _chunks(list(need_ids)):
            found = self.conn.execute(
                select(T_MESSAGE.c.source_key, T_MESSAGE.c.id).where(
                    T_MESSAGE.c.source_key.in_(part)
                )
            )
            ids.update((key, mid) for key, mid in found)
        return ids

    def insert_attachments(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(table_of(Attachment)), rows)

    def update_tickets(self, states: Iterable[TicketState]) -> None:
        """Write every changed ticket (and its tags) with two ``executemany`` calls:
        changes relative to what was read (see ``ticket_state.GROUPS``), never a whole copy."""
        self._flush_new_tickets()
        rows = []
        tags: list[dict[str, Any]] = []
        written = []
        for s in states:
            if s.dirty:
                rows.append(update_params(s))
                written.append(s)
            tags.extend(
                {"ticket_id": s.id, "tag": t, "updated_at": s.updated_at} for t in s.add_tags
            )
            s.add_tags = set()
            s.dirty = False
        if tags:
            self.conn.execute(self._insert_ignore(T_TAG), tags)
        if rows:
            self.rows.execute_many(UPDATE_TICKET, rows)
            self.rows.execute_many(RETAG, [{"n_id": r["n_id"]} for r in rows])
            for s in written:
                s.written()

    def _insert_ignore(self, table: Any) -> Any:
        return upsert(self.conn, table).on_conflict_do_nothing()

    def link(self, ticket_id: int, other_id: int, kind: str) -> None:
        self._flush_new_tickets()
        self.conn.execute(
            self._insert_ignore(table_of(TicketLink)),
            [{"ticket_id": ticket_id, "other_id": other_id, "kind": kind, "created_at": utcnow()}],
        )

    def add_events(self, events: list[dict[str, Any]]) -> None:
        """Append events: dicts with kind, actor, at and optional ticket_id, old, new,
        detail (a dict, stored as JSON)."""
        if not events:
            return
        rows = [
            {
                "ticket_id": e.get("ticket_id"),
                "customer_id": e.get("customer_id"),
                "kind": e["kind"],
                "old": None if e.get("old") is None else str(e["old"]),
                "new": None if e.get("new") is None else str(e["new"]),
                "actor": e.get("actor", "ingest"),
                "at": e.get("at") or utcnow(),
                "detail": json.dumps(e["detail"], sort_keys=True) if e.get("detail") else None,
            }
            for e in events
        ]
        self.rows.insert_many(T_EVENT, rows)

    def record_failures(self, connector: str, failures: Iterable[tuple[str, str, str]]) -> None:
        """Record (source, position, reason); a failure seen again is updated, not doubled."""
        rows = [
            {"connector": connector, "source": s, "position": p, "reason": r, "at": utcnow()}
            for s, p, r in failures
        ]
        if not rows:
            return
        table = table_of(ImportFailure)
        ins = upsert(self.conn, table)
        self.conn.execute(
            ins.on_conflict_do_update(
                index_elements=["connector", "source", "position"],
                set_={"reason": ins.excluded.reason, "at": ins.excluded.at},
            ),
            rows,
        )

    def sync_state(self, account: str, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, highest UID imported) of an IMAP folder, if synced before."""
        table = table_of(SyncState)
        row = self.conn.execute(
            select(table.c.uidvalidity, table.c.last_uid).where(
                table.c.account == account, table.c.folder == folder
            )
        ).first()
        return (row[0], row[1]) if row else None

    def save_sync_state(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        table = table_of(SyncState)
        ins = upsert(self.conn, table)
        values = {
            "account": account, "folder": folder, "uidvalidity": uidvalidity,
            "last_uid": last_uid, "last_sync": utcnow(),
        }  # fmt: skip
        self.conn.execute(
            ins.values(**values).on_conflict_do_update(
                index_elements=["account", "folder"],
                set_={k: values[k] for k in ("uidvalidity", "last_uid", "last_sync")},
            )
        )


class IngestOps:
    """Entry points the ingest pipeline and sync use."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def ingest_unit(self, *, alone: bool = False) -> Iterator[IngestWriter]:
        """One batch transaction: everything written in it commits together or not at all
        (``alone``: nobody else is writing, see :func:`bulk_writes`).

        A unique key another writer committed first (two imports of the same mail)
        raises :class:`Conflict`: replaying the batch then finds those rows stored.
        """
        try:
            with self.db.write_connection() as conn:
                bulk_writes(conn, alone=alone)
                writer = IngestWriter(conn)
                yield writer
                writer.finish()
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise Conflict(str(exc)) from exc
            raise

    def known_source_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these source keys are stored: lets a connector skip parsing what a
        re-import would only count as duplicates."""
        with self.db.engine.connect() as conn:
            return IngestWriter(conn).existing_source_keys(keys)

    def sync_state(self, account: str, folder: str) -> tuple[int, int] | None:
        with self.ingest_unit() as writer:
            return writer.sync_state(account, folder)

    def import_failures(
        self, limit: int = 200, before: tuple[Any, int] | None = None
    ) -> list[dict[str, Any]]:
        """The most recent import failures (older than ``before``, an ``(at, id)``)."""
        table = table_of(ImportFailure)
        stmt = select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(tuple_(table.c.at, table.c.id) < tuple_(*before))
        with self.db.engine.connect() as conn:
            rows = conn.execute(stmt).mappings()
            return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
