"""Saved queue views and the one-line bar that shows them with their counts."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from deskterm.query import UNASSIGNED, TicketFilter
from deskterm.screens.format import compact_count
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
    agent's new, open, pending and on-hold tickets, and
    "Breaching soon" the tickets whose SLA clock is at risk but not yet breached."""
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


VIEW_LABELS = tuple(view.label for view in saved_views(""))


class ViewBar(Static):
    """``My open 12  Unassigned 3  Open 40 …`` with the active view highlighted (keys
    1–7 pick them). When the full labels do not fit (80 columns with million-ticket
    counts), every view shows its short label instead.

    Counts arrive after the first page (they can take a moment on a big store); until
    then each shows ``…``.
    """

    def __init__(self, views: tuple[View, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.views = views
        self.active = views[0].key
        self.counts: dict[str, int | None] = {v.key: None for v in views}

    def on_mount(self) -> None:
        self._render_bar()

    def set_active(self, key: str) -> None:
        self.active = key
        self._render_bar()

    def set_counts(self, counts: dict[str, int]) -> None:
        self.counts.update(counts)
        self._render_bar()

    def on_resize(self) -> None:
        self._render_bar()

    def _render_bar(self) -> None:
        texts = [f" {v.label} {compact_count(self.counts.get(v.key))} " for v in self.views]
        if sum(len(t) for t in texts) > self.size.width:
            texts = [f" {v.short} {compact_count(self.counts.get(v.key))} " for v in self.views]
        parts = [
            Content.styled(text, "reverse bold" if view.key == self.active else "")
            for view, text in zip(self.views, texts, strict=True)
        ]
        self.update(Content("").join(parts))
