"""Every metric of the report on a hand-built store, worked out by hand, on SQLite and
on a real PostgreSQL (tests/metrics/handbuilt.py describes the tickets A..I)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskterm import sla
from deskterm.store import Store
from tests.metrics.handbuilt import SINCE, UNTIL, build


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hand_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    target = (
        str(tmp_path / "m.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    )
    store = Store.open(target)
    store.sla.use_sla_policy(policy({}))
    build(store)
    yield store
    store.close()


def report(store: Store, by: str | None = None) -> dict[str, Any]:
    return store.metrics.report(SINCE, UNTIL, by)


def test_times_use_interpolated_percentiles_with_ties(hand_store: Store) -> None:
    r = report(hand_store)
    # Created in the week and answered: E 30m, A 1h, F 1h (a tie), B 2h, I 66h (Friday
    # 16:00 to Monday 10:00). C was never answered; D was merged away.
    # p90 = x[3] + 0.6 * (x[4] - x[3]) = 7200 + 0.6 * 230400.
    assert r["first_response"] == {"median_s": 3600.0, "p90_s": 145440.0, "count": 5}
    # Solved in the week: A 3h, F 3h, B 30h, H 6 days (created the week before).
    # median = (10800 + 108000) / 2; p90 = 108000 + 0.7 * (518400 - 108000).
    assert r["resolution"] == {"median_s": 59400.0, "p90_s": 395280.0, "count": 4}
    assert r["first_response_business_hours"] is None  # no business hours configured


def test_business_hours_count_only_open_time(hand_store: Store) -> None:
    hand_store.sla.use_sla_policy(
        policy(
            {"business_hours": {"timezone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"],
                                "hours": "09:00-17:00"}}
        )
    )  # fmt: skip
    r = report(hand_store)
    # I: one open hour on Friday (16-17) and one on Monday (9-10); the rest as before.
    assert r["first_response_business_hours"] == {"median_s": 3600.0, "p90_s": 7200.0, "count": 5}
    assert r["first_response"]["p90_s"] == 145440.0  # wall clock unchanged


_WEEKDAYS = {"timezone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"]}


def test_business_hours_follow_the_tier_calendar(hand_store: Store) -> None:
    # Ana's tickets (premium) run around the clock; Bob's (free) on the default hours.
    hand_store.sla.use_sla_policy(
        policy({"business_hours": {**_WEEKDAYS, "hours": "09:00-17:00"},
                "tiers": {"Premium": {"business_hours": False}}})
    )  # fmt: skip
    r = report(hand_store)
    # E 30m, A 1h (Ana, wall), F 1h, B 2h (Bob, in open hours), I 66h (Ana, wall):
    # the same as the wall clock, because Bob's were answered inside open hours.
    assert r["first_response_business_hours"] == {
        "median_s": 3600.0, "p90_s": 145440.0, "count": 5,
    }  # fmt: skip


def test_a_tier_with_hours_under_a_default_around_the_clock(hand_store: Store) -> None:
    hand_store.sla.use_sla_policy(
        policy({"tiers": {"free": {"business_hours": {**_WEEKDAYS, "hours": "10:00-17:00"}}}})
    )
    r = report(hand_store)
    # Bob's (free) open at 10:00: F (Fri 09:00 -> 10:00) took 0, B (Tue 09:00 -> 11:00)
    # 1 h. Ana's run on the wall clock: E 30m, A 1h, I 66h. Sorted: 0, 30m, 1h, 1h, 66h.
    # p90 = 3600 + 0.6 * (237600 - 3600).
    assert r["first_response_business_hours"] == {
        "median_s": 3600.0, "p90_s": 144000.0, "count": 5,
    }  # fmt: skip
    by_tier = {
        g["key"]: g["first_response_business_hours"] for g in report(hand_store, "tier")["groups"]
    }
    assert by_tier["free"] == {"median_s": 1800.0, "p90_s": 3240.0, "count": 2}


def test_resolution_quality_and_sla(hand_store: Store) -> None:
    r = report(hand_store)
    # Solved: A (one reply), F (one reply), H (one reply) and B (two replies, reopened).
    assert r["fcr_rate"] == 0.75
    assert r["reopen_rate"] == 0.25
    # First response decided for A, B, C (due passed unanswered), E, F: A, E, F met.
    # Resolution targets on solved tickets: A met, B missed (F and H have none).
    # Breached: B (both) and C (unanswered); E is paused (pending), not breached.
    assert r["sla"] == {"first_response_met_rate": 0.6, "resolution_met_rate": 0.5, "breached": 2}


def test_backlog_at_the_end_of_the_range(hand_store: Store) -> None:
    backlog = report(hand_store)["backlog"]
    # C (4d15h, open), E (3d15h, pending), I (2d8h; solved later, open then), G (19 days, new).
    assert backlog == {
        "total": 4,
        "by_age": {"<1d": 0, "1-3d": 1, "3-7d": 2, "7-30d": 1, ">30d": 0},
        "by_status": {"new": 1, "open": 2, "pending": 1},
    }


def test_volume(hand_store: Store) -> None:
    volume = report(hand_store)["volume"]
    assert volume["created"] == 6
    assert volume["by_channel"] == {"chat": 1, "email": 3, "slack": 1, "whatsapp": 1}
    assert volume["by_queue"] == {"billing": 2, "general": 2, "technical": 2}
    grid = volume["by_weekday_hour"]
    assert (grid[0][9], grid[1][9], grid[2][9], grid[3][9], grid[4][9], grid[4][16]) == (1,) * 6
    assert sum(map(sum, grid)) == 6


def test_satisfaction(hand_store: Store) -> None:
    r = report(hand_store)
    # CSAT 5, 3, 4 in the week (H's 1 was the week before): two of three are 4-5.
    assert r["csat"] == {"responses": 3, "satisfied_rate": 0.6667}
    assert r["ces"] == {"responses": 1, "mean": 2.0}
    # NPS 10, 9 (promoters), 6 (detractor): (2 - 1) / 3.
    assert r["nps"] == {"responses": 3, "score": 33.3}


def test_heard_root_causes_and_emotion(hand_store: Store) -> None:
    r = report(hand_store)
    # Solved A (all five), B (H, E, R, D), F (none), H (D only).
    assert r["heard"] == {
        "completion_rate": 0.25,
        "step_rates": {"H": 0.5, "E": 0.5, "A": 0.25, "R": 0.5, "D": 0.75},
        # Of A and B (Resolve done), only A had Empathize and Apologize by then
        # (Apologize at the same minute as Resolve counts).
        "empathy_before_resolve_rate": 0.5,
    }
    causes = r["root_causes"]
    assert causes["totals"] == {"billing": 2}
    assert causes["previous"] == {"user error": 1}
    assert causes["series"] == [{"period": "2026-11-02", "category": "billing", "count": 2}]
    assert causes["rising"] == {"category": "billing", "change": 2}
    # Inbound messages in the week: A and C frustrated, B angry, E neutral.
    assert r["emotion"] == {
        "anger": 0.25, "frustration": 0.5, "neutral": 0.25,
        "corrections": {"count": 0, "pairs": []},
    }  # fmt: skip


def test_groups_by_agent_and_week(hand_store: Store) -> None:
    r = report(hand_store, "agent")
    groups = {g["key"]: g for g in r["groups"]}
    assert set(groups) == {"(unassigned)", "ana", "ben"}
    # ben answered B in 2h and F in 1h: median 5400, p90 3600 + 0.9 * 3600.
    assert groups["ben"]["first_response"] == {"median_s": 5400.0, "p90_s": 6840.0, "count": 2}
    assert groups["ben"]["fcr_rate"] == 0.5
    assert groups["ana"]["backlog"]["total"] == 1  # C
    assert groups["ana"]["csat"] == {"responses": 1, "satisfied_rate": 1.0}
    weeks = report(hand_store, "week")["groups"]
    assert [g["key"] for g in weeks] == ["2026-11-02"]
    assert weeks[0]["backlog"] is None and weeks[0]["volume"]["created"] == 6


def test_an_empty_range_has_nulls_not_zeros(hand_store: Store) -> None:
    from datetime import timedelta

    r = hand_store.metrics.report(UNTIL + timedelta(days=30), UNTIL + timedelta(days=37))
    assert r["first_response"] == {"median_s": None, "p90_s": None, "count": 0}
    assert r["fcr_rate"] is None and r["reopen_rate"] is None
    assert r["sla"]["first_response_met_rate"] is None
    assert r["csat"] == {"responses": 0, "satisfied_rate": None}
    assert r["nps"]["score"] is None and r["ces"]["mean"] is None
    assert r["heard"]["completion_rate"] is None


def policy(table: dict[str, Any]) -> sla.SlaPolicy:
    """An SLA policy from an ``[sla]`` table, checked as the config would be."""
    from deskterm.settings import parse_settings

    return sla.SlaPolicy.from_settings(parse_settings({"sla": table}).sla)
