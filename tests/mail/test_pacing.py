"""Import batches are sized by time, so an agent's save never waits long behind one."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from deskterm.ingest.pacing import FIRST_BATCH, MIN_BATCH, BatchPacer
from deskterm.ingest.pipeline import Ingestor
from deskterm.ingest.state import HookContext
from deskterm.settings import Settings
from deskterm.store import Store
from tests.store.helpers import mail


def test_pacer_converges_on_the_batch_that_lasts_the_target() -> None:
    pacer = BatchPacer(40)
    fixed, per_record = 0.010, 0.0005  # 10 ms a batch + 0.5 ms a record: 60 records
    size = pacer.limit(500)
    assert size == FIRST_BATCH
    for _ in range(30):
        pacer.measured(size, fixed + size * per_record)
        size = pacer.limit(500)
    assert 55 <= size <= 60
    pacer.measured(size, 5.0)  # the machine got busy: batches shrink at once
    assert pacer.limit(500) < size
    slow = BatchPacer(40)
    slow.measured(50, 1.0)  # a fixed part above the target: the smallest batch
    assert slow.limit(500) == MIN_BATCH
    quick = BatchPacer(40)
    quick.measured(50, 0.001)  # cheap records: up to the configured size, no more
    assert quick.limit(500) == 500


class _SlowHook:
    """Makes every record cost 5 ms inside the transaction."""

    def __call__(self, ctx: HookContext) -> None:
        time.sleep(0.005)


def test_import_commits_small_batches_when_records_are_slow(store: Store) -> None:
    config = Settings()
    records = [mail(f"c{i}@example.org", f"Question {i}") for i in range(80)]
    summary = Ingestor(store, config, hooks=[_SlowHook()]).run(records, connector="test")
    assert summary.messages_new == 80
    with store.db.engine.connect() as conn:
        batches = conn.exec_driver_sql("SELECT count(DISTINCT created_at) FROM message").scalar()
    # 10 records first (50 ms), then batches of 10 (the least): 8 commits
    assert batches is not None and batches >= 4


def test_a_bulk_load_paces_only_once_another_writer_is_seen(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alone, a file import writes whole batches; after its write found the lock taken
    (an agent's save, here another connection holding it 50 ms), it paces."""
    from deskterm.store import engine

    monkeypatch.setattr(engine, "_last_wait", float("-inf"))
    config = Settings()
    alone = Ingestor(store, config, hooks=[_SlowHook()], bulk=True)
    assert alone.contention.paced() is False
    records = [mail(f"a{i}@example.org", f"Alone {i}") for i in range(30)]
    assert alone.run(records, connector="test").messages_new == 30
    with store.db.engine.connect() as conn:
        batches = conn.exec_driver_sql("SELECT count(DISTINCT created_at) FROM message").scalar()
    assert batches == 1  # one batch: nobody was waiting
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.05, lambda: holder.execute("COMMIT"))
    release.start()
    with store.db.write_connection():  # waits for the other writer
        pass
    release.join()
    holder.close()
    assert store.db.others_writing(30.0) and alone.contention.paced() is True
    live = Ingestor(store, config)  # a live sync always paces
    monkeypatch.setattr(engine, "_last_wait", float("-inf"))
    assert live.contention.paced() is True and alone.contention.paced() is False


def test_a_bulk_load_paces_while_a_console_is_open(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An agent's short saves seldom make the import wait, so it would not see them;
    an open console (its heartbeat) is enough to keep the import's batches short."""
    from deskterm.store import engine

    monkeypatch.setattr(engine, "_last_wait", float("-inf"))
    bulk = Ingestor(store, Settings(), bulk=True)
    assert bulk.contention.paced() is False
    store.presence.beat("console-1", "Ana Souza", None, "viewing")
    assert bulk.contention.paced() is False  # read at most once a second
    bulk.contention.checked = float("-inf")
    assert bulk.contention.paced() is True
    store.presence.leave("console-1")
    bulk.contention.checked = float("-inf")
    assert bulk.contention.paced() is False
