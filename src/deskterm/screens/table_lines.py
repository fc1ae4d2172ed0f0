"""Drawing the ticket table: each visible row is one cached strip, built from segments
directly (no console render), so a keypress repaints two lines and a new page one
screenful of plain strips.

A mixin of :class:`~deskterm.screens.ticket_table.TicketTable` (the table gives the rows,
the cursor and the marks), so the paging logic and the drawing each stay readable."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.strip import Strip

from deskterm.screens.base import DeskNode
from deskterm.screens.columns import Column, fit

if TYPE_CHECKING:
    from textual.scroll_view import ScrollView

    from deskterm.store.queue import TicketRow

GAP = 2  # cells between columns

if TYPE_CHECKING:
    _Base = ScrollView
else:
    _Base = object


class TableLines(DeskNode, _Base):
    """The drawing half of the ticket table (a mixin)."""

    rows: list[TicketRow]
    cursor_row: int
    column_spec: tuple[Column, ...]
    is_marked: Callable[[int], bool]
    _strips: dict[tuple[int, bool], Strip]  # (row index, highlighted) -> its line
    _layout: tuple[int, list[tuple[Column, int]]]  # (width, columns fitted to it)

    if TYPE_CHECKING:

        def move_cursor(self, row: int) -> None: ...

    def _columns(self) -> list[tuple[Column, int]]:
        width = self.scrollable_content_region.width
        if self._layout[0] != width:
            self._layout = (width, fit(self.column_spec, max(width - 1, 40), GAP // 2))
        return self._layout[1]

    def _line(self, cells: list[Text], base: Style, marker: str = " ") -> Strip:
        """One row as segments: the presence marker (another agent has the ticket
        open), then each cell cut to its column (with an ellipsis) and padded, then the
        gap. Built directly, not through a console render: a screenful of rows costs
        well under a millisecond."""
        segments = [Segment(marker, base)]
        for (_, width), content in zip(self._columns(), cells, strict=True):
            if content.spans:  # several styles in one cell: let Rich cut it
                segments += self._spanned(content, width, base)
                continue
            text = content.plain
            if cell_len(text) > width:
                text = set_cell_size(text, width - 1) + "…" if width > 1 else ""
            pad = " " * (width - cell_len(text))
            style = base + Style.parse(str(content.style)) if content.style else base
            if content.justify == "right":
                segments += [Segment(pad, base), Segment(text, style)]
            else:
                segments += [Segment(text, style), Segment(pad, base)]
            segments.append(Segment(" " * GAP, base))
        width = self.scrollable_content_region.width
        return Strip(segments).adjust_cell_length(width, base).simplify()

    def _spanned(self, content: Text, width: int, base: Style) -> list[Segment]:
        cut = content.copy()
        cut.truncate(width, overflow="ellipsis", pad=True)
        cut.end = ""
        return [*Segment.apply_style(cut.render(self.app.console), base), Segment(" " * GAP, base)]

    def header_label(self, column: Column) -> str:
        """A column's heading (a list in another order marks its sort column)."""
        return column.label

    def render_line(self, y: int) -> Strip:
        if y == 0:
            style = self.get_component_rich_style("ticket-table--header")
            return self._line([Text(self.header_label(c)) for c, _ in self._columns()], style)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(self.scrollable_content_region.width, self.rich_style)
        selected = index == self.cursor_row
        key = (index, selected)
        strip = self._strips.get(key)
        if strip is None:
            row = self.rows[index]
            now = self.desk.clock()
            style = self.rich_style
            if selected:
                style = style + self.get_component_rich_style("ticket-table--cursor")
            cells = [c.render(row, now) for c, _ in self._columns()]
            marked = self.is_marked(row.number)
            if marked:
                style = style + self.get_component_rich_style("ticket-table--marked")
            # A mark shows in the marker column; presence shows there when unmarked.
            marker = "*" if marked else self.desk.live.marker(row.number)
            strip = self._line(cells, style, marker)
            self._strips[key] = strip
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = Size(event.size.width, len(self.rows) + 1)
        self.move_cursor(self.cursor_row)

    def presence_changed(self) -> None:
        """Other agents opened or left tickets, or marks changed: redraw the markers."""
        self._strips.clear()
        self.refresh()

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()
