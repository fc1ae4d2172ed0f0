"""What makes the demo store's metrics worth looking at (PRODUCT.md §6).

Agents who differ (speed, HEARD habits, satisfaction), replies slower at weekends (so
more first-response breaches then), a spike of one root cause in one week,
satisfaction answers after about a third of solves, one-touch resolutions, and SLA due
times on solved tickets too. Decisions draw from their own random stream, so the demo's
other values (subjects, statuses, times) stay what they were for a seed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from deskterm import sla
from deskterm.vocab import HEARD_STEPS

if TYPE_CHECKING:
    from deskterm.store import Store


class AgentStyle:
    """How one agent works: reply speed, HEARD steps often skipped, and how customers
    rate them (added to a base score)."""

    def __init__(self, speed: float, skips: dict[str, float], mood: float) -> None:
        self.speed = speed
        self.skips = skips
        self.mood = mood


STYLES = {
    "Ana Souza": AgentStyle(0.6, {}, 0.4),
    "Ben Okafor": AgentStyle(1.0, {"A": 0.35}, 0.0),
    "Chen Wei": AgentStyle(1.6, {"E": 0.3, "A": 0.5}, -0.6),
    "Dana Levi": AgentStyle(0.8, {"D": 0.4}, 0.2),
    "Emil Novak": AgentStyle(1.2, {"H": 0.2, "D": 0.3}, -0.2),
}
PLAIN = AgentStyle(1.0, {}, 0.0)
SPIKE_CAUSE = "product defect"
SPIKE_WEEKS_AGO = 3  # the week of a faulty release: many "product defect" diagnoses


def stream(seed: int, index: int) -> random.Random:
    """The history's own random stream for ticket ``index``."""
    return random.Random(seed * 1_000_003 + index * 7_919 + 17)


def reshape(
    rng: random.Random,
    turns: list[tuple[str, str]],
    gaps: list[timedelta],
    created: datetime,
    agent: str,
) -> tuple[list[tuple[str, str]], list[timedelta]]:
    """The conversation's turns and the gaps between them, after :func:`one_touch` and
    :func:`first_gap`."""
    if (short := one_touch(rng, turns)) is not turns:
        turns, gaps = short, gaps[:1]
    first_gap(rng, gaps, created, agent)
    return turns, gaps


def first_gap(rng: random.Random, gaps: list[timedelta], created: datetime, agent: str) -> None:
    """Move the first reply (in place) by the agent's speed, later at weekends; the next
    gap, if any, absorbs the change so the conversation still ends when it did."""
    if not gaps:
        return
    # Weekdays: most first replies within hours; weekends: a skeleton crew, far slower.
    factor = STYLES.get(agent, PLAIN).speed * (1.5 if created.weekday() >= 5 else 0.3)
    first = max(timedelta(minutes=2), gaps[0] * factor * rng.uniform(0.8, 1.2))
    if len(gaps) >= 2:
        total = gaps[0] + gaps[1]
        first = min(first, total - timedelta(minutes=2))
        gaps[1] = total - first
    gaps[0] = first


def one_touch(rng: random.Random, turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Solved tickets answered with the resolution straight away about 40 % of the time:
    the opener and the resolving reply only."""
    if len(turns) >= 3 and turns[-1][0] == "outbound" and rng.random() < 0.4:
        return [turns[0], turns[-1]]
    return turns


def heard_steps(rng: random.Random, agent: str, done: int) -> list[str]:
    """The HEARD steps an agent actually did, of the first ``done``."""
    skips = STYLES.get(agent, PLAIN).skips
    return [s for s in HEARD_STEPS[:done] if rng.random() >= skips.get(s, 0.0)]


def root_cause(rng: random.Random, when: datetime, anchor: datetime, usual: str) -> str:
    """``usual``, except in the spike week, when most diagnoses are the faulty release."""
    weeks_ago = (anchor - when).days // 7
    return SPIKE_CAUSE if weeks_ago == SPIKE_WEEKS_AGO and rng.random() < 0.6 else usual


def solved(
    rng: random.Random,
    policy: sla.SlaPolicy,
    ticket: dict[str, Any],
    tier: str,
    turns: list[tuple[str, str]],
    anchor: datetime,
) -> list[dict[str, Any]]:
    """A solved ticket's SLA due times (into the row) and its satisfaction answers (the
    latest score of each kind into the row; the answers as event rows). Nothing for a
    ticket not solved."""
    if ticket["solved_at"] is None:
        return []
    replies = sum(1 for direction, _ in turns if direction == "outbound")
    sla_dues(policy, ticket, tier)
    due, solved_at = ticket["sla_resolution_due"], ticket["solved_at"]
    late = due is not None and solved_at > due
    answers = satisfaction(rng, solved_at, anchor, ticket["assignee"], replies, late)
    ticket.update({kind: score for kind, score, _ in answers})
    return satisfaction_events(answers)


def satisfaction(
    rng: random.Random,
    solved_at: datetime,
    anchor: datetime,
    agent: str | None,
    replies: int,
    late: bool,
) -> list[tuple[str, int, datetime]]:
    """About a third of solves get an answer (never after ``anchor``): CSAT always, CES
    and NPS sometimes; happier after one-touch resolutions, unhappier when late."""
    if rng.random() >= 0.34:
        return []
    mood = (
        STYLES.get(agent or "", PLAIN).mood
        + (0.5 if replies == 1 else 0.0)
        - (1.0 if late else 0.0)
    )
    at = min(anchor, solved_at + timedelta(hours=rng.uniform(1, 48)))
    csat = max(1, min(5, round(rng.gauss(3.9 + mood, 1.0))))
    out = [("csat", csat, at)]
    if rng.random() < 0.5:
        out.append(("ces", max(1, min(7, round(rng.gauss(3.0 - mood, 1.3)))), at))
    if rng.random() < 0.5:
        out.append(("nps", max(0, min(10, round(rng.gauss(7.5 + 1.5 * mood, 2.0)))), at))
    return out


def sla_dues(policy: sla.SlaPolicy, ticket: dict[str, Any], tier: str) -> None:
    """Due times of a (solved) ticket under ``policy``, written into the row dict."""
    fields = SimpleNamespace(**ticket, sla_next_due=None, sla_warn_at=None, sla_paused_at=None,
                             sla_paused_seconds=0.0)  # fmt: skip
    sla.apply(policy, fields, tier, ticket["updated_at"])
    for name in ("sla_first_response_due", "sla_resolution_due"):
        ticket[name] = getattr(fields, name)


def satisfaction_events(answers: list[tuple[str, int, datetime]]) -> list[dict[str, Any]]:
    """The answers as event rows: the report counts satisfaction events."""
    return [
        {"customer_id": None, "kind": kind, "actor": "survey", "at": at, "old": None,
         "new": str(score), "detail": '{"source": "import"}'}
        for kind, score, at in answers
    ]  # fmt: skip


def policy_of(store: Store) -> sla.SlaPolicy:
    """The SLA policy the store keeps clocks with, or the default one (a store opened
    without a policy keeps none, but the demo's solved tickets still get due times)."""
    from deskterm.settings.workflow import SlaSettings

    policy = store.sla.clock.policy
    return (
        policy if isinstance(policy, sla.SlaPolicy) else sla.SlaPolicy.from_settings(SlaSettings())
    )
