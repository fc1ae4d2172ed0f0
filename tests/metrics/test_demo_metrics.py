"""The demo store gives every dashboard tile and chart something real to show."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from deskterm.demo import DemoBuilder
from deskterm.demo_history import SPIKE_CAUSE
from deskterm.desk import open_store
from tests.conftest import ANCHOR


def test_demo_histories(tmp_path: Path) -> None:
    store = open_store(tmp_path / "demo.db")  # with the configured (default) SLA policy
    DemoBuilder(store, tickets=1500, seed=7, anchor=ANCHOR).build()
    since = ANCHOR - timedelta(days=30)
    r = store.metrics.report(since, ANCHOR, "agent")
    solved = r["resolution"]["count"]
    # Satisfaction after about a third of solves (some solved before the range answer in it).
    assert 0.25 < r["csat"]["responses"] / solved < 0.45
    assert r["ces"]["responses"] and r["nps"]["responses"]
    assert 0 < r["fcr_rate"] < 1 and 0 < r["reopen_rate"] < 0.2
    assert 0 < r["sla"]["first_response_met_rate"] < 1 and r["sla"]["breached"]
    # Agents differ: in speed, HEARD habits and satisfaction.
    agents = {g["key"]: g for g in r["groups"] if g["key"] != "(unassigned)"}
    assert (
        agents["Ana Souza"]["first_response"]["median_s"]
        < agents["Chen Wei"]["first_response"]["median_s"]
    )
    assert agents["Ana Souza"]["heard"]["completion_rate"] == 1.0
    assert agents["Chen Wei"]["heard"]["empathy_before_resolve_rate"] < 0.7
    assert (
        agents["Ana Souza"]["csat"]["satisfied_rate"] > agents["Chen Wei"]["csat"]["satisfied_rate"]
    )
    # One week's spike of one root cause.
    weeks = store.metrics.report(since, ANCHOR, "week")["groups"]
    share = [
        g["root_causes"]["totals"].get(SPIKE_CAUSE, 0)
        / max(1, sum(g["root_causes"]["totals"].values()))
        for g in weeks
    ]
    assert max(share) > 0.4 and sorted(share)[-2] < 0.3

    # More breaches at weekends: share of tickets created then that missed a target.
    def rate(days: list[datetime]) -> float:
        reports = [store.metrics.report(d, d + timedelta(days=1)) for d in days]
        breached: int = sum(x["sla"]["breached"] for x in reports)
        created: int = sum(x["volume"]["created"] for x in reports)
        return breached / created

    start = (ANCHOR - timedelta(days=28)).replace(hour=0)
    days = [start + timedelta(days=i) for i in range(28)]
    weekend = rate([d for d in days if d.weekday() >= 5])
    weekday = rate([d for d in days if d.weekday() < 5])
    assert weekend > weekday * 1.2
    store.close()
