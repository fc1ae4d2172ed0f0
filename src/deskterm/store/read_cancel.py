"""Stopping long reads nobody waits for any more.

When the dashboard switches range, the reports of the range it leaves are still
running on the same two cores as the ones it now needs. A :class:`ReadCancel` given to
``store.metrics.report`` stops them: on SQLite at once (``sqlite3.Connection.interrupt``
aborts the running statement), elsewhere before the report's next query (PostgreSQL's
cancel request would block the caller for a round trip).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from deskterm.store.errors import Cancelled


class ReadCancel:
    """One reader's token: :meth:`cancel` from any thread; queries run in :meth:`running`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False
        self._running: set[Any] = set()  # DB-API connections running a query for us

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            for raw in self._running:
                if isinstance(raw, sqlite3.Connection):
                    raw.interrupt()

    @contextmanager
    def running(self, conn: Connection) -> Iterator[None]:
        """Around one query on ``conn``: refused once cancelled, interrupted if it is
        cancelled meanwhile (raising :class:`Cancelled` either way)."""
        raw = conn.connection.dbapi_connection
        with self._lock:
            if self.cancelled:
                raise Cancelled("The read was cancelled.")
            self._running.add(raw)
        try:
            yield
        except OperationalError as exc:
            if self.cancelled:
                raise Cancelled("The read was cancelled.") from exc
            raise
        finally:
            with self._lock:
                self._running.discard(raw)
