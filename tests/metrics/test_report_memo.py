"""Weeks kept from one report serve the next only while the store stands still: a
report that reuses them equals one read from scratch, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from deskterm.demo import DemoBuilder
from deskterm.desk import open_store
from deskterm.store import Store
from deskterm.store.errors import Cancelled
from deskterm.store.metrics import Metrics
from deskterm.store.read_cancel import ReadCancel
from deskterm.store.satisfaction import Response
from tests.conftest import ANCHOR

WEEKLY = ("first_response", "satisfaction")  # what the dashboard reads by week


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        target: Any = tmp_path_factory.mktemp("memo") / "demo.db"
    else:
        target = request.getfixturevalue("pg_module_url")
    store = open_store(target)
    DemoBuilder(store, tickets=600, seed=3, anchor=ANCHOR).build()
    yield store
    store.close()


def _fresh(store: Store) -> Metrics:
    return Metrics(store.db, store.metrics.clock)


def test_a_longer_range_reuses_the_shared_weeks_and_equals_a_fresh_read(demo: Store) -> None:
    month, quarter = ANCHOR - timedelta(days=30), ANCHOR - timedelta(days=90)
    demo.metrics.report(month, ANCHOR, "week", group_parts=WEEKLY)  # keeps its weeks
    reused = demo.metrics.report(quarter, ANCHOR, "week", group_parts=WEEKLY)
    assert reused == _fresh(demo).report(quarter, ANCHOR, "week", group_parts=WEEKLY)
    assert sum(g["csat"]["responses"] for g in reused["groups"]) == reused["csat"]["responses"]
    assert reused["csat"]["responses"] and len(reused["groups"]) >= 5
    # A range from a shorter one with the same end plus the days before it: SLA
    # outcomes as of the end, root causes against the whole range's previous period.
    for short, long in ((10, 30), (3, 17)):
        metrics = _fresh(demo)  # an empty memo
        metrics.report(ANCHOR - timedelta(days=short), ANCHOR)
        joined = metrics.report(ANCHOR - timedelta(days=long), ANCHOR)
        assert joined == _fresh(demo).report(ANCHOR - timedelta(days=long), ANCHOR)
    # Every part by week, and by month, after the memo holds weeks; the backlog at the
    # range's end (kept by the month's report) with and without groups.
    for by in ("week", "month", None, "agent", "tier"):
        demo.metrics.report(month, ANCHOR, by)
        assert demo.metrics.report(quarter, ANCHOR, by) == _fresh(demo).report(quarter, ANCHOR, by)


def test_a_change_is_seen_by_the_next_report(demo: Store) -> None:
    since = ANCHOR - timedelta(days=30)
    before = demo.metrics.report(since, ANCHOR, "week", group_parts=WEEKLY)
    number = demo.queue.list_tickets(limit=1).rows[0].number
    response = Response("csat", 5, ANCHOR - timedelta(hours=1), number=number)
    assert demo.satisfaction.import_response(response, "lead")
    after = demo.metrics.report(since, ANCHOR, "week", group_parts=WEEKLY)
    assert after["csat"]["responses"] == before["csat"]["responses"] + 1
    assert after == _fresh(demo).report(since, ANCHOR, "week", group_parts=WEEKLY)


def test_a_cancelled_read_stops(demo: Store, tmp_path: Path) -> None:
    cancel = ReadCancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        demo.metrics.report(ANCHOR - timedelta(days=30), ANCHOR, cancel=cancel)
    # On SQLite a running statement is interrupted (here one that would run for minutes).
    engine = create_engine(f"sqlite:///{tmp_path / 'long.db'}")
    cancel = ReadCancel()
    threading.Timer(0.2, cancel.cancel).start()
    start = time.monotonic()
    with engine.connect() as conn, pytest.raises(Cancelled), cancel.running(conn):
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT count(*) FROM (SELECT i FROM n LIMIT 10000000000)"
        ).all()
    assert time.monotonic() - start < 5
    engine.dispose()
