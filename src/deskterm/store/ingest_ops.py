"""The store side of ingest: bulk lookups and writes on one transaction.

The pipeline decides what belongs where; this module only runs the SQL, in batches
(``executemany``) so an import of chat exports can reach tens of thousands of
messages a second. One :class:`IngestWriter` lives for one batch transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from deskterm.store import dialect
from deskterm.store.base import Database
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
from deskterm.store.types import UTCDateTime, utcnow

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


# A batch at least this big indexes its messages for search in one statement.
_DEFER_SEARCH_AT = 64
_MESSAGE_TIMES = frozenset(c.name for c in T_MESSAGE.columns if isinstance(c.type, UTCDateTime))
_TICKET_TIMES = frozenset(c.name for c in T_TICKET.columns if isinstance(c.type, UTCDateTime))


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _insert_sql(conn: Connection, table: str, columns: Sequence[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({_marks(len(columns))})"


def _sqlite_time(value: datetime | None) -> str | None:
    """A datetime exactly as :class:`UTCDateTime` stores it on SQLite (naive UTC text
    with microseconds), so rows written here and through SQLAlchemy sort together."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_value(value: Any) -> Any:
    return _sqlite_time(value) if isinstance(value, datetime) else value


class _RowTuples:
    """Turns row dicts into tuples for one column list, converting datetimes (a batch
    shares one ``created_at`` and neighbours often share ``sent_at``: the last
    conversion per column is reused)."""

    def __init__(self, columns: list[str], times: frozenset[str]) -> None:
        getter = itemgetter(*columns)
        self.get = getter if len(columns) > 1 else lambda row: (getter(row),)
        self.times = [i for i, c in enumerate(columns) if c in times]
        self._last: dict[int, tuple[Any, str | None]] = {}

    def __call__(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = list(self.get(row))
        last = self._last
        for i in self.times:
            value = values[i]
            seen = last.get(i)
            if seen is not None and seen[0] is value:
                values[i] = seen[1]
            else:
                values[i] = converted = _sqlite_time(value)
                last[i] = (value, converted)
        return tuple(values)


def _column_defaults(table: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(column, value maker) for every column with a Python-side default."""
    out: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        default = column.default
        if default is None:
            continue
        if default.is_callable:
            out.append((column.name, partial(default.arg, None)))
        elif default.is_scalar:
            out.append((column.name, partial(lambda v: v, default.arg)))
    return out


_DEFAULTS = {t.name: _column_defaults(t) for t in (T_TICKET, T_CUSTOMER, T_IDENTITY)}
_PREPARED: dict[tuple[str, tuple[str, ...]], tuple[str, _RowTuples]] = {}


def _utc(value: Any) -> Any:
    """Datetimes as the store returns them (aware, UTC); anything else unchanged."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _state(row: Any) -> TicketState:
    return TicketState(**dict(row._mapping))


class IngestWriter:
    """Lookups and buffered writes for one ingest batch on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # SQLite: plain DB-API calls with tuples skip SQLAlchemy's per-row parameter
        # processing, the largest cost of a chat import after SQLite itself.
        self.raw = conn.dialect.name == "sqlite"
        self._search_since: int | None = None
        self._cursor: Any = None
        # SQLite: tickets opened in this batch, written once when it ends (with the
        # state its messages left them in) instead of inserted and then updated.
        self._new_tickets: list[tuple[TicketState, dict[str, Any]]] = []
        self._last_ticket_id: int | None = None

    @property
    def cursor(self) -> Any:
        """SQLite: a DB-API cursor on this batch's connection and transaction."""
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    def finish(self) -> None:
        """Called before the batch commits: write the tickets opened in it, and index
        what was inserted with the search index deferred (see
        :func:`dialect.defer_search_index`)."""
        self._flush_new_tickets()
        if self._search_since is not None:
            dialect.catch_up_search_index(self.conn, self._search_since)
            self._search_since = None

    # -- lookups -----------------------------------------------------------------------

    def existing_source_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        if self.raw:
            for part in _chunks(list(keys)):
                sql = f"SELECT source_key FROM message WHERE source_key IN ({_marks(len(part))})"
                found.update(row[0] for row in self.cursor.execute(sql, tuple(part)))
            return found
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
        if self.raw:
            # One kind at a time: SQLite searches the (kind, value) index for
            # "kind = ? AND value IN (...)" but scans the table for row-value IN lists.
            by_kind: dict[str, list[str]] = {}
            for kind, value in wanted:
                by_kind.setdefault(kind, []).append(value)
            for kind, values in by_kind.items():
                for part in _chunks(values):
                    sql = (
                        "SELECT value, id, customer_id FROM identity "
                        f"WHERE kind = ? AND value IN ({_marks(len(part))})"
                    )
                    for value, ident, customer in self.cursor.execute(sql, (kind, *part)):
                        out[(kind, value)] = (ident, customer)
            return out
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

    def latest_tickets_for(self, conversation_keys: Iterable[str]) -> dict[str, TicketState]:
        """:meth:`latest_ticket_for` of many conversations in one query per chunk."""
        out: dict[str, TicketState] = {}
        for part in _chunks(list(set(conversation_keys))):
            newest = (
                select(
                    *_STATE_COLUMNS,
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
                state = _state(row)
                if state.conversation_key is not None:
                    out[state.conversation_key] = state
        return out

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
        if self.raw:
            return self._insert_raw(T_CUSTOMER, values)[0]
        return int(self.conn.execute(_INSERT_CUSTOMER, values).scalar_one())

    def add_identity(self, customer_id: int, kind: str, value: str, display: str) -> int:
        domain = value.rpartition("@")[2] if kind == "email" and "@" in value else None
        values = {
            "customer_id": customer_id, "kind": kind, "value": value, "domain": domain,
            "display": display, "created_at": utcnow(),
        }  # fmt: skip
        if self.raw:
            return self._insert_raw(T_IDENTITY, values)[0]
        return int(self.conn.execute(_INSERT_IDENTITY, values).scalar_one())

    def create_ticket(self, values: dict[str, Any]) -> TicketState:
        values = {"version": 1, "reopen_count": 0, "message_count": 0, **values}
        if self.raw:
            return self._reserve_ticket(values)
        row = self.conn.execute(_INSERT_TICKET, values).first()
        assert row is not None
        return _state(row)

    def _reserve_ticket(self, values: dict[str, Any]) -> TicketState:
        """SQLite: a new ticket's id and state now, its row when the batch is written.

        The batch holds the write lock (``BEGIN IMMEDIATE``), so the next ids are this
        transaction's to give. The rows are written before anything that points at
        them: the batch's messages, a link, the end of the batch.
        """
        cursor = self.cursor
        if self._last_ticket_id is None:
            self._last_ticket_id = int(
                cursor.execute("SELECT coalesce(max(id), 0) FROM ticket").fetchone()[0]
            )
        self._last_ticket_id += 1
        row = dict(values, id=self._last_ticket_id)
        for name, default in _DEFAULTS["ticket"]:
            if name not in row:
                row[name] = default()
        state = TicketState(**{name: _utc(row.get(name)) for name in TicketState._COLUMNS})
        self._new_tickets.append((state, row))
        return state

    def _flush_new_tickets(self) -> None:
        """Insert the tickets reserved in this batch, as they are now (no longer dirty:
        a later change is written back like any other)."""
        if not self._new_tickets:
            return
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        tags: list[dict[str, Any]] = []
        for state, row in self._new_tickets:
            for name in _UPDATED:
                row[name] = getattr(state, name)
            tags.extend(
                {"ticket_id": state.id, "tag": t, "updated_at": state.updated_at}
                for t in state.add_tags
            )
            state.add_tags = set()
            state.dirty = False
            groups.setdefault(tuple(row), []).append(row)
        for columns, rows in groups.items():
            convert = _RowTuples(list(columns), _TICKET_TIMES)
            self.cursor.executemany(
                _insert_sql(self.conn, "ticket", columns), [convert(r) for r in rows]
            )
        self._new_tickets.clear()
        if tags:
            self.conn.execute(self._insert_ignore(T_TAG), tags)

    def _insert_raw(self, table: Any, values: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """SQLite: insert one row with the table's Python-side defaults filled in, as
        SQLAlchemy would; (new id, the row as written). A tenth of the cost of a Core
        statement, which matters when an import opens thousands of tickets."""
        row = dict(values)
        for name, default in _DEFAULTS[table.name]:
            if name not in row:
                row[name] = default()
        columns = tuple(row)
        key = (table.name, columns)
        prepared = _PREPARED.get(key)
        if prepared is None:
            times = frozenset(c.name for c in table.columns if isinstance(c.type, UTCDateTime))
            prepared = _PREPARED[key] = (
                _insert_sql(self.conn, table.name, columns),
                _RowTuples(list(columns), times),
            )
        sql, convert = prepared
        cursor = self.cursor
        cursor.execute(sql, convert(row))
        return int(cursor.lastrowid), row

    def insert_messages(
        self, rows: list[dict[str, Any]], need_ids: Iterable[str] = ()
    ) -> dict[str, int]:
        """Insert message rows; returns source_key → id for the keys in ``need_ids``
        (messages with attachments)."""
        if not rows:
            return {}
        if not self.raw:
            self.conn.execute(insert(T_MESSAGE), rows)
        else:
            self._flush_new_tickets()
            if len(rows) >= _DEFER_SEARCH_AT and self._search_since is None:
                self._search_since = dialect.defer_search_index(self.conn)
            columns = list(rows[0])
            convert = _RowTuples(columns, _MESSAGE_TIMES)
            self.conn.exec_driver_sql(
                _insert_sql(self.conn, "message", columns), [convert(row) for row in rows]
            )
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
        self._flush_new_tickets()
        rows = []
        tags: list[dict[str, Any]] = []
        for s in states:
            if s.dirty:
                rows.append({f"p_{name}": getattr(s, name) for name in _UPDATED})
            tags.extend(
                {"ticket_id": s.id, "tag": t, "updated_at": s.updated_at} for t in s.add_tags
            )
            s.add_tags = set()
            s.dirty = False
        if not rows:
            if tags:
                self.conn.execute(self._insert_ignore(T_TAG), tags)
            return
        if self.raw:
            self._update_tickets_sqlite(rows, tags)
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

    def _update_tickets_sqlite(
        self, rows: list[dict[str, Any]], tags: list[dict[str, Any]]
    ) -> None:
        names = [name for name in _UPDATED if name != "id"]
        quote = self.conn.dialect.identifier_preparer.quote
        assignments = ", ".join(f"{quote(name)} = ?" for name in names)
        self.conn.exec_driver_sql(
            f"UPDATE ticket SET {assignments}, version = version + 1 WHERE id = ?",
            [(*(_sqlite_value(r[f"p_{name}"]) for name in names), r["p_id"]) for r in rows],
        )
        self.conn.exec_driver_sql(
            "UPDATE ticket_tag SET updated_at = ? WHERE ticket_id = ?",
            [(_sqlite_time(r["p_updated_at"]), r["p_id"]) for r in rows],
        )
        if tags:
            self.conn.execute(self._insert_ignore(T_TAG), tags)

    def _insert_ignore(self, table: Any) -> Any:
        if self.conn.dialect.name == "sqlite":
            return sqlite.insert(table).on_conflict_do_nothing()
        return postgresql.insert(table).on_conflict_do_nothing()

    def link(self, ticket_id: int, other_id: int, kind: str) -> None:
        self._flush_new_tickets()
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
        if self.raw:
            columns = list(rows[0])
            convert = _RowTuples(columns, frozenset({"at"}))
            self.cursor.executemany(
                _insert_sql(self.conn, "event", columns), [convert(r) for r in rows]
            )
            return
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


class IngestOps:
    """Entry points the ingest pipeline and sync use."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def ingest_unit(self) -> Iterator[IngestWriter]:
        """One batch transaction: everything written in it commits together or not at all."""
        with self.db.write_connection() as conn:
            writer = IngestWriter(conn)
            yield writer
            writer.finish()

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
        table = ImportFailure.__table__  # type: ignore[attr-defined]
        stmt = select(table).order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(tuple_(table.c.at, table.c.id) < tuple_(*before))
        with self.db.engine.connect() as conn:
            rows = conn.execute(stmt).mappings()
            return [{**dict(r), "at": r["at"].isoformat()} for r in rows]
