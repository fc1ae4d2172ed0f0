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
    filter: TicketFilter


VIEW_LABELS = ("My open", "Unassigned", "Open", "Pending", "Solved", "All")


def saved_views(agent: str) -> tuple[View, ...]:
    """The built-in views; "My open" is the configured agent's unsolved tickets."""
    return (
        View("mine", VIEW_LABELS[0], TicketFilter(assignee=(agent,), status=OPEN_STATUSES)),
        View(
            "unassigned", "Unassigned", TicketFilter(assignee=(UNASSIGNED,), status=OPEN_STATUSES)
        ),
        View("open", VIEW_LABELS[2], TicketFilter(status=("new", "open"))),
        View("pending", VIEW_LABELS[3], TicketFilter(status=("pending", "on_hold"))),
        View("solved", VIEW_LABELS[4], TicketFilter(status=("solved", "closed"))),
        View("all", VIEW_LABELS[5], TicketFilter()),
    )


class ViewBar(Static):
    """``My open 12  Unassigned 3  Open 40 …`` with the active view highlighted (keys
    1–6 pick them; six views with a million-ticket count each still fit 80 columns).

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

    def _render_bar(self) -> None:
        parts: list[Content] = []
        for view in self.views:
            text = f" {view.label} {compact_count(self.counts.get(view.key))} "
            parts.append(Content.styled(text, "reverse bold" if view.key == self.active else ""))
        self.update(Content("").join(parts))
