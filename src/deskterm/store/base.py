"""The database under every store part: one engine, short sessions, units of work."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlmodel import Session

from deskterm.store import engine as engine_mod
from deskterm.store import schema
from deskterm.store.dialect.search import repair_search_index
from deskterm.store.errors import StoreError


class Database:
    """Owns the engine; every query runs in a session opened by :meth:`read`/:meth:`write`.

    Sessions are never shared between threads: each unit of work opens its own, so the
    TUI's workers and the importer can use one ``Store`` (and its parts) concurrently.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, target: str | os.PathLike[str] | None = None, *, upgrade: bool = True) -> Self:
        """Open (and create or upgrade, unless ``upgrade`` is false) a store."""
        engine = engine_mod.make_engine(target)
        try:
            if upgrade:
                schema.upgrade(engine)
            elif schema.check(engine) != schema.HEAD:
                raise StoreError("The store's schema is out of date; run: deskterm db upgrade")
            with engine.connect() as conn:
                if repair_search_index(conn):
                    conn.commit()
        except OperationalError as exc:
            engine.dispose()
            raise StoreError(
                f"Cannot open the store {engine_mod.describe(engine)}: {schema._first_line(exc)}"
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def others_writing(self, within: float) -> bool:
        """Whether other writers may be waiting on this process's write transactions:
        on SQLite, a write here found the lock taken in the last ``within`` seconds; on
        PostgreSQL (row locks, no lock to wait on visibly) always assumed."""
        return self.dialect != "sqlite" or engine_mod.waited_for_lock_within(within)

    @property
    def location(self) -> str:
        """The store's path or password-free URL."""
        return engine_mod.describe(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; nothing it does is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            except SQLAlchemyError as exc:
                raise StoreError(f"Store query failed: {schema._first_line(exc)}") from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes commit together at the end, or not at all."""
        with (
            self.write_connection() as conn,
            Session(bind=conn, expire_on_commit=False) as session,
        ):
            yield session
            session.flush()

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in one transaction (ingest's batched writes use it)."""
        conn = self.engine.connect().execution_options(**{engine_mod.WRITE_OPTION: True})
        try:
            transaction = conn.begin()
            try:
                yield conn
            except BaseException:
                # Ctrl-C inside a driver call leaves the connection unusable; the error
                # its rollback raises must not stand in for the interrupt (an import
                # would take it for a bad batch, retry, and never stop).
                if transaction.is_active:
                    with contextlib.suppress(SQLAlchemyError):
                        transaction.rollback()
                raise
            transaction.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"Store write failed: {schema._first_line(exc)}") from exc
        finally:
            conn.close()

    def limit_page_cache(self, mib: int) -> None:
        """Cap SQLite's page cache per connection at ``mib`` MiB (no-op elsewhere).

        The console reads through several short-lived pooled connections at once
        (pages, counts, read-ahead); at the store's default of 64 MiB each, page caches
        alone could hold over 250 MB. Index-range pages need far less, and pages that
        drop out are still in the OS cache.
        """
        if self.engine.dialect.name != "sqlite":
            return

        def apply(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA cache_size=-{int(mib) * 1024}")
            cursor.close()

        event.listen(self.engine, "connect", apply)
        self.engine.dispose()  # connections already open come back with the new size
