"""The HEARD solve policy shared by the CLI and the console."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deskterm.heard import Verdict, describe_open, open_steps, solve_verdict


@dataclass
class Step:
    done: bool


DONE_ALL = {s: Step(True) for s in "HEARD"}
PARTLY = {"H": Step(True), "E": Step(False), "R": Step(True)}


def test_open_steps_in_order() -> None:
    assert open_steps(PARTLY) == ["E", "A", "D"]
    assert describe_open(PARTLY) == "Empathize, Apologize, Diagnose"
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
