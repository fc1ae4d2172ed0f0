"""First response and resolution times of a long range, by rank instead of by sort.

A 90-day range of a big desk holds hundreds of thousands of first responses; sorting
them for a median (SQLite's window functions) costs far more than walking an index
ordered by the response time to the wanted rank (:func:`ranked_value`). Periods with
few responses are still sorted, but for the two ranks only (a top-N sort of the rows
their cohort's index finds, a third of the cost of the window functions): walking a
whole index for a few would cost more. The values are those of :func:`median_p90`
(the same interpolation between ranks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from deskterm.store import metrics_shape as shape
from deskterm.store.dialect.metrics import indexed_by, ranked_value
from deskterm.store.types import UTCDateTime

# Below this many values a period is sorted, above it walked.
WALK_FROM = 20_000


@dataclass(frozen=True)
class Walk:
    """A time the report ranks: its fact column, its cohort (bounded by ``:p0`` and
    ``:p1``), the index ordered by it, and the same per agent if there is one."""

    x: str
    cohort: str
    index: str
    cohort_index: str  # an index on the cohort's date (holding x), for few values
    agent_index: str | None = None
    agents: str | None = None  # an index on (assignee, the cohort's date, ...)


FIRST_RESPONSE = Walk(
    "t.first_response_s",
    "t.created_at >= :p0 AND t.created_at < :p1 AND t.merged_into_id IS NULL",
    "ix_ticket_fact_first_response",
    "ix_ticket_fact_created",
    "ix_ticket_fact_agent_first_response",
    "ix_ticket_fact_agent_created",
)
RESOLUTION = Walk(
    "t.resolution_s",
    "t.solved_at >= :p0 AND t.solved_at < :p1 AND t.status IN ('solved', 'closed') "
    "AND t.merged_into_id IS NULL",
    "ix_ticket_fact_resolution",
    "ix_ticket_fact_solved",
)


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


def walked_times(
    conn: Connection,
    dialect_name: str,
    since: datetime,
    until: datetime,
    by: str | None,
    walk: Walk,
) -> dict[str, Any] | None:
    """Median, p90 and count per period (or agent), or ``None`` where ranks are not
    walked (that engine, or that grouping)."""
    if ranked_value(dialect_name, "ticket_fact t", "x", "1 = 1", walk.index) is None:
        return None
    if by not in shape.BY_DATE and not (by == "agent" and walk.agent_index):
        return None

    def run(sql: str, **params: Any) -> list[Any]:
        stmt = text(sql).bindparams(
            *(bindparam(n, type_=UTCDateTime()) for n in ("p0", "p1") if n in params)
        )
        return list(conn.execute(stmt, params))

    answered = f"{walk.x} IS NOT NULL AND "
    groups: list[tuple[str, str, dict[str, Any], int]] = []
    if by == "agent":
        # One ordered pass over the agent index counts every agent's values.
        sql = (
            "SELECT t.assignee, count(*) FROM ticket_fact t "
            f"{indexed_by(dialect_name, walk.agents or '')} "
            f"WHERE {answered}{walk.cohort} GROUP BY t.assignee"
        )
        for agent, n in run(sql, p0=since, p1=until):
            same = "t.assignee IS NULL" if agent is None else "t.assignee = :agent"
            key = "(unassigned)" if agent is None else agent
            groups.append((key, f"{same} AND {walk.cohort}", {"agent": agent}, int(n)))
    else:
        for key, p0, p1 in periods(since, until, by):
            sql = f"SELECT count(*) FROM ticket_fact t WHERE {answered}{walk.cohort}"
            (n,) = run(sql, p0=p0, p1=p1)[0]
            groups.append((key, walk.cohort, {"p0": p0, "p1": p1}, int(n)))
    out: dict[str, Any] = {}
    for key, where, params, n in groups:
        params = {"p0": since, "p1": until, **params}
        if not n:
            continue
        if n < WALK_FROM:  # few: the cohort's rows found by date, sorted for each rank
            index = walk.agents if by == "agent" else walk.cohort_index
        else:  # many: walked in the order of x
            index = walk.agent_index if by == "agent" else walk.index
        walk_sql = ranked_value(dialect_name, "ticket_fact t", walk.x, where, index or "")
        assert walk_sql is not None
        med, p90 = (rank(run, walk_sql, p, n, params) for p in (0.5, 0.9))
        out[key] = {"median_s": shape.secs(med), "p90_s": shape.secs(p90), "count": int(n)}
    return out


def rank(run: Any, walk: str, p: float, n: int, params: dict[str, Any]) -> float:
    pos = p * (n - 1)
    (value,) = run(walk, lo=int(pos), frac=pos - int(pos), **params)[0]
    return float(value)
