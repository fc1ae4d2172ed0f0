"""The store side of ingest: bulk lookups and writes on one transaction.

The pipeline decides what belongs where; this module only runs the SQL, in batches
(``executemany``) so an import of chat exports can reach tens of thousands of
messages a second. One :class:`IngestWriter` lives for one batch transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from deskterm.store.base import StoreBase
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
)
from deskterm.store.types import utcnow

T_TICKET = Ticket.__table__  # type: ignore[attr-defined]
T_MESSAGE = Message.__table__  # type: ignore[attr-defined]
T_IDENTITY = Identity.__table__  # type: ignore[attr-defined]
T_CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
T_EVENT = Event.__table__  # type: ignore[attr-defined]
T_TAG = TicketTag.__table__  # type: ignore[attr-defined]
_CHUNK = 500  # bound parameters per IN list, well under every driver's limit


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass
class TicketState:
    """What the pipeline knows and changes about one ticket during an import."""

    id: int
    status: str
    priority: str
    queue: str
    assignee: str | None
    customer_id: int | None
    channel: str
    updated_at: datetime
    created_at: datetime
    first_response_at: datetime | None = None
    reopen_count: int = 0
    message_count: int = 0
    emotion: str | None = None
    emotion_score: float | None = None
    solved_at: datetime | None = None
    conversation_key: str | None = None
    sla_first_response_due: datetime | None = None
    sla_resolution_due: datetime | None = None
    sla_next_due: datetime | None = None
    sla_warn_at: datetime | None = None
    sla_paused_at: datetime | None = None
    sla_paused_seconds: float = 0.0
    add_tags: set[str] = field(default_factory=set)
    dirty: bool = False

    _COLUMNS = (
        "id", "status", "priority", "queue", "assignee", "customer_id", "channel",
        "updated_at", "created_at", "first_response_at", "reopen_count", "message_count",
        "emotion", "emotion_score", "solved_at", "conversation_key",
        "sla_first_response_due", "sla_resolution_due", "sla_next_due", "sla_warn_at",
        "sla_paused_at", "sla_paused_seconds",
    )  # fmt: skip


_STATE_COLUMNS = [T_TICKET.c[name] for name in TicketState._COLUMNS]
# Columns the pipeline may change on an existing ticket.
_UPDATED = (
    "id", "status", "priority", "queue", "assignee", "customer_id", "updated_at",
    "first_response_at", "reopen_count", "message_count", "emotion", "emotion_score",
    "solved_at", "sla_first_response_due", "sla_resolution_due", "sla_next_due",
    "sla_warn_at", "sla_paused_at", "sla_paused_seconds",
)  # fmt: skip


# Built once: a statement built per call spends more time in SQLAlchemy than in SQLite.
_INSERT_TICKET = insert(T_TICKET).returning(*_STATE_COLUMNS)
_INSERT_CUSTOMER = insert(T_CUSTOMER).returning(T_CUSTOMER.c.id)
_INSERT_IDENTITY = insert(T_IDENTITY).returning(T_IDENTITY.c.id)


def _state(row: Any) -> TicketState:
    return TicketState(**dict(row._mapping))


class IngestWriter:
    """Lookups and buffered writes for one ingest batch on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
        wanted = list(set(pairs))
        out: dict[tuple[str, str], tuple[int, int]] = {}
        for part in _chunks(wanted, 250):
            rows = self.conn.execute(
                select(
                    T_IDENTITY.c.kind, T_IDENTITY.c.value, T_IDENTITY.c.id, T_IDENTITY.c.customer_id
                ).where(tuple_(T_IDENTITY.c.kind, T_IDENTITY.c.value).in_(part))
            )
            for kind, value, ident, customer in rows:
                out[(kind, value)] = (ident, customer)
        return out

    def tickets(self, ids: Iterable[int]) -> dict[int, TicketState]:
        out: dict[int, TicketState] = {}
        for part in _chunks(list(set(ids))):
            for row in self.conn.execute(select(*_STATE_COLUMNS).where(T_TICKET.c.id.in_(part))):
                out[row.id] = _state(row)
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
        link = TicketLink.__table__  # type: ignore[attr-defined]
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
            select(*_STATE_COLUMNS)
            .where(T_TICKET.c.conversation_key == conversation_key)
            .where(T_TICKET.c.merged_into_id.is_(None))
            .order_by(T_TICKET.c.updated_at.desc())
            .limit(1)
        ).first()
        return _state(row) if row else None

    def customer_tier(self, customer_id: int) -> str | None:
        return self.conn.execute(
            select(T_CUSTOMER.c.tier).where(T_CUSTOMER.c.id == customer_id)
        ).scalar_one_or_none()

    # -- writes ------------------------------------------------------------------------

    def create_customer(self, name: str, organization: str | None, at: datetime) -> int:
        values = {
            "name": name, "organization": organization, "tier": "standard", "tags": "",
            "notes": "", "created_at": at, "updated_at": at,
        }  # fmt: skip
        return int(self.conn.execute(_INSERT_CUSTOMER, values).scalar_one())

    def add_identity(self, customer_id: int, kind: str, value: str, display: str) -> int:
        domain = value.rpartition("@")[2] if kind == "email" and "@" in value else None
        values = {
            "customer_id": customer_id, "kind": kind, "value": value, "domain": domain,
            "display": display, "created_at": utcnow(),
        }  # fmt: skip
        return int(self.conn.execute(_INSERT_IDENTITY, values).scalar_one())

    def create_ticket(self, values: dict[str, Any]) -> TicketState:
        values = {"version": 1, "reopen_count": 0, "message_count": 0, **values}
        row = self.conn.execute(_INSERT_TICKET, values).first()
        assert row is not None
        return _state(row)

    def insert_messages(
        self, rows: list[dict[str, Any]], need_ids: Iterable[str] = ()
    ) -> dict[str, int]:
        """Insert message rows; returns source_key → id for the keys in ``need_ids``
        (messages with attachments)."""
        if not rows:
            return {}
        self.conn.execute(insert(T_MESSAGE), rows)
        keyed = list(need_ids)
        ids: dict[str, int] = {}
        for part in _chunks(keyed):
            rows_ = self.conn.execute(
                select(T_MESSAGE.c.source_key, T_MESSAGE.c.id).where(
                    T_MESSAGE.c.source_key.in_(part)
                )
            )
            ids.update((key, mid) for key, mid in rows_)
        return ids

    def insert_attachments(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.conn.execute(insert(Attachment.__table__), rows)  # type: ignore[attr-defined]

    def update_tickets(self, states: Iterable[TicketState]) -> None:
        """Write back every changed ticket (and its tags) in a few ``executemany`` calls."""
        rows = []
        tags: list[dict[str, Any]] = []
        for s in states:
            rows.append({f"p_{name}": getattr(s, name) for name in _UPDATED})
            tags.extend(
                {"ticket_id": s.id, "tag": t, "updated_at": s.updated_at} for t in s.add_tags
            )
            s.add_tags = set()
            s.dirty = False
        if not rows:
            return
        self.conn.execute(
            update(T_TICKET)
            .where(T_TICKET.c.id == bindparam("p_id"))
            .values(
                {name: bindparam(f"p_{name}") for name in _UPDATED if name != "id"}
                | {"version": T_TICKET.c.version + 1}
            ),
            rows,
        )
        self.conn.execute(
            update(T_TAG)
            .where(T_TAG.c.ticket_id == bindparam("p_id"))
            .values(updated_at=bindparam("p_updated_at")),
            [{"p_id": r["p_id"], "p_updated_at": r["p_updated_at"]} for r in rows],
        )
        if tags:
            self.conn.execute(self._insert_ignore(T_TAG), tags)

    def _insert_ignore(self, table: Any) -> Any:
        if self.conn.dialect.name == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        return postgresql.insert(table).on_conflict_do_nothing()

    def link(self, ticket_id: int, other_id: int, kind: str) -> None:
        self.conn.execute(
            self._insert_ignore(TicketLink.__table__),  # type: ignore[attr-defined]
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
        self.conn.execute(insert(T_EVENT), rows)

    def record_failures(self, connector: str, failures: Iterable[tuple[str, str, str]]) -> None:
        """Record (source, position, reason); a failure seen again is updated, not doubled."""
        rows = [
            {"connector": connector, "source": s, "position": p, "reason": r, "at": utcnow()}
            for s, p, r in failures
        ]
        if not rows:
            return
        table = ImportFailure.__table__  # type: ignore[attr-defined]
        ins = (sqlite if self.conn.dialect.name == "sqlite" else postgresql).insert(table)
        self.conn.execute(
            ins.on_conflict_do_update(
                index_elements=["connector", "source", "position"],
                set_={"reason": ins.excluded.reason, "at": ins.excluded.at},
            ),
            rows,
        )

    def sync_state(self, account: str, folder: str) -> tuple[int, int] | None:
        """(UIDVALIDITY, highest UID imported) of an IMAP folder, if synced before."""
        table = SyncState.__table__  # type: ignore[attr-defined]
        row = self.conn.execute(
            select(table.c.uidvalidity, table.c.last_uid).where(
                table.c.account == account, table.c.folder == folder
            )
        ).first()
        return (row[0], row[1]) if row else None

    def save_sync_state(self, account: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        table = SyncState.__table__  # type: ignore[attr-defined]
        ins = (sqlite if self.conn.dialect.name == "sqlite" else postgresql).insert(table)
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


class IngestOps(StoreBase):
    """Entry points the ingest pipeline and sync use."""

    @contextmanager
    def ingest_unit(self) -> Iterator[IngestWriter]:
        """One batch transaction: everything written in it commits together or not at all."""
        with self._write_connection() as conn:
            yield IngestWriter(conn)

    def known_source_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these source keys are stored: lets a connector skip parsing what a
        re-import would only count as duplicates."""
        with self.engine.connect() as conn:
            return IngestWriter(conn).existing_source_keys(keys)

    def sync_state(self, account: str, folder: str) -> tuple[int, int] | None:
        with self.ingest_unit() as writer:
            return writer.sync_state(account, folder)

    def import_failures(self, limit: int = 200) -> list[dict[str, Any]]:
        """The most recent import failures."""
        table = ImportFailure.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
            ).mappings()
            return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
