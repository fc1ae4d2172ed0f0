"""The one-line bar that shows the saved queue views (:mod:`deskterm.views`) with
their counts."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from deskterm.screens.format import compact_count
from deskterm.views import View, saved_views

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
