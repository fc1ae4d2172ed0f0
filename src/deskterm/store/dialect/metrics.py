"""Date arithmetic and percentiles for the metrics (:mod:`deskterm.store.metrics`).

Each function returns an SQL fragment for the named dialect, so a report is one
query per figure on either engine.
"""

from __future__ import annotations


def seconds_between(dialect_name: str, later: str, earlier: str) -> str:
    """SQL for the seconds from ``earlier`` to ``later`` (two timestamp expressions)."""
    if dialect_name == "sqlite":
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
    return f"extract(epoch from ({later} - {earlier}))"


def period_start(dialect_name: str, expr: str, unit: str) -> str:
    """SQL for the ``YYYY-MM-DD`` start of the UTC week (Monday) or month of ``expr``."""
    if dialect_name == "sqlite":
        if unit == "week":
            return f"date({expr}, 'weekday 0', '-6 days')"
        return f"strftime('%Y-%m-01', {expr})"
    return f"to_char(date_trunc('{unit}', {expr} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


def hour_and_weekday(dialect_name: str, expr: str) -> tuple[str, str]:
    """SQL for the UTC hour (0-23) and weekday (0 = Monday) of ``expr``."""
    if dialect_name == "sqlite":
        return (
            f"CAST(strftime('%H', {expr}) AS INTEGER)",
            f"((CAST(strftime('%w', {expr}) AS INTEGER) + 6) % 7)",
        )
    return (
        f"CAST(extract(hour from {expr} AT TIME ZONE 'UTC') AS INTEGER)",
        f"CAST(extract(isodow from {expr} AT TIME ZONE 'UTC') AS INTEGER) - 1",
    )


def median_p90(dialect_name: str, values: str) -> str:
    """SQL answering ``(k, n, median, p90)`` per group over the rows of ``values``.

    ``values`` is a query with columns ``k`` (group) and ``x`` (non-null numbers).
    Both engines interpolate linearly between the closest ranks, as PostgreSQL's
    ``percentile_cont`` does; SQLite has no percentile aggregate, so there the ranks
    come from window functions over the same rows.
    """
    if dialect_name != "sqlite":
        return (
            "SELECT k, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY x), "
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY x) FROM ({values}) v GROUP BY k"
        )

    def at(p: float) -> str:
        pos = f"({p} * (n - 1))"
        lo = f"sum(CASE WHEN i = CAST({pos} AS INTEGER) THEN x END)"
        hi = f"sum(CASE WHEN i = min(CAST({pos} AS INTEGER) + 1, n - 1) THEN x END)"
        frac = f"(max({pos}) - max(CAST({pos} AS INTEGER)))"
        return f"{lo} + {frac} * ({hi} - {lo})"

    return (
        f"SELECT k, max(n), {at(0.5)}, {at(0.9)} FROM ("
        "SELECT k, x, row_number() OVER (PARTITION BY k ORDER BY x) - 1 AS i, "
        # The same window as the rank (one sort), over the whole partition.
        "count(*) OVER (PARTITION BY k ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND "
        f"UNBOUNDED FOLLOWING) AS n FROM ({values}) v) r GROUP BY k"
    )


def utc_day_and_second(dialect_name: str, expr: str) -> tuple[str, str]:
    """SQL for the UTC day number (days since 1970-01-01) and the second of that day."""
    if dialect_name == "sqlite":
        epoch = f"((julianday({expr}) - 2440587.5) * 86400.0)"
        day = f"CAST({epoch} / 86400 AS INTEGER)"
    else:
        epoch = f"extract(epoch from {expr})"
        day = f"CAST(floor({epoch} / 86400) AS INTEGER)"
    return day, f"({epoch} - {day} * 86400)"


def clamp(dialect_name: str, value: str, high: str) -> str:
    """SQL for ``value`` limited to ``[0, high]``."""
    if dialect_name == "sqlite":
        return f"max(0, min({value}, {high}))"
    return f"greatest(0, least({value}, {high}))"


def hour_start(dialect_name: str, expr: str) -> str:
    """SQL for the start of the UTC hour of ``expr``, stored as the column type does."""
    if dialect_name == "sqlite":
        return f"strftime('%Y-%m-%d %H:00:00.000000', {expr})"
    return f"(date_trunc('hour', {expr} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


def ranked_value(dialect_name: str, source: str, x: str, where: str, index: str) -> str | None:
    """SQL for the value at rank ``:lo`` (0-based) of ``x`` over the rows of ``source``
    matching ``where``, interpolated by ``:frac`` towards the next rank: read by walking
    ``index`` if it starts with ``x``, else found on ``index`` and sorted (only as far as
    the rank); ``None`` where the engine's percentile aggregate is the better way
    (PostgreSQL sorts hundreds of thousands of values quickly, SQLite's window
    functions do not)."""
    if dialect_name != "sqlite":
        return None
    return (
        f"SELECT min(v) + :frac * (max(v) - min(v)) FROM (SELECT {x} AS v "
        f"FROM {source} {indexed_by(dialect_name, index)} WHERE {x} IS NOT NULL AND {where} "
        f"ORDER BY {x} LIMIT 2 OFFSET :lo) r"
    )


def indexed_by(dialect_name: str, index: str) -> str:
    """SQLite's clause making a query read ``index`` (where its planner, without
    statistics, would sort instead of reading an index in order); nothing elsewhere."""
    return f"INDEXED BY {index}" if dialect_name == "sqlite" else ""
