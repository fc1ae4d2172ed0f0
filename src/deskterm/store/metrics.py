"""Support metrics over a date range (PRODUCT.md §6), as SQL aggregates.

Every number is an aggregate the database computes; no ticket is loaded into Python.
Per-ticket figures (times, replies, HEARD steps, SLA dates) come from ``ticket_fact``,
one row per ticket refreshed before each report (:mod:`deskterm.store.ticket_facts`),
so a range is an index-range scan of it; satisfaction, root causes and emotion read
the event log, HEARD steps and messages of the range (``metrics_events``). Parts a
process may reuse between reports are in ``metrics_memo``. Definitions, formulas and
edge cases are in ``docs/metrics.md``; the JSON shape of :meth:`Metrics.report` is the
contract ``deskterm report --json`` prints and the dashboard shows.

Cohorts: *created* (tickets created in the range), *solved* (tickets solved in the
range and still solved or closed). Merged-away tickets are in neither: their messages
now belong to the ticket they were merged into.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text

from deskterm.store import metrics_shape as shape
from deskterm.store.base import Database
from deskterm.store.dialect.metrics import (
    clamp,
    median_p90,
    period_start,
    seconds_between,
    utc_day_and_second,
)
from deskterm.store.metrics_counts import range_params
from deskterm.store.metrics_events import EventQueries
from deskterm.store.metrics_memo import AT_END, MISSING, PARTS, SUFFIXED, PeriodMemo
from deskterm.store.metrics_times import FIRST_RESPONSE, RESOLUTION, periods, walked_times
from deskterm.store.read_cancel import ReadCancel
from deskterm.store.sla_clock import SlaClock
from deskterm.store.ticket_facts import refresh
from deskterm.store.types import UTCDateTime

GROUPINGS = ("channel", "queue", "agent", "tier", "week", "month")
SATISFACTION_KINDS = ("csat", "ces", "nps")
_KEYS = {
    "channel": "t.channel",
    "queue": "t.queue",
    "agent": "coalesce(t.assignee, '(unassigned)')",
    "tier": "coalesce(c.tier, '(none)')",
}
_DONE = "('solved', 'closed')"
_CREATED = "t.created_at >= :since AND t.created_at < :until AND t.merged_into_id IS NULL"
_SOLVED = (
    f"t.solved_at >= :since AND t.solved_at < :until AND t.status IN {_DONE} "
    "AND t.merged_into_id IS NULL"
)

Row = shape.Row
Parts = list[tuple[str, "Future[dict[str, Any]]"]]
# Queries of one report run at once, one per core (on 2 cores, 3 threads were 6-9 %
# slower than 2 for the 1M report; the engines do the work outside Python's lock).
THREADS = min(4, max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                     else os.cpu_count() or 2))  # fmt: skip


class Metrics:
    """``store.metrics``: the report behind ``deskterm report`` and the dashboard."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock
        self.memo = PeriodMemo()
        # Moves whenever this process refreshes facts: on PostgreSQL a writer that
        # queued its ticket first may commit last, after the ids the mark reads.
        self._refreshes = itertools.count()
        self.epoch = next(self._refreshes)

    def mark(self) -> tuple[Any, ...]:
        """Moves whenever anything a report counts may have changed (an event, a
        message, a ticket edit), so a cached report can be checked cheaply: four index
        lookups. Unlike the console's change feed it also sees satisfaction responses,
        which change no ticket's ``updated_at``."""
        sql = (
            "SELECT (SELECT max(id) FROM event), (SELECT max(id) FROM message),"
            " (SELECT max(id) FROM ticket), (SELECT max(updated_at) FROM ticket)"
        )
        with self.db.read() as session:
            return tuple(session.execute(text(sql)).one())

    def report(
        self,
        since: datetime,
        until: datetime,
        by: str | None = None,
        *,
        group_parts: tuple[str, ...] | None = None,
        cancel: ReadCancel | None = None,
    ) -> dict[str, Any]:
        """All metrics for ``[since, until)``; with ``by``, also one entry per group.

        ``group_parts`` limits the groups to some queries (names as in
        :meth:`_Run.metrics`; the others show as no data): the dashboard's weekly charts
        need only first response and satisfaction, at half the cost of everything.
        ``cancel`` stops the report (raising ``Cancelled``) when its reader leaves."""
        if by is not None and by not in GROUPINGS:
            raise ValueError(f"by must be one of {', '.join(GROUPINGS)}")
        if refresh(self.db):
            self.epoch = next(self._refreshes)
        run = _Run(self.db, since, until)
        run.calendar = self._calendar(since, until)
        run.memo = (self.memo, (self.epoch, *self.mark()))
        run.cancel = cancel or ReadCancel()
        # By week or month, the range's satisfaction is the sum of its periods'.
        summed = by in ("week", "month") and "satisfaction" in (group_parts or ("satisfaction",))
        with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="metrics") as pool:
            overall_parts = run.start(pool, None, skip=("satisfaction",) if summed else ())
            group_parts_ = run.start(pool, by, group_parts) if by is not None else []
            groups = run.collect(group_parts_)
            overall = run.collect(overall_parts).get("all", {})
        if summed:
            overall["satisfaction"] = shape.sum_satisfaction(
                g["satisfaction"] for g in groups.values() if "satisfaction" in g
            )
        result: dict[str, Any] = {
            "range": {
                "since": since.isoformat(),
                "until": until.isoformat(),
                "days": round((until - since) / timedelta(days=1), 2),
            },
            **run.assemble(overall, week_or_month=False),
        }
        if by is not None:
            week_or_month = by in ("week", "month")
            result["by"] = by
            result["groups"] = [
                {"key": k, **run.assemble(groups[k], week_or_month=week_or_month)}
                for k in sorted(groups)
            ]
        return result

    def _calendar(self, since: datetime, until: datetime) -> _Calendars | None:
        """The business-hours day tables (see :func:`shape.calendar_rows`) as SQL
        ``VALUES``, one per calendar (0: the default; then each tier with its own), or
        ``None`` when every SLA calendar is open around the clock."""
        # First replies to tickets of the range may come after it, but not after now.
        end = max(until, datetime.now(UTC)) + timedelta(days=1)
        calendars = self.clock.business_calendars(since, end)
        if not calendars:
            return None
        tiers = [tier for tier in calendars if tier is not None]
        values = ", ".join(
            f"({n}, {d}, {cum:.3f}, {a:.3f}, {b:.3f}, {c:.3f}, {e:.3f})"
            for n, tier in enumerate([None, *tiers])
            for d, cum, a, b, c, e in shape.calendar_rows(calendars[tier], since, end)
        )
        if not tiers:
            return _Calendars(values, "0", "")
        cases = " ".join(f"WHEN {_literal(t)} THEN {n}" for n, t in enumerate(tiers, 1))
        join = "LEFT JOIN customer bc ON bc.id = t.customer_id"
        return _Calendars(values, f"(CASE lower(bc.tier) {cases} ELSE 0 END)", join)


