"""The report's per-ticket facts stay current: a change after a report shows in the
next one, whichever way it is written, also with writers that commit out of order;
an existing store gets its facts when upgraded (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from deskterm.store import Store, schema
from deskterm.store import engine as engine_mod
from deskterm.store.base import Database
from deskterm.store.models import HeardStep, Message
from deskterm.store.ticket_facts import rebuild
from tests.conftest import ANCHOR
from tests.metrics.handbuilt import SINCE, UNTIL, H, T, build

_keys = iter(range(10**6))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "m.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def hand(target: str) -> Iterator[tuple[Store, dict[str, int]]]:
    store = Store.open(target)
    numbers = build(store)
    yield store, numbers
    store.close()


def report(store: Store, by: str | None = None) -> dict[str, Any]:
    return store.metrics.report(SINCE, UNTIL, by)


def facts(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM ticket_fact ORDER BY 1")]


def reply(ticket_id: int, at: Any, direction: str = "outbound") -> Message:
    return Message(ticket_id=ticket_id, direction=direction, sent_at=at,
                   source_key=f"facts:{next(_keys)}")  # fmt: skip


def test_changes_after_a_report_show_in_the_next(hand: tuple[Store, dict[str, int]]) -> None:
    store, n = hand
    before = report(store, "agent")
    assert before["fcr_rate"] == 0.75
    # A second reply to A (no longer first-contact), A handed to ben, F reopened and
    # E's Empathize step: through the services and plain ORM writes alike.
    with store.db.write() as s:
        s.add(reply(n["A"], T + 2 * H))
        s.add(HeardStep(ticket_id=n["E"], step="E", done=True, done_at=T))
    store.tickets.assign(n["A"], "ben", "lead")
    store.tickets.set_status(n["F"], "open", "lead")
    after = report(store, "agent")
    # Solved now: A (two replies), B, H; F is open again.
    assert after["fcr_rate"] == round(1 / 3, 4)
    assert after["resolution"]["count"] == 3
    agents = {g["key"]: g for g in after["groups"]}
    assert "ana" not in {g["key"] for g in after["groups"] if g["resolution"]["count"]}
    assert agents["ben"]["resolution"]["count"] == 2  # A and B
    # The incremental facts are exactly what a rebuild from scratch gives.
    kept = facts(store.db.engine)
    with store.db.write_connection() as conn:
        rebuild(conn)
    assert facts(store.db.engine) == kept
    assert report(store, "agent") == after


def test_nothing_changed_means_nothing_refreshed(hand: tuple[Store, dict[str, int]]) -> None:
    from deskterm.store.ticket_facts import refresh

    store, n = hand
    report(store)
    assert refresh(store.db) == 0
    store.tickets.set_status(n["C"], "solved", "lead")
    assert refresh(store.db) == 1
    assert refresh(store.db) == 0


@pytest.mark.postgres
def test_writers_committing_out_of_order_are_not_missed(pg_url: str) -> None:
    """A writer that queued its ticket first but commits after a later writer (and
    after a report) still shows in the next report: nothing skips past it."""
    store = Store.open(pg_url)
    n = build(store)
    report(store)
    first = Session(store.db.engine)  # queues A first, commits last
    first.add(reply(n["A"], T + 2 * H))
    first.flush()
    with Session(store.db.engine) as second:  # queues F later, commits first
        second.add(reply(n["F"], T + 96 * H + 2 * H))
        second.commit()
    middle = report(store)
    assert middle["fcr_rate"] == 0.5  # F has two replies; A's is not committed yet
    first.commit()
    first.close()
    assert report(store)["fcr_rate"] == 0.25  # A now too
    store.close()


def test_upgrading_an_existing_store_fills_its_facts(target: str, tmp_path: Path) -> None:
    from alembic import command

    engine = engine_mod.make_engine(target)
    with engine.begin() as conn:
        command.upgrade(schema._alembic_config(conn), "0009_sort")  # just before the facts
    build(Store(Database(engine)))
    assert schema.upgrade(engine) == ("0009_sort", schema.HEAD)
    store = Store(Database(engine))
    upgraded = {by: report(store, by) for by in (None, "agent", "week")}
    assert upgraded[None]["fcr_rate"] == 0.75
    assert upgraded[None]["first_response"] == {"median_s": 3600.0, "p90_s": 145440.0, "count": 5}
    # The same store built at the current schema gives the same report.
    fresh = Store.open(tmp_path / "fresh.db")
    build(fresh)
    assert {by: report(fresh, by) for by in upgraded} == upgraded
    fresh.close()
    store.close()


@pytest.fixture
def demo(target: str) -> Iterator[Store]:
    from deskterm.demo import DemoBuilder

    store = Store.open(target)
    DemoBuilder(store, tickets=600, seed=3, anchor=ANCHOR).build()
    yield store
    store.close()


def ticket_by_ticket(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn the hourly roll-ups off: every count reads the facts of each ticket."""
    from deskterm.store.metrics_counts import CountQueries

    monkeypatch.setattr(CountQueries, "rollup_key", lambda self, by: None)


