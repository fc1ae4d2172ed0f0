"""The one-line bar that shows the saved queue views (:mod:`deskterm.views`) with
their counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

from deskterm.screens.format import compact_count
from deskterm.views import View, saved_views, stored_views

if TYPE_CHECKING:
    from deskterm.store.models import SavedView

VIEW_LABELS = tuple(view.label for view in saved_views(""))


def saved_view_list(saved: Sequence[SavedView]) -> tuple[View, ...]:
    """The views agents saved in the store, after the built-in ones (keys 9, 0)."""
    return stored_views(saved)


class ViewBar(Static):
    """``My unsolved 12  Unassigned 3  Open 40 …`` with the active view highlighted (keys
    1–8 pick them). When the full labels do not fit (80 columns with million-ticket
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

    def set_views(self, views: tuple[View, ...]) -> None:
        """Built-in and saved views (saved ones change while the console runs)."""
        self.views = views
        self.counts = {v.key: self.counts.get(v.key) for v in views}
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
