"""First response over the created cohort of a long range, by rank instead of by sort.

A 90-day range of a big desk holds hundreds of thousands of first responses; sorting
them for a median (SQLite's window functions) costs far more than walking an index
ordered by the response time to the wanted rank (:func:`ranked_value`). Periods with
few responses are still sorted: walking a whole index for a few would cost more.
The values are those of :func:`median_p90` (the same interpolation between ranks).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from deskterm.store import metrics_shape as shape
from deskterm.store.dialect.metrics import median_p90, ranked_value
from deskterm.store.types import UTCDateTime

# Below this many values a period is sorted, above it walked.
WALK_FROM = 20_000
_COHORT = "t.created_at >= :p0 AND t.created_at < :p1 AND t.merged_into_id IS NULL"
_INDEX = "ix_ticket_fact_first_response"


def periods(
    since: datetime, until: datetime, by: str | None
) -> list[tuple[str, datetime, datetime]]:
    """The report's groups for ``by`` (none, week or month) as UTC bounds in the range."""
    if by is None:
        return [("all", since, until)]
    day = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = day - timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)
    out = []
    while start < until:
        if by == "week":
            end = start + timedelta(days=7)
        else:
            end = (start + timedelta(days=32)).replace(day=1)
        out.append((start.strftime("%Y-%m-%d"), max(start, since), min(end, until)))
        start = end
    return out


def first_response_times(
    conn: Connection, dialect_name: str, since: datetime, until: datetime, by: str | None
) -> dict[str, Any] | None:
    """Median, p90 and count per period, or ``None`` where ranks are not walked."""
    walk = ranked_value(dialect_name, "ticket_fact t", "t.first_response_s", _COHORT, _INDEX)
    if walk is None:
        return None

    def run(sql: str, **params: Any) -> list[Any]:
        stmt = text(sql).bindparams(
            *(bindparam(n, type_=UTCDateTime()) for n in ("p0", "p1") if n in params)
        )
        return list(conn.execute(stmt, params))

    out: dict[str, Any] = {}
    for key, p0, p1 in periods(since, until, by):
        count = "SELECT count(*) FROM ticket_fact t WHERE t.first_response_s IS NOT NULL AND "
        (n,) = run(count + _COHORT, p0=p0, p1=p1)[0]
        if not n:
            continue
        if n < WALK_FROM:
            values = (
                f"SELECT '{key}' AS k, t.first_response_s AS x FROM ticket_fact t "
                f"WHERE t.first_response_s IS NOT NULL AND {_COHORT}"
            )
            _k, n, med, p90 = run(median_p90(dialect_name, values), p0=p0, p1=p1)[0]
        else:
            med, p90 = (rank(run, walk, p, n, p0, p1) for p in (0.5, 0.9))
        out[key] = {"median_s": shape.secs(med), "p90_s": shape.secs(p90), "count": int(n)}
    return out


def rank(run: Any, walk: str, p: float, n: int, p0: datetime, p1: datetime) -> float:
    pos = p * (n - 1)
    (value,) = run(walk, p0=p0, p1=p1, lo=int(pos), frac=pos - int(pos))[0]
    return float(value)
