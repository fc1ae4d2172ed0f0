"""The saved queue views, defined once: the console's view bar (keys 1–7) and
``deskterm tickets list --view NAME`` list the same tickets for the same name."""

from __future__ import annotations

from dataclasses import dataclass

from deskterm.query import UNASSIGNED, QueryError, TicketFilter
from deskterm.vocab import OPEN_STATUSES


@dataclass(frozen=True)
class View:
    """A named filter the agent switches to with one key."""

    key: str
    label: str
    short: str  # for a bar too narrow for the full labels
    filter: TicketFilter


def saved_views(agent: str) -> tuple[View, ...]:
    """The built-in views, named for what they count; "My unsolved" is the configured
    agent's new, open, pending and on-hold tickets, and "Breaching soon" the tickets
    whose SLA clock is at risk but not yet breached."""
    mine = TicketFilter(assignee=(agent,), status=OPEN_STATUSES)
    unassigned = TicketFilter(assignee=(UNASSIGNED,), status=OPEN_STATUSES)
    return (
        View("mine", "My unsolved", "Mine", mine),
        View("unassigned", "Unassigned", "Unasg", unassigned),
        View("open", "Open", "Open", TicketFilter(status=("new", "open"))),
        View("pending", "Pending & on hold", "Pend", TicketFilter(status=("pending", "on_hold"))),
        View("solved", "Solved & closed", "Solved", TicketFilter(status=("solved", "closed"))),
        View("all", "All", "All", TicketFilter()),
        View("sla", "Breaching soon", "Risk", TicketFilter(sla="at-risk")),
    )


def find_view(agent: str, name: str) -> View:
    """The view called ``name``: its key (``mine``) or its label as the console shows
    it (``"My unsolved"``), in any case. Raises :class:`QueryError` naming the choices."""
    wanted = " ".join(name.split()).casefold()
    views = saved_views(agent)
    for view in views:
        if wanted in (view.key, view.label.casefold()):
            return view
    choices = ", ".join(view.key for view in views)
    raise QueryError(f"No saved view is called {name!r}; use one of {choices}.")
