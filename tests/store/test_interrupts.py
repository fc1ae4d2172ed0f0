"""Ctrl-C in the middle of a write: the interrupt reaches the caller as itself (the
import's "interrupted, resume later"), never as a store error that a retry swallows,
and the store takes the next write. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from deskterm.store import Store
from deskterm.store.models import Customer


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    target = (
        str(tmp_path / "s.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    store = Store.open(target)
    yield store
    store.close()


def customers(store: Store) -> int:
    with store.db.read() as session:
        return int(session.connection().execute(text("SELECT count(*) FROM customer")).scalar_one())


def test_ctrl_c_mid_statement_stays_an_interrupt(any_store: Store) -> None:
    def interrupt(cursor: Any, statement: str, params: Any, context: Any) -> None:
        if "INSERT INTO customer" in statement:
            raise KeyboardInterrupt  # as if the signal landed inside the driver call

    before = customers(any_store)
    event.listen(any_store.db.engine, "do_execute", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt), any_store.db.write() as session:
            session.add(Customer(name="Interrupted"))
            session.flush()
        with pytest.raises(KeyboardInterrupt), any_store.db.write_connection() as conn:
            conn.execute(Customer.__table__.insert().values(name="Interrupted too"))  # type: ignore[attr-defined]
    finally:
        event.remove(any_store.db.engine, "do_execute", interrupt)
    assert customers(any_store) == before  # rolled back
    with any_store.db.write() as session:
        session.add(Customer(name="Next"))
    assert customers(any_store) == before + 1
