"""The HEARD solve policy shared by the CLI and the console."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deskterm.heard import StatusChange, Verdict, change_status, open_steps, solve_verdict
from deskterm.store import Store
from tests.store.helpers import tickets_for


@dataclass
class Step:
    done: bool


DONE_ALL = {s: Step(True) for s in "HEARD"}
PARTLY = {"H": Step(True), "E": Step(False), "R": Step(True)}


def test_open_steps_in_order() -> None:
    assert open_steps(PARTLY) == ["E", "A", "D"]
    change = StatusChange(1, "solved", Verdict.CONFIRM, tuple(open_steps(PARTLY)))
    assert change.open_names == "Empathize, Apologize, Diagnose"
    assert open_steps(DONE_ALL) == []


@pytest.mark.parametrize(
    ("status", "heard", "policy", "verdict"),
    [
        ("solved", PARTLY, "warn", Verdict.CONFIRM),
        ("closed", PARTLY, "require", Verdict.REFUSE),
        ("solved", PARTLY, "off", Verdict.OK),
        ("solved", DONE_ALL, "require", Verdict.OK),
        ("pending", PARTLY, "require", Verdict.OK),
    ],
)
def test_solve_verdict(status: str, heard: dict[str, Step], policy: str, verdict: Verdict) -> None:
    assert solve_verdict(status, heard, policy) is verdict


def test_change_status_obeys_the_policy_on_a_real_store(store: Store) -> None:
    """One service for the CLI, the console and replies: a refused or unconfirmed
    solve writes nothing; a confirmed one, or any non-solving change, is logged."""
    (number,) = tickets_for(store, 1)
    refused = change_status(store, number, "solved", "ana", "require", confirmed=True)
    assert refused.verdict is Verdict.REFUSE and not refused.applied
    assert refused.reason == f"Ticket #{number} has HEARD steps open (Hear, Empathize, " \
        "Apologize, Resolve, Diagnose)"  # fmt: skip
    asked = change_status(store, number, "solved", "ana", "warn")
    assert asked.verdict is Verdict.CONFIRM and not asked.applied
    assert store.tickets.get_ticket(number).ticket.status == "new"
    assert change_status(store, number, "pending", "ana", "require").applied
    done = change_status(store, number, "solved", "ana", "warn", confirmed=True)
    assert done.applied and store.tickets.get_ticket(number).ticket.status == "solved"
    statuses = [e.new for e in store.tickets.events(number) if e.kind == "status"]
    assert statuses == ["pending", "solved"]
    for step in "HEARD":
        store.tickets.set_heard(number, step, True, "ana", category="billing")
    assert change_status(store, number, "closed", "ana", "require").applied
