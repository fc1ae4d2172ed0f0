"""The dashboard's prefetched ranges: the three reports of a range and grouping, kept
only while they are sure to be what ``deskterm report`` would say now.

An entry is trusted when (a) the console's change serial has not moved (the live feed
saw no change), (b) ``store.metrics.mark()`` read in the worker that shows it equals the
mark read before its reports were (this also sees changes the feed does not, such as a
satisfaction response) and (c) it is younger than ``MAX_AGE``, since "the last N days"
moves with the clock; the range drawn is the entry's own, and the title says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_AGE = 300.0  # seconds
NAMES = ("data", "previous", "groups")  # the week report, the previous period, the groups
Key = tuple[int, str | None]  # (days, grouping)


@dataclass
class Cached:
    """The reports of one range, read while the store stood still."""

    bounds: tuple[datetime, datetime]
    serial: int  # the console's change serial before the reads
    mark: tuple[Any, ...]  # store.metrics.mark() before the reads
    read_at: float = field(default_factory=time.monotonic)
    reports: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.reports) == len(NAMES)


class ReportCache:
    """Entries by (days, grouping); everything goes when the store changes."""

    def __init__(self) -> None:
        self.entries: dict[Key, Cached] = {}

    def get(self, key: Key, serial: int) -> Cached | None:
        """A complete, young entry read at ``serial``, else ``None``."""
        hit = self.entries.get(key)
        if hit is not None and hit.serial != serial:
            self.entries.clear()  # the store changed since: nothing cached is sure
            return None
        if hit is None or not hit.complete or time.monotonic() - hit.read_at > MAX_AGE:
            return None
        return hit

    def keep(self, key: Key, cached: Cached, serial: int) -> None:
        """Store ``cached`` unless the store changed while it was read."""
        if cached.serial == serial:
            self.entries[key] = cached

    def add(self, key: Key, fresh: Cached, name: str, report: Any, serial: int) -> Cached:
        """One report of the shown range arrived (read after ``fresh.mark``): add it to
        the range's entry, starting a new one if the range or the store moved."""
        entry = self.entries.get(key)
        if entry is None or (entry.bounds, entry.mark) != (fresh.bounds, fresh.mark):
            entry = fresh
        entry.reports[name] = report
        self.keep(key, entry, serial)
        return entry

    def drop(self) -> None:
        self.entries.clear()

    def __contains__(self, key: Key) -> bool:
        return key in self.entries
