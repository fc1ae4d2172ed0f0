"""The created cohort's SLA outcomes and volume, and the backlog, for the metrics
report (:mod:`deskterm.store.metrics`): the big counts, read from the hourly
roll-ups (:mod:`deskterm.store.fact_rollup`) for whole hours and from ``ticket_fact``
for the rest, so a range of months costs a few rows per hour, not one per ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from deskterm.store import metrics_shape as shape
from deskterm.store.dialect.metrics import hour_and_weekday, indexed_by, period_start
from deskterm.store.fact_rollup import HOUR, ROLLUP_GROUPINGS, floor_hour, split

_DONE = "('solved', 'closed')"
_CREATED = "t.created_at >= :since AND t.created_at < :until AND t.merged_into_id IS NULL"
_AGES = (1, 3, 7, 30)
_AGENTS = "ix_ticket_fact_agent_created"


def range_params(since: datetime, until: datetime) -> dict[str, datetime]:
    """The bounds these queries bind besides ``since`` and ``until``."""
    h0, h1 = split(since, until)
    params = {"h0": h0, "h1": h1}
    # Backlog age buckets: a ticket is younger than N days if created after these; the
    # hours holding a bucket edge (or the range's end) are counted ticket by ticket.
    edges = [until - timedelta(days=n) for n in _AGES] + [until]
    params.update({f"age{n}d": edge for n, edge in zip(_AGES, edges, strict=False)})
    for i, edge in enumerate(edges):
        params[f"b{i}"] = floor_hour(edge)
        params[f"b{i}e"] = floor_hour(edge) + HOUR
    return params


class CountQueries:
    """Mixed into the report's query run: ``rows``, ``key`` and ``d`` come from it."""

    d: str

    def rows(self, sql: str) -> list[Any]:
        raise NotImplementedError

    def key(self, by: str | None, anchor: str) -> tuple[str, str]:
        raise NotImplementedError

    def rollup_key(self, by: str | None) -> tuple[str, str] | None:
        """The roll-up grouping and key expression for ``by`` (``None``: no roll-up)."""
        if by in ("week", "month"):
            return "all", period_start(self.d, "r.hour_start", by)
        name = by or "all"
        return (name, "r.group_key") if name in ROLLUP_GROUPINGS else None

    def created(self, by: str | None) -> dict[str, Any]:
        """SLA outcomes of the created cohort as of ``:asof`` (the report's end; one pass
        over its index entries: the facts hold when each outcome starts to count) and
        its volume by channel, queue and weekday x hour."""
        key, join = self.key(by, "t.created_at")
        source = "ticket_fact t"
        if by == "agent":  # by the column, in the order of an index on it (no sort)
            key, source = "t.assignee", f"ticket_fact t {indexed_by(self.d, _AGENTS)}"
        sql = (
            f"SELECT {key}, count(*), sum(CASE WHEN t.fr_due_from < :asof THEN 1 ELSE 0 END), "
            "sum(t.fr_met), sum(CASE WHEN t.breach_from < :asof THEN 1 ELSE 0 END) "
            f"FROM {source} {join} WHERE {_CREATED}"
        )
        sql += " GROUP BY 1" if by is not None else ""
        out: dict[str, Any] = {}
        for k, n, fr_due, fr_met, breached in self.rows(sql):
            if by == "agent" and k is None:
                k = "(unassigned)"
            if n:
                out[k] = {"n": int(n), "fr_due": int(fr_due or 0), "fr_met": int(fr_met or 0),
                          "breached": int(breached or 0), "channel": {}, "queue": {},
                          "grid": shape.empty_grid()}  # fmt: skip
        for k, channel, queue, wd, hr, n in self.rows(self._volume_sql(by)):
            row = out[k]
            row["channel"][channel] = row["channel"].get(channel, 0) + int(n)
            row["queue"][queue] = row["queue"].get(queue, 0) + int(n)
            row["grid"][int(wd)][int(hr)] += int(n)
        for row in out.values():
            row["volume"] = shape.volume(row.pop("channel"), row.pop("queue"), row.pop("grid"))
        return out

    def _volume_sql(self, by: str | None) -> str:
        key, join = self.key(by, "t.created_at")
        rollup = self.rollup_key(by)
        # Without a roll-up (by tier) every ticket of the range is read.
        whole = "(t.created_at >= :h0 AND t.created_at < :h1) OR " if rollup is None else ""
        sql = (
            f"SELECT {key}, t.channel, t.queue, t.created_weekday, t.created_hour, count(*) "
            f"FROM ticket_fact t {join} WHERE t.merged_into_id IS NULL AND ({whole}"
            "(t.created_at >= :since AND t.created_at < :h0) OR "
            "(t.created_at >= :h1 AND t.created_at < :until)) GROUP BY 1, 2, 3, 4, 5"
        )
        if rollup is not None:
            grouped, rkey = rollup
            hour, weekday = hour_and_weekday(self.d, "r.hour_start")
            sql += (
                f" UNION ALL SELECT {rkey}, r.channel, r.queue, {weekday}, {hour}, sum(r.n) "
                f"FROM fact_created_hour r WHERE r.grouped = '{grouped}' "
                "AND r.hour_start >= :h0 AND r.hour_start < :h1 GROUP BY 1, 2, 3, 4, 5"
            )
        return sql

    def backlog(self, by: str | None) -> dict[str, Any]:
        """Tickets open at the end of the range by age and status: the open ones from
        the roll-up by creation hour (the hours holding a bucket edge ticket by ticket),
        then those solved after the range, in the status they last had before."""
        key, join = self.key(by, "t.created_at")

        def bucket(col: str) -> str:
            return (
                f"CASE WHEN {col} > :age1d THEN '<1d' WHEN {col} > :age3d THEN '1-3d' "
                f"WHEN {col} > :age7d THEN '3-7d' WHEN {col} > :age30d THEN '7-30d' "
                "ELSE '>30d' END"
            )

        status = (
            "coalesce((SELECT e.new FROM event e WHERE e.ticket_id = t.ticket_id "
            "AND e.kind = 'status' AND e.at < :until ORDER BY e.id DESC LIMIT 1), 'new')"
        )
        # Open tickets ticket by ticket: all of them without a roll-up, else only those
        # of the hours holding an edge (each an index range); then those solved later.
        rollup = self.rollup_key(by)
        wheres = ["t.done = 0"]
        if rollup is not None:
            wheres = [
                f"t.done = 0 AND t.created_at >= :b{i} AND t.created_at < :b{i}e" for i in range(5)
            ]
        parts = [
            f"SELECT {key} AS k, {bucket('t.created_at')} AS b, {state} AS s "
            f"FROM ticket_fact t {join} "
            f"WHERE t.created_at < :until AND t.merged_into_id IS NULL AND {part}"
            for part, state in (
                *((w, "t.status") for w in wheres),
                # (status, not done: the solved_at index serves this part)
                (f"t.status IN {_DONE} AND t.solved_at >= :until", status),
            )
        ]
        sql = f"SELECT k, b, s, count(*) FROM ({' UNION ALL '.join(parts)}) u GROUP BY k, b, s"
        if rollup is not None:
            grouped, rkey = rollup
            edge_hours = ", ".join(f":b{i}" for i in range(5))
            sql += (
                f" UNION ALL SELECT {rkey}, {bucket('r.hour_start')}, r.status, sum(r.n) "
                f"FROM fact_open_hour r WHERE r.grouped = '{grouped}' "
                f"AND r.hour_start < :b4 AND r.hour_start NOT IN ({edge_hours}) "
                "GROUP BY 1, 2, 3"
            )
        found: dict[str, dict[tuple[str, str], int]] = {}
        for k, b, s, n in self.rows(sql):
            cell = found.setdefault(k, {})
            cell[(b, s)] = cell.get((b, s), 0) + int(n)
        return {
            k: shape.backlog_from([(b, s, n) for (b, s), n in v.items()]) for k, v in found.items()
        }
