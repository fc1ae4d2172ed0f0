"""Writes that differ by engine: upserts, batched inserts, copies and checks.

SQLite gets its rows through plain DB-API calls, which skip SQLAlchemy's per-row
work (the largest cost of an import after SQLite itself); PostgreSQL keeps Core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, insert, text

from deskterm.store.dialect import is_sqlite
from deskterm.store.types import UTCDateTime


def upsert(conn: Connection, table: Any) -> Any:
    """An ``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` for this
    dialect (both spell ``ON CONFLICT`` alike, through different constructs)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (sqlite if is_sqlite(conn) else postgresql).insert(table)


def reset_sequences(conn: Connection, tables: list[Any]) -> None:
    """After rows were inserted with their ids (a copy), PostgreSQL's id sequences must
    continue after the highest id; SQLite takes the next rowid by itself."""
    if is_sqlite(conn):
        return
    for table in tables:
        if "id" in table.c and table.c.id.autoincrement:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            )


# WAL pages before a checkpoint copies them into the database file (~80 MB; SQLite's
# default is 1,000 pages, ~4 MB, less than one batch of mail).
_BULK_CHECKPOINT_PAGES = 20_000
_DEFAULT_CHECKPOINT_PAGES = 1_000


# The import's page cache (the store's default is 64 MiB): the pages a batch writes
# are mostly new ones at the end of each index; the rest come from the OS cache.
_BULK_CACHE_KIB = 32 * 1024


def bulk_writes(conn: Connection, *, alone: bool = False) -> None:
    """Set up a connection for an import's batch transactions. SQLite: keep a smaller
    page cache (peak RSS at 100k messages ~285 → ~265 MB), and when the import is
    ``alone`` (nobody else writing) checkpoint the WAL less often, so index and
    search-index pages that every batch rewrites reach the database file once per
    checkpoint instead of once per batch (about 5 % of an import's writer CPU). With
    others writing it checkpoints at SQLite's default itself: whichever connection
    commits past the threshold copies and syncs the pages, and an agent's save must
    not be the one to find the import's 80 MB waiting (p95 ~400 ms in the soak).
    Durability is unchanged: a committed batch is in the WAL either way, and a killed
    process loses nothing committed."""
    if is_sqlite(conn):
        pages = _BULK_CHECKPOINT_PAGES if alone else _DEFAULT_CHECKPOINT_PAGES
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
        # Only ever smaller (the console may have set a smaller one).
        if conn.exec_driver_sql("PRAGMA cache_size").scalar_one() < -_BULK_CACHE_KIB:
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_BULK_CACHE_KIB}")


def copy_rows(conn: Connection, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys, as fast as the engine allows.

    PostgreSQL streams them with ``COPY … FROM STDIN`` in the connection's transaction,
    several times faster than an ``executemany`` of INSERTs; SQLite takes a plain
    DB-API ``executemany`` (datetimes converted as :class:`UTCDateTime` stores them).
    """
    if not rows:
        return
    columns = tuple(rows[0])
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    if is_sqlite(conn):
        sql, convert = _prepared(conn, table, columns)
        cursor.executemany(sql, [convert(r) for r in rows])
        return
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    values = itemgetter(*columns)
    with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(values(row))


def integrity_check(conn: Connection) -> str:
    """SQLite's ``quick_check`` (``"ok"`` or its first complaint); PostgreSQL checks its
    pages itself, so there it is ``"ok"``."""
    if not is_sqlite(conn):
        return "ok"
    return str(conn.exec_driver_sql("PRAGMA quick_check").scalar())


def backup(engine: Engine, dest: str) -> None:
    """Write a consistent copy of an SQLite store to ``dest`` while it stays in use.

    ``VACUUM INTO`` cannot run inside a transaction, so it goes straight to the driver.
    """
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (dest,))  # type: ignore[union-attr]
    finally:
        raw.close()


class RowWriter:
    """The inserts of one write transaction, each described once: a table and row
    dicts (the table's Python-side defaults filled in, as SQLAlchemy would).

    PostgreSQL runs them as Core ``insert(table)`` with ``executemany``. SQLite runs the
    same INSERT as plain DB-API calls with tuples: that skips SQLAlchemy's per-row
    parameter processing, the largest cost of a chat import after SQLite itself
    (datetimes are converted exactly as :class:`UTCDateTime` stores them).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = is_sqlite(conn)
        self._cursor: Any = None
        self._last_id: dict[str, int] = {}

    @property
    def cursor(self) -> Any:
        """SQLite: a DB-API cursor on this connection and transaction."""
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    @staticmethod
    def complete(table: Any, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with the table's Python-side defaults filled in (a copy if any)."""
        return _with_defaults(table, row)

    def insert_many(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows that all have the same keys."""
        if not rows:
            return
        rows = [_with_defaults(table, r) for r in rows]
        if not self.sqlite:
            self.conn.execute(insert(table), rows)
            return
        sql, convert = _prepared(self.conn, table, tuple(rows[0]))
        self.cursor.executemany(sql, [convert(r) for r in rows])

    def insert_id(self, table: Any, row: dict[str, Any]) -> int:
        """Insert one row; its new id. On SQLite a tenth of the cost of a Core
        statement, which matters when an import meets thousands of new customers."""
        row = _with_defaults(table, row)
        if not self.sqlite:
            return int(self.conn.execute(_returning_id(table), row).scalar_one())
        sql, convert = _prepared(self.conn, table, tuple(row))
        cursor = self.cursor
        cursor.execute(sql, convert(row))
        return int(cursor.lastrowid)

    def execute_many(self, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Run a Core statement (an UPDATE) once per row of parameters. On SQLite it is
        compiled once and run on the cursor with tuples, the parameters typed
        :class:`UTCDateTime` converted as that type stores them."""
        if not rows:
            return
        if not self.sqlite:
            self.conn.execute(statement, rows)
            return
        compiled = _COMPILED.get(id(statement))
        if compiled is None:
            done = statement.compile(dialect=self.conn.dialect)
            names = list(done.positiontup or ())
            # Values the statement carries itself (the 1 of "version + 1").
            fixed = {n: b.value for n, b in done.binds.items() if not b.required}
            times = frozenset(n for n, b in done.binds.items() if isinstance(b.type, UTCDateTime))
            compiled = _COMPILED[id(statement)] = (str(done), _RowTuples(names, times), fixed)
        sql, convert, fixed = compiled
        self.cursor.executemany(sql, [convert(fixed | r if fixed else r) for r in rows])

    def reserve_id(self, table: Any) -> int:
        """An id for a row this transaction inserts later (with ``insert_many``).

        SQLite: the transaction holds the write lock (``BEGIN IMMEDIATE``), so the ids
        after the highest are its own. PostgreSQL: the next value of the table's
        sequence, never handed out twice.
        """
        if not self.sqlite:
            return int(
                self.conn.execute(
                    text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": table.name}
                ).scalar_one()
            )
        last = self._last_id.get(table.name)
        if last is None:
            last = int(
                self.cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()[0]
            )
        self._last_id[table.name] = last + 1
        return last + 1


def _defaults_of(table: Any) -> list[tuple[str, Callable[[], Any]]]:
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


_DEFAULTS: dict[str, list[tuple[str, Callable[[], Any]]]] = {}
_RETURNING: dict[str, Any] = {}
_PREPARED: dict[tuple[str, tuple[str, ...]], tuple[str, _RowTuples]] = {}
# id of a statement built once at import time → its SQLite SQL and row converter
_COMPILED: dict[int, tuple[str, _RowTuples, dict[str, Any]]] = {}


def _with_defaults(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    defaults = _DEFAULTS.get(table.name)
    if defaults is None:
        defaults = _DEFAULTS[table.name] = _defaults_of(table)
    missing = [(name, make) for name, make in defaults if name not in row]
    if not missing:
        return row
    row = dict(row)
    for name, make in missing:
        row[name] = make()
    return row


def _returning_id(table: Any) -> Any:
    statement = _RETURNING.get(table.name)
    if statement is None:
        statement = _RETURNING[table.name] = insert(table).returning(table.c.id)
    return statement


def _prepared(conn: Connection, table: Any, columns: tuple[str, ...]) -> tuple[str, _RowTuples]:
    """SQLite: the INSERT for these columns and the row converter, built once."""
    key = (table.name, columns)
    prepared = _PREPARED.get(key)
    if prepared is None:
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        times = frozenset(c.name for c in table.columns if isinstance(c.type, UTCDateTime))
        prepared = _PREPARED[key] = (
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",
            _RowTuples(list(columns), times),
        )
    return prepared


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
        memo: dict[int, str | None] = {}  # one datetime in several places (an UPDATE's)
        for i in self.times:
            value = values[i]
            if value is None:
                continue
            seen = last.get(i)
            if seen is not None and seen[0] is value:
                values[i] = seen[1]
                continue
            converted = memo.get(id(value))
            if converted is None:
                converted = memo[id(value)] = _sqlite_time(value)
            values[i] = converted
            last[i] = (value, converted)
        return tuple(values)
