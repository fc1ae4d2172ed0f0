"""The metrics report's reads of the event log, HEARD steps and messages (see
:mod:`deskterm.store.metrics`): satisfaction responses, Diagnose root causes and the
emotion of inbound messages, with agents' corrections of it."""

from __future__ import annotations

from typing import Any

from deskterm.store import metrics_shape as shape
from deskterm.store.dialect.metrics import period_start
from deskterm.store.metrics_counts import CountQueries


class EventQueries(CountQueries):
    """Mixed into the report's query run, like :class:`CountQueries`."""

    def satisfaction(self, by: str | None) -> dict[str, Any]:
        key, join = self.key(by, "e.at")
        # The ticket's row only for a key of it (by date, a lookup per response for nothing).
        source = "event e"
        if by not in shape.BY_DATE:
            source = f"event e JOIN ticket t ON t.id = e.ticket_id {join}"
        s = "CAST(e.new AS INTEGER)"
        sql = (
            f"SELECT {key}, e.kind, count(*), sum({s}), "
            f"sum(CASE WHEN (e.kind = 'csat' AND {s} >= 4) OR (e.kind = 'nps' AND {s} >= 9) "
            f"THEN 1 ELSE 0 END), sum(CASE WHEN e.kind = 'nps' AND {s} <= 6 THEN 1 ELSE 0 END) "
            f"FROM {source} WHERE e.kind IN ('csat', 'ces', 'nps') AND e.at >= :since "
            "AND e.at < :until AND e.ticket_id IS NOT NULL GROUP BY 1, 2"
        )
        out: dict[str, dict[str, Any]] = {}
        for k, kind, n, total, good, bad in self.rows(sql):
            out.setdefault(k, {})[kind] = {"n": int(n), "sum": int(total), "good": good, "bad": bad}
        return out

    def root_causes(self, by: str | None) -> dict[str, Any]:
        """Diagnose categories per period in the range, and totals of the range before
        (one pass over the Diagnose steps of both)."""
        unit = "month" if by == "month" else "week"
        key, join = self.key(by, "h.done_at")
        period = period_start(self.d, "h.done_at", unit)
        # Grouped by week or month, a period is its own key: there is no "before".
        lo = ":since" if by in ("week", "month") else ":prev"
        # Merged-away tickets' steps are left out: by their ticket's row when the key
        # needs it, else against the few merged ids (a lookup per step costs double).
        source = f"heard_step h JOIN ticket t ON t.id = h.ticket_id {join}"
        kept = "t.merged_into_id IS NULL"
        if by in shape.BY_DATE:
            source = "heard_step h"
            merged = "SELECT m.id FROM ticket m WHERE m.merged_into_id IS NOT NULL"
            kept = f"h.ticket_id NOT IN ({merged})"
        sql = (
            f"SELECT {key}, CASE WHEN h.done_at >= :since THEN {period} END, h.category, "
            f"count(*) FROM {source} WHERE h.step = 'D' AND h.done AND h.category IS NOT NULL "
            f"AND h.done_at >= {lo} AND h.done_at < :until AND {kept} "
            "GROUP BY 1, 2, 3 ORDER BY 2, 3"
        )
        series: dict[str, list[dict[str, Any]]] = {}
        totals: dict[str, dict[str, int]] = {}
        prev: dict[str, dict[str, int]] = {}
        for k, p, cat, n in self.rows(sql):
            if p is None:
                prev.setdefault(k, {})[cat] = int(n)
                continue
            series.setdefault(k, []).append({"period": str(p), "category": cat, "count": int(n)})
            totals.setdefault(k, {})[cat] = totals.get(k, {}).get(cat, 0) + int(n)
        return {
            k: shape.causes(series.get(k, []), totals.get(k, {}), prev.get(k, {}), unit)
            for k in set(series) | set(prev)
        }

    def emotion(self, by: str | None) -> dict[str, Any]:
        key, join = self.key(by, "m.sent_at")
        sql = (
            f"SELECT {key}, m.emotion, count(*) FROM ticket t JOIN message m ON m.ticket_id = t.id "
            f"{join} WHERE t.updated_at >= :since AND m.sent_at >= :since AND m.sent_at < :until "
            "AND m.direction = 'inbound' AND m.emotion IS NOT NULL GROUP BY 1, 2"
        )
        counts: dict[str, dict[str, int]] = {}
        for k, emotion, n in self.rows(sql):
            counts.setdefault(k, {})[emotion] = int(n)
        fixes = self.emotion_corrections(by)
        out: dict[str, Any] = {}
        for k in set(counts) | set(fixes):
            c = counts.get(k, {})
            out[k] = {e: shape.rate(n, sum(c.values())) for e, n in sorted(c.items())}
            out[k]["corrections"] = fixes.get(k) or shape.corrections([])
        return out

    def emotion_corrections(self, by: str | None) -> dict[str, Any]:
        """Agents' corrections of the emotion made in the range: how many, and per
        (estimate → correction) pair, for judging the detector against the desk."""
        key, join = self.key(by, "e.at")
        sql = (
            f"SELECT {key}, e.old, e.new, count(*) FROM event e JOIN ticket t ON t.id = "
            f"e.ticket_id {join} WHERE e.kind = 'emotion_corrected' AND e.at >= :since "
            "AND e.at < :until GROUP BY 1, 2, 3"
        )
        pairs: dict[str, list[tuple[str | None, str | None, int]]] = {}
        for k, old, new, n in self.rows(sql):
            pairs.setdefault(k, []).append((old, new, int(n)))
        return {k: shape.corrections(v) for k, v in pairs.items()}
