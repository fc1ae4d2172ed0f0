"""Turn ``--db`` / ``DESKTERM_DB`` into a configured SQLAlchemy engine.

SQLite gets WAL (readers never wait for the importer), foreign keys, a busy timeout
and ``synchronous=NORMAL`` (durable at each WAL checkpoint, much faster than FULL).
Write transactions start with ``BEGIN IMMEDIATE`` so two writers queue (for up to the
busy timeout) instead of failing with "database is locked" when a read upgrades to a
write; the queueing polls every millisecond, so a save waits one import batch, not many.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from deskterm.paths import resolve_target
from deskterm.store.errors import StoreError

WRITE_OPTION = "deskterm_write"
BUSY_TIMEOUT_MS = 10_000


def to_url(target: str) -> URL:
    """A plain path becomes an SQLite URL; anything with ``://`` must be a valid URL."""
    if "://" not in target:
        path = Path(target).expanduser()
        if path.is_dir():
            raise StoreError(f"Store path {path} is a directory, not a database file.")
        if not path.parent.exists():
            raise StoreError(f"Cannot create store {path}: directory {path.parent} does not exist.")
        return URL.create("sqlite", database=str(path.resolve()))
    try:
        url = make_url(target)
    except ArgumentError as exc:
        raise StoreError(f"Store URL {target!r} is not a valid database URL.") from exc
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"Store URL {url.render_as_string(hide_password=True)!r} names an unsupported "
            "database; use a file path, sqlite:///PATH or postgresql+psycopg://…"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    if not conn.get_execution_options().get(WRITE_OPTION, False):
        conn.exec_driver_sql("BEGIN")
        return
    _begin_immediate(conn)
    conn.info["deskterm_writing"] = True


# SQLite's own busy handler sleeps ever longer (up to 100 ms a try), and a waiting
# writer gets the lock only if it wakes while the lock is free. An import commits
# batch after batch with almost no gap, so an agent's save could sleep through many
# of them (p99 ≈ 1 s beside an import). So writers here poll every millisecond, and a
# process leaves a short gap between two of its own write transactions: a waiting
# writer of another process is sure to wake inside it. Waits stay about one
# transaction long (see [ingest] batch_ms), at the cost of ~1 ms per import batch.
_POLL_S = 0.001
_GAP_S = 0.003
_last_write_commit = 0.0
_last_wait = float("-inf")  # when a write of this process last found the lock taken


def waited_for_lock_within(seconds: float) -> bool:
    """Whether a write transaction of this process had to wait for SQLite's write
    lock in the last ``seconds``: another process is writing (agents beside an import)."""
    return time.monotonic() - _last_wait < seconds


def _begin_immediate(conn: Any) -> None:
    global _last_wait
    pause = _last_write_commit + _GAP_S - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    raw = conn.connection.driver_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    break
                _last_wait = time.monotonic()
            time.sleep(_POLL_S)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # once more, failing as SQLAlchemy errors do
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _sqlite_end(conn: Any) -> None:
    global _last_write_commit
    if conn.invalidated:
        return  # interrupted mid-statement (Ctrl-C): the connection is being dropped
    if conn.info.pop("deskterm_writing", False):
        _last_write_commit = time.monotonic()


def make_engine(target: str | os.PathLike[str] | None = None) -> Engine:
    """Create the engine for a store location (see :func:`resolve_target`)."""
    url = to_url(resolve_target(target))
    if url.get_backend_name() == "sqlite":
        # LIFO: the most recently used connection (whose page cache is warm) serves the
        # next unit of work, instead of every pooled connection growing its own 64 MiB
        # cache in turn (the console's RSS after 1,000 tickets: 240 MB FIFO, 185 MB LIFO).
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, pool_use_lifo=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ImportError as exc:
        raise StoreError(f"The database driver for {url.drivername} is not installed.") from exc


def describe(engine: Engine) -> str:
    """A short, password-free name for the store, for headers and messages."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)
