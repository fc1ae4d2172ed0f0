"""SQLite writers waiting for the write lock: they get in between another process's
back-to-back transactions, and a lock held too long is one clear error."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deskterm.store import Store, engine
from deskterm.store.errors import StoreError

# Another process commits 25 ms transactions one after the other with 3 ms between
# them, as an import does (the gap is what deskterm's own writers leave).
BUSY_WRITER = """
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
print("go", flush=True)
for _ in range(int(sys.argv[2])):
    c.execute("BEGIN IMMEDIATE"); time.sleep(0.025); c.execute("COMMIT"); time.sleep(0.003)
"""


def test_a_save_gets_in_between_another_process_batches(store: Store, db_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", BUSY_WRITER, str(db_path), "200"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "go"
        time.sleep(0.1)
        start = time.monotonic()
        for _ in range(5):
            with store.db.write_connection():
                pass
        waited = time.monotonic() - start
        # the other process runs for ~5.6 s; five saves get in long before it ends
        assert writer.poll() is None, "the saves waited for the whole run"
        assert waited < 4.0
    finally:
        writer.kill()
        writer.wait()


def test_a_lock_held_too_long_is_one_sentence(
    store: Store, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="database is locked"), store.db.write_connection():
            pass
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with store.db.write_connection():  # and the next save works
        pass
