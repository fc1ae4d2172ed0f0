"""Shared fixtures: an isolated home for every test, stores, and real servers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.servers import unavailable

ANCHOR = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data and config at a temp dir so no test touches a real store."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DESKTERM_HOME", str(home))
    monkeypatch.delenv("DESKTERM_DB", raising=False)
    monkeypatch.delenv("DESKTERM_CONFIG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    return home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
def store(db_path: Path):  # type: ignore[no-untyped-def]
    from deskterm.desk import open_store

    s = open_store(db_path)
    yield s
    s.close()


@pytest.fixture
def demo_store(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A small deterministic demo store (60 tickets, fixed clock)."""
    from deskterm.demo import DemoBuilder
    from deskterm.desk import open_store

    s = open_store(tmp_path / "demo.db")
    DemoBuilder(s, tickets=60, seed=7, anchor=ANCHOR).build()
    yield s
    s.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a real PostgreSQL: ``DESKTERM_TEST_PG_URL`` or a private cluster."""
    url = os.environ.get("DESKTERM_TEST_PG_URL")
    if url:
        yield url
        return
    import tempfile

    from tests.servers import postgres

    # Not under pytest's tmp tree: every pytest session resets it to mode 0700, which
    # would lock the server (running as the postgres user) out of its own files.
    base = Path(tempfile.mkdtemp(prefix="deskterm-test-pg-"))
    try:
        url, data = postgres.start(base / "cluster")
    except (RuntimeError, OSError) as exc:
        unavailable(f"PostgreSQL: {exc}")
        return
    try:
        yield url
    finally:
        postgres.stop(data)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def _fresh_database(server: str) -> Iterator[str]:
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the server for one test (dropped afterwards)."""
    with _fresh_database(pg_server) as url:
        yield url


@pytest.fixture(scope="module")
def pg_module_url(pg_server: str) -> Iterator[str]:
    """A fresh database shared by one module's tests: for many read-only queries over
    one data set (filled once)."""
    with _fresh_database(pg_server) as url:
        yield url