def test_rollups_give_the_counts_ticket_by_ticket_gives(
    demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranges that start and end inside hours, with the backlog's age edges inside
    hours too, before and after changes to tickets of the rolled-up hours."""
    ranges = [
        (ANCHOR - timedelta(days=30, minutes=-17, seconds=-3), ANCHOR - timedelta(minutes=65)),
        (ANCHOR - timedelta(days=90), ANCHOR),
        (ANCHOR - timedelta(days=3, seconds=-1), ANCHOR - timedelta(days=2, minutes=59)),
    ]
    groupings = (None, "channel", "queue", "agent", "week")

    def all_reports() -> list[dict[str, Any]]:
        return [demo.metrics.report(s, u, by) for s, u in ranges for by in groupings]

    def compare() -> None:
        rolled = all_reports()
        with monkeypatch.context() as m:
            ticket_by_ticket(m)
            assert all_reports() == rolled

    compare()
    with demo.db.read() as s:
        sql = "SELECT id FROM ticket WHERE status IN ('open', 'new') ORDER BY id LIMIT 6"
        ids = [r[0] for r in s.connection().exec_driver_sql(sql)]
    for number in ids[:3]:
        demo.tickets.set_status(number, "solved", "lead")
    for number in ids[3:]:
        demo.tickets.assign(number, "Somebody New", "lead")
    compare()


def test_ranks_walked_on_the_index_equal_sorted_percentiles(
    demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskterm.store import metrics_times

    ranges = [(ANCHOR - timedelta(days=90), ANCHOR), (ANCHOR - timedelta(days=9, hours=5), ANCHOR)]

    def reports() -> list[dict[str, Any]]:
        return [
            demo.metrics.report(s, u, by)
            for s, u in ranges
            for by in (None, "week", "month", "agent")
        ]

    monkeypatch.setattr(metrics_times, "WALK_FROM", 0)  # walk every period with values
    walked = reports()
    monkeypatch.setattr(metrics_times, "ranked_value", lambda *a: None)  # sort every one
    assert reports() == walked
    assert walked[0]["first_response"]["count"] > 100


_WRITER = """
import sys
from deskterm.store import Store
store = Store.open(sys.argv[1])
ids = [int(i) for i in sys.argv[2].split(",")]
for round_ in range(4):
    for number in ids:
        store.tickets.set_status(number, ("solved", "open")[round_ % 2], "writer")
        store.tickets.assign(number, f"agent {round_}", "writer")
store.close()
"""


def test_reports_beside_writer_processes_end_equal_to_a_rebuild(demo: Store, target: str) -> None:
    """Two other processes change tickets while this one keeps reporting (refreshing
    facts as it goes); once they are done, the facts equal a rebuild from scratch."""
    import os
    import subprocess
    import sys

    with demo.db.read() as s:
        sql = "SELECT id FROM ticket WHERE merged_into_id IS NULL ORDER BY id LIMIT 40"
        ids = [r[0] for r in s.connection().exec_driver_sql(sql)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, target, ",".join(map(str, part))], env=env)
        for part in (ids[:20], ids[20:])
    ]
    while any(w.poll() is None for w in writers):
        demo.metrics.report(ANCHOR - timedelta(days=30), ANCHOR, "agent")
    assert all(w.returncode == 0 for w in writers)
    final = demo.metrics.report(ANCHOR - timedelta(days=30), ANCHOR, "agent")
    kept = facts(demo.db.engine)
    with demo.db.write_connection() as conn:
        rebuild(conn)
    assert facts(demo.db.engine) == kept
    assert demo.metrics.report(ANCHOR - timedelta(days=30), ANCHOR, "agent") == final


def test_a_store_without_statistics_counts_replies_per_ticket(target: str) -> None:
    # A new, imported or copied store has no statistics; both planners then took the
    # (direction, emotion, ...) message index for a ticket's reply count, a scan of
    # every reply in the store per ticket (a 100k demo build spent minutes on it, a
    # copy into PostgreSQL hours, the first report after a 100k import 43 s).
    from deskterm.store.ticket_facts import fact_select

    store = Store.open(target)
    try:
        with store.db.read() as session:
            conn = session.connection()
            dialect = conn.dialect.name
            select_part = "SELECT" + fact_select(dialect, "t.id IN (1, 2)").split(") SELECT", 1)[1]
            explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + select_part))
    finally:
        store.close()
    assert "ix_message_emotion" not in plan, plan
    assert "ix_message_ticket_sent" in plan or dialect == "postgresql", plan
