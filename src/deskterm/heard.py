"""The HEARD rule for solving a ticket, shared by the CLI and the console.

Solving (or closing) a ticket with HEARD steps still open is allowed, warned about
or refused according to ``[heard] solve_policy`` (off / warn / require).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Protocol

from deskterm.vocab import HEARD_NAMES, HEARD_STEPS

SOLVING = ("solved", "closed")


class _Step(Protocol):
    done: bool


class Verdict(Enum):
    """What the caller must do before solving."""

    OK = "ok"  # go ahead
    CONFIRM = "confirm"  # ask the agent (warn policy)
    REFUSE = "refuse"  # not allowed (require policy)


def open_steps(heard: Mapping[str, _Step]) -> list[str]:
    """The steps not yet done, in H-E-A-R-D order."""
    return [s for s in HEARD_STEPS if not (s in heard and heard[s].done)]


def solve_verdict(status: str, heard: Mapping[str, _Step], policy: str) -> Verdict:
    """Whether moving to ``status`` needs confirmation or is refused under ``policy``."""
    if status not in SOLVING or policy == "off" or not open_steps(heard):
        return Verdict.OK
    return Verdict.REFUSE if policy == "require" else Verdict.CONFIRM


def describe_open(heard: Mapping[str, _Step]) -> str:
    """ "Apologize, Diagnose" — the open steps by name, for messages."""
    return ", ".join(HEARD_NAMES[s] for s in open_steps(heard))
