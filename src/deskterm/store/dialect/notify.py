"""Change notifications: how a console learns that another process committed.

PostgreSQL sends a ``NOTIFY`` from triggers; SQLite needs no schema, its
``PRAGMA data_version`` moves on every commit by another connection.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from deskterm.store.dialect import is_sqlite

CHANGE_CHANNEL = "deskterm_changes"
_NOTIFY_TABLES = ("ticket", "presence")


def install_change_notify(conn: Connection) -> None:
    """PostgreSQL: every committed change to a ticket or to presence sends a NOTIFY
    (delivered at commit; identical payloads in one transaction are sent once), so
    consoles wake at once instead of polling. SQLite needs nothing: consoles read
    ``PRAGMA data_version``, which moves when another connection commits."""
    if is_sqlite(conn):
        return
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION deskterm_notify() RETURNS trigger AS $$ BEGIN "
        f"PERFORM pg_notify('{CHANGE_CHANNEL}', TG_TABLE_NAME); RETURN NULL; END; "
        "$$ LANGUAGE plpgsql"
    )
    for table in _NOTIFY_TABLES:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION deskterm_notify()"
        )


def drop_change_notify(conn: Connection) -> None:
    if is_sqlite(conn):
        return
    for table in _NOTIFY_TABLES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS deskterm_notify()")


class ChangeWatch:
    """Waits until another process commits a change (or a timeout passes).

    SQLite: ``PRAGMA data_version`` on a connection of its own, polled every
    :attr:`POLL` seconds (it moves only when *another* connection commits).
    PostgreSQL: ``LISTEN`` on its own autocommit connection; the triggers above
    wake it at commit time.
    """

    POLL = 0.2

    def __init__(self, engine: Engine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            self._raw = engine.raw_connection()
            self._version = self._data_version()
        else:
            import psycopg

            url = engine.url.set(drivername="postgresql")
            self._pg = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._pg.execute(f"LISTEN {CHANGE_CHANNEL}")

    def _data_version(self) -> int:
        cursor = self._raw.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        finally:
            cursor.close()

    def wait(self, timeout: float) -> bool:
        """True as soon as something was committed elsewhere; False after ``timeout``."""
        import time

        if not self.sqlite:
            woke = False
            for _note in self._pg.notifies(timeout=timeout, stop_after=1):
                woke = True
            # Drain what else arrived, so one burst of commits wakes us once.
            for _note in self._pg.notifies(timeout=0):
                pass
            return woke
        deadline = time.monotonic() + timeout
        while True:
            version = self._data_version()
            if version != self._version:
                self._version = version
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL)

    def close(self) -> None:
        if self.sqlite:
            self._raw.close()
        else:
            self._pg.close()
