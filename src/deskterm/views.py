"""The saved queue views, defined once: the console's view bar (keys 1–8) and
``deskterm tickets list --view NAME`` list the same tickets for the same name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from deskterm.query import SLA_STATES, UNASSIGNED, QueryError, TicketFilter, parse_query
from deskterm.vocab import OPEN_STATUSES


@dataclass(frozen=True)
class View:
    """A named filter the agent switches to with one key."""

    key: str
    label: str
    short: str  # for a bar too narrow for the full labels
    filter: TicketFilter
    sort: str = "activity"  # a key of deskterm.vocab.SORTS


def saved_views(agent: str) -> tuple[View, ...]:
    """The built-in views, named for what they count; "My unsolved" is the configured
    agent's new, open, pending and on-hold tickets, "Breaching soon" the tickets whose
    SLA clock is at risk or breached, least time left first (breached ones lead), and
    "Due" the snoozed tickets, soonest reminder first."""
    mine = TicketFilter(assignee=(agent,), status=OPEN_STATUSES)
    unassigned = TicketFilter(assignee=(UNASSIGNED,), status=OPEN_STATUSES)
    return (
        View("mine", "My unsolved", "Mine", mine),
        View("unassigned", "Unassigned", "Unasg", unassigned),
        View("open", "Open", "Open", TicketFilter(status=("new", "open"))),
        View("pending", "Pending & on hold", "Pend", TicketFilter(status=("pending", "on_hold"))),
        View("solved", "Solved & closed", "Solved", TicketFilter(status=("solved", "closed"))),
        View("all", "All", "All", TicketFilter()),
        View("sla", "Breaching soon", "Risk", TicketFilter(sla=SLA_STATES), sort="sla"),
        View("due", "Due", "Due", TicketFilter(snoozed=True), sort="reminder"),
    )


def stored_views(saved: Iterable[Any]) -> tuple[View, ...]:
    """The views agents saved in the store (rows with ``name``, ``query`` and
    ``sort``), as views; they follow the built-in ones."""
    return tuple(
        View(f"saved:{v.name}", v.name, v.name[:8], parse_query(v.query), v.sort) for v in saved
    )


def find_view(agent: str, name: str, saved: Iterable[Any] = ()) -> View:
    """The view called ``name``: its key (``mine``) or its label as the console shows
    it (``"My unsolved"``), in any case, built in or among ``saved`` (store rows).
    Raises :class:`QueryError` naming the choices."""
    wanted = " ".join(name.split()).casefold()
    views = saved_views(agent) + stored_views(saved)
    for view in views:
        if wanted in (view.key, view.label.casefold()):
            return view
    choices = ", ".join(view.label if view.key.startswith("saved:") else view.key for view in views)
    raise QueryError(f"No saved view is called {name!r}; use one of {choices}.")