@dataclass(frozen=True)
class _Calendars:
    """The report's business-hours calendars: their day tables as ``VALUES`` rows of
    (calendar, day, open seconds before it, two open pieces), and which calendar a
    ticket's clock runs on (an expression over ``t``, and the join it needs)."""

    values: str
    which: str
    join: str


def _literal(text_: str) -> str:
    """A SQL string literal (tier names come from the config file)."""
    return "'" + text_.replace("'", "''") + "'"


class _Run(EventQueries):
    """One report's queries over a range. Each runs on its own pooled connection, so
    the independent parts of a report run at once (threads: the engines work outside
    Python's lock); each part reads one consistent snapshot."""

    def __init__(self, db: Database, since: datetime, until: datetime):
        self.db = db
        self.d = db.dialect
        # asof: the moment SLA outcomes are counted at (the report's end, also when a
        # part of it is read as a shorter range).
        self.params = {"since": since, "until": until, "prev": since - (until - since),
                       "asof": until}  # fmt: skip
        self.params.update(range_params(since, until))
        self.calendar: _Calendars | None = None
        self.memo: tuple[PeriodMemo, tuple[Any, ...]] = (PeriodMemo(), ())  # and its mark
        self.cancel = ReadCancel()

    def rows(self, sql: str) -> list[Any]:
        stmt = text(sql)
        names = [n for n in self.params if f":{n}" in sql]
        stmt = stmt.bindparams(*(bindparam(n, type_=UTCDateTime()) for n in names))
        with self.db.read() as session:
            conn = session.connection()
            with self.cancel.running(conn):
                return list(conn.execute(stmt, {n: self.params[n] for n in names}))

    def key(self, by: str | None, anchor: str) -> tuple[str, str]:
        """The group-key expression for ``by`` and the join it needs."""
        if by is None:
            return "'all'", ""
        if by in ("week", "month"):
            return period_start(self.d, anchor, by), ""
        join = "LEFT JOIN customer c ON c.id = t.customer_id" if by == "tier" else ""
        return _KEYS[by], join

    def secs(self, later: str, earlier: str) -> str:
        return seconds_between(self.d, later, earlier)

    # -- assembly -----------------------------------------------------------------------

    def queries(self) -> dict[str, Callable[[str | None], dict[str, Any]]]:
        """The report's parts by name, each answering ``{group key: its numbers}``."""
        return {
            "first_response": lambda b: self.times(b, "first_response_s", _CREATED),
            "resolution": lambda b: self.times(b, "resolution_s", _SOLVED),
            "first_response_business_hours": self.business_times,
            "solved": self.solved,
            "created": self.created,
            "backlog": self.backlog,
            "satisfaction": self.satisfaction,
            "root_causes": self.root_causes,
            "emotion": self.emotion,
        }

    def start(
        self,
        pool: Executor,
        by: str | None,
        only: tuple[str, ...] | None = None,
        skip: tuple[str, ...] = (),
    ) -> Parts:
        """Submit the queries of the metrics for ``by`` (``only`` some, by name)."""
        out: Parts = []
        for name, query in self.queries().items():
            # A backlog is a state at one moment, not a sum over periods.
            if (name == "backlog" and by in ("week", "month")) or name in skip:
                continue
            if only is None or name in only:
                if by in ("week", "month") and name in PARTS:
                    out.append((name, pool.submit(self.by_period, name, by)))
                elif by is None and name in SUFFIXED:
                    out.append((name, pool.submit(self.suffixed, name)))
                elif by in AT_END.get(name, ()):
                    out.append((name, pool.submit(self.at_end, name, by)))
                else:
                    out.append((name, pool.submit(query, by)))
        return out

    def by_period(self, name: str, by: str) -> dict[str, Any]:
        """Part ``name`` per week or month: the periods in the memo from it, the others
        read as one range (from the first period not kept to the last) and kept."""
        memo, mark = self.memo
        since, until = self.params["since"], self.params["until"]
        out: dict[str, Any] = {}
        todo = []
        for label, p0, p1 in periods(since, until, by):
            kept = memo.get(mark, ("period", name, by, p0, p1))
            if kept is MISSING:
                todo.append((label, p0, p1))
            elif kept is not None:
                out[label] = kept
        if todo:
            rest = self.sub(todo[0][1], todo[-1][2])
            found = {str(k): v for k, v in rest.queries()[name](by).items()}
            for label, p0, p1 in todo:
                memo.put(mark, ("period", name, by, p0, p1), found.get(label))
                if label in found:
                    out[label] = found[label]
        return out

    def sub(self, since: datetime, until: datetime) -> _Run:
        """The same report's queries over a part of its range (SLA outcomes still
        counted at its end, root causes still against its previous period)."""
        part = _Run(self.db, since, until)
        part.params.update(asof=self.params["asof"], prev=self.params["prev"])
        part.calendar, part.cancel = self.calendar, self.cancel
        return part

    def suffixed(self, name: str) -> dict[str, Any]:
        """Part ``name`` (additive counts) over the whole range: a kept shorter range
        with the same end plus a read of the days before it, else read whole; kept."""
        memo, mark = self.memo
        since, until = self.params["since"], self.params["until"]
        kept = memo.get(mark, ("range", name, since, until))
        if kept is not MISSING:
            return dict(kept)
        later = [(k[2], v) for k, v in memo.find(mark, lambda k: k[:2] == ("range", name))
                 if since < k[2] < until and k[3] == until]  # fmt: skip
        if later:
            start, part = min(later, key=lambda kv: kv[0])  # the longest one
            earlier = self.sub(since, start).queries()[name](None)
            add = shape.add_causes if name == "root_causes" else shape.add_counts
            value = add(earlier, part)
        else:
            value = self.queries()[name](None)
        memo.put(mark, ("range", name, since, until), value)
        return dict(value)

    def at_end(self, name: str, by: str | None) -> dict[str, Any]:
        """Part ``name`` as of the range's end, from the memo when read before."""
        memo, mark = self.memo
        key = ("end", name, by, self.params["until"])
        kept = memo.get(mark, key)
        if kept is MISSING:
            kept = self.queries()[name](by)
            memo.put(mark, key, kept)
        return dict(kept)

    def collect(self, parts: Parts) -> dict[str, dict[str, Any]]:
        """Each group's raw numbers by part, from the submitted queries."""
        found: dict[str, dict[str, Any]] = {}
        for name, future in parts:
            for k, value in future.result().items():
                found.setdefault(str(k), {})[name] = value
        return found

    def assemble(self, p: dict[str, Any], *, week_or_month: bool) -> Row:
        solved = p.get("solved") or {}
        created = p.get("created") or {}
        sat = p.get("satisfaction") or {}
        csat, ces, nps = (sat.get(kind) or {} for kind in SATISFACTION_KINDS)
        business = None if self.calendar is None else shape.no_times()
        return {
            "first_response": p.get("first_response") or shape.no_times(),
            "first_response_business_hours": p.get("first_response_business_hours") or business,
            "resolution": p.get("resolution") or shape.no_times(),
            "fcr_rate": shape.rate(solved.get("fcr"), solved.get("n")),
            "reopen_rate": shape.rate(solved.get("reopened"), solved.get("n")),
            "sla": {
                "first_response_met_rate": shape.rate(created.get("fr_met"), created.get("fr_due")),
                "resolution_met_rate": shape.rate(solved.get("res_met"), solved.get("res_due")),
                "breached": created.get("breached", 0),
            },
            "backlog": None if week_or_month else (p.get("backlog") or shape.backlog({})),
            "volume": created.get("volume") or shape.volume({}, {}, []),
            "csat": {
                "responses": csat.get("n", 0),
                "satisfied_rate": shape.rate(csat.get("good"), csat.get("n")),
            },
            "ces": {
                "responses": ces.get("n", 0),
                "mean": round(ces["sum"] / ces["n"], 2) if ces.get("n") else None,
            },
            "nps": {
                "responses": nps.get("n", 0),
                "score": round((nps["good"] - nps["bad"]) * 100 / nps["n"], 1)
                if nps.get("n")
                else None,
            },
            "heard": shape.heard(solved.get("heard") or {}),
            "root_causes": p.get("root_causes") or shape.causes([], {}, {}),
            "emotion": p.get("emotion") or {"corrections": shape.corrections([])},
        }

    # -- queries ------------------------------------------------------------------------

    def times(self, by: str | None, seconds: str, cohort: str) -> dict[str, Any]:
        """Median and p90 of a fact's seconds from creation over a cohort."""
        walk = FIRST_RESPONSE if seconds == "first_response_s" else RESOLUTION
        since, until = self.params["since"], self.params["until"]
        with self.db.read() as session:
            conn = session.connection()
            with self.cancel.running(conn):
                walked = walked_times(conn, self.d, since, until, by, walk)
        if walked is not None:
            return walked
        anchor = "t.created_at" if cohort == _CREATED else "t.solved_at"
        key, join = self.key(by, anchor)
        values = (
            f"SELECT {key} AS k, t.{seconds} AS x FROM ticket_fact t {join} "
            f"WHERE {cohort} AND t.{seconds} IS NOT NULL"
        )
        return {
            k: {"median_s": shape.secs(med), "p90_s": shape.secs(p90), "count": int(n)}
            for k, n, med, p90 in self.rows(median_p90(self.d, values))
        }

    def business_times(self, by: str | None) -> dict[str, Any]:
        """First response in open time of the ticket's SLA calendar (its tier's, or the
        default): B(reply) - B(created), where B(t) is the open time before ``t`` read
        from a day table of cumulative open seconds and each UTC day's (at most two)
        open pieces."""
        cal = self.calendar
        if cal is None:
            return {}
        key, join = self.key(by, "t.created_at")

        def before(col: str, c: str) -> tuple[str, str]:
            day, sod = utc_day_and_second(self.d, col)
            pieces = " + ".join(
                clamp(self.d, f"{sod} - {c}.s{i}", f"{c}.e{i} - {c}.s{i}") for i in (1, 2)
            )
            return f"{c}.cum + {pieces}", f"{c}.n = {cal.which} AND {c}.d = {day}"

        (b1, on1), (b2, on2) = before("t.created_at", "c1"), before("t.first_response_at", "c2")
        values = (
            f"SELECT {key} AS k, ({b2}) - ({b1}) AS x FROM ticket_fact t {join} {cal.join} "
            f"JOIN cal c1 ON {on1} JOIN cal c2 ON {on2} "
            f"WHERE {_CREATED} AND t.first_response_at IS NOT NULL"
        )
        sql = f"WITH cal(n, d, cum, s1, e1, s2, e2) AS (VALUES {cal.values}) "
        return {
            k: {"median_s": shape.secs(med), "p90_s": shape.secs(p90), "count": int(n)}
            for k, n, med, p90 in self.rows(sql + median_p90(self.d, values))
        }

    def solved(self, by: str | None) -> dict[str, Any]:
        """FCR, reopens, resolution SLA and HEARD over the solved cohort (replies, HEARD
        steps as a bit mask and E/A before R are facts of each ticket)."""
        key, join = self.key(by, "t.solved_at")
        inner = (
            f"SELECT {key} AS k, t.reopen_count AS reopens, t.solved_at AS solved, "
            "t.sla_resolution_due AS due, t.sla_resolution_missed AS missed, "
            "t.replies AS replies, t.heard_mask AS mask, "
            f"t.early AS early FROM ticket_fact t {join} WHERE {_SOLVED}"
        )
        steps = ", ".join(
            f"sum(CASE WHEN (mask & {1 << i}) > 0 THEN 1 ELSE 0 END)" for i in range(5)
        )
        sql = (
            "SELECT k, count(*), "
            "sum(CASE WHEN replies = 1 AND reopens = 0 THEN 1 ELSE 0 END), "
            "sum(CASE WHEN reopens > 0 THEN 1 ELSE 0 END), "
            "sum(CASE WHEN due IS NOT NULL THEN 1 ELSE 0 END), "
            "sum(CASE WHEN solved <= due AND missed = 0 THEN 1 ELSE 0 END), "
            f"sum(CASE WHEN mask = 31 THEN 1 ELSE 0 END), {steps}, "
            "sum(CASE WHEN early = 2 THEN 1 ELSE 0 END) "
            f"FROM ({inner}) s GROUP BY k"
        )
        out = {}
        for k, n, fcr, reopened, res_due, res_met, complete, *rest in self.rows(sql):
            counts = [int(v or 0) for v in rest]
            out[k] = {
                "n": int(n), "fcr": fcr, "reopened": reopened, "res_due": res_due,
                "res_met": res_met, "heard": {"n": int(n), "complete": complete,
                "steps": counts[:5], "resolved": counts[3], "before": counts[5]},
            }  # fmt: skip
        return out
