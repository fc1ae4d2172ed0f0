"""The JSON shape of the metrics report: pure helpers that turn query rows into the
contract documented in ``docs/metrics.md`` (no SQL here)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from deskterm.vocab import HEARD_STEPS

AGE_BUCKETS = ("<1d", "1-3d", "3-7d", "7-30d", ">30d")
Row = dict[str, Any]


def rate(part: int | None, whole: int | None) -> float | None:
    return None if not whole else round((part or 0) / whole, 4)


# Groupings keyed by a date alone (or none at all): their reads need no ticket's row.
BY_DATE = (None, "week", "month")


def secs(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def sum_satisfaction(periods: Iterable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The satisfaction counts of a range from its periods' (per kind: responses, sum
    of scores, good and bad responses)."""
    return functools.reduce(add, periods, {})


def calendar_rows(
    windows: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[int, float, float, float, float, float]]:
    """Per UTC day from ``start`` to ``end``: (day number, open seconds before the day,
    then two open pieces as seconds of the day). A local window crosses UTC midnight at
    most once, so no UTC day holds more than two pieces."""
    pieces: dict[int, list[tuple[float, float]]] = {}
    for opens, closes in windows:
        at, stop = opens.timestamp(), closes.timestamp()
        while at < stop:
            day = int(at // 86400)
            piece_end = min(stop, (day + 1) * 86400.0)
            pieces.setdefault(day, []).append((at - day * 86400, piece_end - day * 86400))
            at = piece_end
    rows = []
    cum = 0.0
    for day in range(int(start.timestamp() // 86400), int(end.timestamp() // 86400) + 1):
        got = pieces.get(day, [])
        (s1, e1), (s2, e2) = [*got, (0.0, 0.0), (0.0, 0.0)][:2]
        rows.append((day, cum, s1, e1, s2, e2))
        cum += sum(e - s for s, e in got)
    return rows


def no_times() -> Row:
    return {"median_s": None, "p90_s": None, "count": 0}


def empty_grid() -> list[list[int]]:
    """Seven weekdays (Monday first) by 24 hours of zeros."""
    return [[0] * 24 for _ in range(7)]


def volume(channel: dict[str, int], queue: dict[str, int], grid: list[list[int]]) -> Row:
    return {
        "created": sum(channel.values()),
        "by_channel": dict(sorted(channel.items())),
        "by_queue": dict(sorted(queue.items())),
        "by_weekday_hour": grid or empty_grid(),
    }


def backlog(by_age: dict[str, int], by_status: dict[str, int] | None = None) -> Row:
    return {
        "total": sum(by_age.values()),
        "by_age": {b: by_age.get(b, 0) for b in AGE_BUCKETS},
        "by_status": dict(sorted((by_status or {}).items())),
    }


def backlog_from(rows: list[tuple[str, str, int]]) -> Row:
    by_age: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for bucket, status, n in rows:
        by_age[bucket] = by_age.get(bucket, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    return backlog(by_age, by_status)


def heard(c: dict[str, Any]) -> Row:
    n = c.get("n", 0)
    steps = c.get("steps", [0] * 5)
    return {
        "completion_rate": rate(c.get("complete"), n),
        "step_rates": {s: rate(v, n) for s, v in zip(HEARD_STEPS, steps, strict=True)},
        "empathy_before_resolve_rate": rate(c.get("before"), c.get("resolved")),
    }


def causes(
    series: list[dict[str, Any]], totals: dict[str, int], prev: dict[str, int], unit: str = "week"
) -> Row:
    change = {c: totals.get(c, 0) - prev.get(c, 0) for c in set(totals) | set(prev)}
    best = sorted(change.items(), key=lambda kv: (-kv[1], kv[0]))
    rising = {"category": best[0][0], "change": best[0][1]} if best and best[0][1] > 0 else None
    return {
        "period": unit,
        "totals": dict(sorted(totals.items())),
        "previous": dict(sorted(prev.items())),
        "series": series,
        "rising": rising,
    }


def corrections(pairs: list[tuple[str | None, str | None, int]]) -> Row:
    """``{count, pairs}``: emotion corrections, per (from, to) pair, most frequent first
    (``from`` is ``null`` where the ticket had no estimate)."""
    ordered = sorted(pairs, key=lambda p: (-p[2], p[0] or "", p[1] or ""))
    return {
        "count": sum(n for _, _, n in pairs),
        "pairs": [{"from": old, "to": new, "count": n} for old, new, n in ordered],
    }


# -- a range from two adjacent ones (the raw counts of metrics parts) ------------------


def add(x: Any, y: Any) -> Any:
    """Counts of two adjacent ranges added: numbers, dicts of them per key (a key
    missing on one side counts as nothing there), lists item by item."""
    if isinstance(x, dict) or isinstance(y, dict):
        x, y = x or {}, y or {}
        return {k: add(x.get(k), y.get(k)) for k in sorted(x.keys() | y.keys())}
    if isinstance(x, list) or isinstance(y, list):
        return [add(i, j) for i, j in zip(x or [], y or [], strict=True)]
    return (x or 0) + (y or 0)


def add_counts(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The created or solved cohort's counts of two adjacent ranges, per group key."""
    out: dict[str, Any] = add(a, b)
    for row in out.values():
        if "volume" in row:  # in its own order, its total from the parts
            v = row["volume"]
            row["volume"] = volume(v["by_channel"], v["by_queue"], v["by_weekday_hour"])
    return out


def add_causes(earlier: dict[str, Row], later: dict[str, Row]) -> dict[str, Row]:
    """Root causes of two adjacent ranges, per group key: the series and totals added,
    the previous period's (and so the rising category) the earlier one's, which was
    read with the whole range's previous period."""
    out = {}
    for k in earlier.keys() | later.keys():
        a, b = earlier.get(k), later.get(k)
        counts: dict[tuple[str, str], int] = {}
        for row in (a or {}).get("series", []) + (b or {}).get("series", []):
            at = (row["period"], row["category"])
            counts[at] = counts.get(at, 0) + row["count"]
        series = [{"period": p, "category": c, "count": n} for (p, c), n in sorted(counts.items())]
        totals = add((a or {}).get("totals", {}), (b or {}).get("totals", {}))
        unit = (a or b or {}).get("period", "week")
        out[k] = causes(series, totals, (a or {}).get("previous", {}), unit)
    return out
