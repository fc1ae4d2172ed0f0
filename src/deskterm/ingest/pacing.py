"""Batch sizes that keep an import's write transactions short.

A batch's transaction holds SQLite's single write lock (PostgreSQL: the rows of the
tickets it threads mail into) from its first read to its commit, so an agent's save
can wait that long behind a running import. The pacer measures how long each
transaction lasted per record and sizes the next batch to last about
``[ingest] batch_ms``: big batches when records are cheap, small ones when they are not
(a busy machine, a big store). ``[ingest] batch_size`` stays the upper bound.

A transaction costs a fixed part plus a part per record (F + n·c). Sizing the next
batch as ``target / (elapsed / n)`` converges to the n where F + n·c = target; when the
fixed part alone exceeds the target the batches stay at :data:`MIN_BATCH`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskterm.store import Store

FIRST_BATCH = 10  # before anything is measured: the first batch also warms caches
MIN_BATCH = 10  # below this, per-batch costs dominate and throughput collapses
_SMOOTHING = 0.5  # weight of the newest measurement
# A bulk load (mail files) may write batches this many times the default [ingest]
# batch_size: fewer commits, fewer tickets continued (an UPDATE each) across batches.
BULK_FACTOR = 4
# A bulk load keeps short batches this long after it last met another writer.
CONTENDED_S = 30.0


class BatchPacer:
    """How many records the next batch may hold (see the module docstring)."""

    def __init__(self, target_ms: int) -> None:
        self.target = target_ms / 1000
        self._per_record = 0.0  # smoothed seconds per record inside a transaction

    def limit(self, configured: int, *, paced: bool = True) -> int:
        """The size of the next batch: at most ``configured``; ``configured`` itself
        when not ``paced`` (nobody is waiting on the import's transactions)."""
        if not paced:
            return configured
        if not self._per_record:
            return min(configured, FIRST_BATCH)
        return max(MIN_BATCH, min(configured, int(self.target / self._per_record)))

    @contextmanager
    def timing(self, records: int) -> Iterator[None]:
        """Around a batch's transaction (its commit included): measured if it succeeds."""
        start = time.perf_counter()
        yield
        self.measured(records, time.perf_counter() - start)

    def measured(self, records: int, seconds: float) -> None:
        """A batch of ``records`` committed after ``seconds`` in its transaction."""
        if records <= 0:
            return
        per = seconds / records
        old = self._per_record
        self._per_record = per if not old else old + _SMOOTHING * (per - old)


class Contention:
    """Whether agents may be waiting on an import's transactions, so its batches should
    be paced: always for a live sync; for a bulk load (files) while a console is open
    on the store (its presence heartbeat, read at most once a second) or once one of
    its writes found another writer holding the lock (an agent's short saves seldom
    make it wait, so that alone misses them)."""

    def __init__(self, store: Store, *, bulk: bool) -> None:
        self.store = store
        self.bulk = bulk
        self.checked = float("-inf")  # when the presence table was last read
        self.console_open = False

    def paced(self) -> bool:
        now = time.monotonic()
        if self.bulk and now >= self.checked + 1.0:
            self.checked = now
            self.console_open = self.store.presence.anyone_here()
        return not self.bulk or self.console_open or self.store.db.others_writing(CONTENDED_S)
