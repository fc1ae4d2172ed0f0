"""The HEARD rule for solving a ticket, and the status change that obeys it, shared by
the CLI, the console and replies.

Solving (or closing) a ticket with HEARD steps still open is allowed, warned about
or refused according to ``[heard] solve_policy`` (off / warn / require).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from deskterm.vocab import HEARD_NAMES, HEARD_STEPS

if TYPE_CHECKING:
    from deskterm.store import Store

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


@dataclass(frozen=True)
class StatusChange:
    """The HEARD verdict on moving ticket ``number`` to ``status``, and whether the
    change was made (``applied``): a refused or unconfirmed solve changes nothing."""

    number: int
    status: str
    verdict: Verdict
    open_steps: tuple[str, ...]
    applied: bool = False

    @property
    def open_names(self) -> str:
        """ "Apologize, Diagnose" — the open steps by name, for messages."""
        return ", ".join(HEARD_NAMES[s] for s in self.open_steps)

    @property
    def reason(self) -> str:
        """Why the change waits: "Ticket #12 has HEARD steps open (Apologize)"."""
        return f"Ticket #{self.number} has HEARD steps open ({self.open_names})"


def check_status(store: Store, number: int, status: str, policy: str) -> StatusChange:
    """The verdict on moving ticket ``number`` to ``status`` under ``policy`` (nothing
    is changed)."""
    heard = store.tickets.get_ticket(number).heard
    verdict = solve_verdict(status, heard, policy)
    return StatusChange(number, status, verdict, tuple(open_steps(heard)))


def change_status(
    store: Store,
    number: int,
    status: str,
    actor: str,
    policy: str,
    *,
    confirmed: bool = False,
    expected_version: int | None = None,
) -> StatusChange:
    """Set the ticket's status unless the HEARD rule stops it: refused under the
    ``require`` policy, or waiting for the agent's confirmation (``confirmed``) under
    ``warn``. The result says which; the caller asks or explains. With
    ``expected_version``, a ticket changed since is a :class:`~deskterm.store.Conflict`."""
    check = check_status(store, number, status, policy)
    if check.verdict is Verdict.REFUSE or (check.verdict is Verdict.CONFIRM and not confirmed):
        return check
    store.tickets.set_status(number, status, actor, expected_version)
    return StatusChange(number, status, check.verdict, check.open_steps, applied=True)
