"""Parts of metrics reports kept while the store stands still, so a range that shares
weeks, its end or its last days with one read before reads only the rest.

The dashboard reads 30 days, then 90 days to the same moment: the last weeks of the
two are the same periods, their backlog is the same, and the 90 days' additive counts
are the 30 days' plus those of the 60 days before (on the demo store the last weeks
hold most tickets). A part's value depends only on its bounds and the data, and the
data is known not to have moved while ``Metrics.mark()`` (read after the facts'
refresh) is the same and the process's refresh found nothing to do; either moving
empties the memo. As the dashboard's cache, an entry also expires after ``MAX_AGE``:
on PostgreSQL a transaction that commits lower ids after higher ones moves no mark,
and if another process refreshed the facts for it, this one would not know. Only
parts whose inputs the mark sees are kept: not the business-hours times nor anything
by tier, which follow customers' tiers (a tier edit moves no mark).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

PARTS = ("first_response", "satisfaction")  # what the dashboard reads by week
# The backlog is a state at the range's end: every day range to one moment has the same
# (not by tier: tiers are customers' and move no mark).
AT_END = {"backlog": (None, "channel", "queue", "agent")}
# Counts that add up over adjacent ranges: a range is a kept shorter one with the same
# end plus the days before it (the 90 days after the 30 read only 60 older days).
SUFFIXED = ("created", "solved", "root_causes")
MISSING = object()  # not in the memo (``None`` is a period without data)
MAX_AGE = 300.0  # seconds
_MAX_ENTRIES = 4096  # a bound only: the dashboard keeps a few dozen periods


class PeriodMemo:
    """Values by key for one store mark; shared by the report threads of a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mark: tuple[Any, ...] | None = None
        self._values: dict[Hashable, tuple[float, Any]] = {}  # key: (kept at, value)

    def get(self, mark: tuple[Any, ...], key: Hashable) -> Any:
        """The value kept at ``mark`` for ``key``, else :data:`MISSING`."""
        with self._lock:
            kept = self._values.get(key) if mark == self._mark else None
        if kept is None or time.monotonic() - kept[0] > MAX_AGE:
            return MISSING
        return copy.deepcopy(kept[1])  # each report its own (the kept one stays as read)

    def find(self, mark: tuple[Any, ...], match: Callable[[Any], bool]) -> list[tuple[Any, Any]]:
        """Every young (key, value) kept at ``mark`` whose key ``match`` accepts."""
        with self._lock:
            found = list(self._values.items()) if mark == self._mark else []
        now = time.monotonic()
        return [(k, copy.deepcopy(v)) for k, (at, v) in found if now - at <= MAX_AGE and match(k)]

    def put(self, mark: tuple[Any, ...], key: Hashable, value: Any) -> None:
        """Keep ``value`` (read at ``mark``); a newer mark starts a new memo."""
        with self._lock:
            if mark != self._mark or len(self._values) >= _MAX_ENTRIES:
                self._mark, self._values = mark, {}
            self._values[key] = (time.monotonic(), value)
