"""A ticket list that pages from the store: the queue and the customer screen use it.

The list holds a *window* of at most :data:`MAX_ROWS` rows, in chunks of one store
page. Moving the cursor near the bottom fetches the next page (keyset, after the last
row); past :data:`MAX_ROWS` the top chunk is dropped. Moving back up fetches the page
above the first row: by an upward keyset query, or for full-text results (whose order
is by matching message) by replaying the cursor that produced that chunk. So a
million-ticket view costs a few hundred rows of memory and one index probe per page.

It is a Line API widget rather than a ``DataTable``: each visible row is one cached
strip, so a keypress repaints two lines and a new page repaints one screenful of
plain strips instead of measuring and rendering every cell
(:mod:`deskterm.screens.table_lines` draws them).

Attributes down (:meth:`show` sets the filter), messages up (:class:`Opened`,
:class:`Loaded`). Every store call runs in a thread worker; a result that arrives for
an older filter is dropped by its generation number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual import events, work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from deskterm.query import TicketFilter
from deskterm.screens.columns import QUEUE_COLUMNS, Column
from deskterm.screens.table_lines import TableLines
from deskterm.screens.ticket_cache import PREFETCH_DELAY, prefetch
from deskterm.store.queue import PAGE, TicketRow

MAX_ROWS = 300  # rows kept in memory; REFERENCE.md: keep a few hundred at most
EDGE = 8  # fetch the next page when the cursor is this close to the window's edge
# The column each order sorts by, and its direction as the header shows it.
SORT_COLUMNS = {
    "activity": ("age", "▲"),  # youngest activity first
    "priority": ("priority", "▼"),
    "sla": ("sla", "▲"),
    "customer": ("customer", "▲"),
}


@dataclass
class Chunk:
    """Rows of one store page, with the cursors around it."""

    rows: list[TicketRow]
    after: Any = None  # the cursor that fetched it (full-text replay)
    next: Any = None  # the cursor of the page below; None at the end of the view
    index: int = 0  # position among full-text pages


@dataclass
class Window:
    """The slice of a view the list holds (pure state; the widget draws it)."""

    chunks: list[Chunk] = field(default_factory=list)
    at_start: bool = True
    history: dict[int, Any] = field(default_factory=dict)  # full-text: cursor of page i
    seen: set[int] = field(default_factory=set)  # full-text: tickets shown so far

    @property
    def rows(self) -> list[TicketRow]:
        return [row for chunk in self.chunks for row in chunk.rows]

    @property
    def at_end(self) -> bool:
        return not self.chunks or self.chunks[-1].next is None

    def numbers(self) -> set[int]:
        return {row.number for chunk in self.chunks for row in chunk.rows}


class TicketTable(TableLines, ScrollView, can_focus=True):
    """Tickets of one filter in one order (newest activity first unless told), paged
    from the store."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("down,j", "move(1)", "Next row", show=False),
        Binding("up,k", "move(-1)", "Previous row", show=False),
        Binding("g,home", "first", "First ticket", show=False),
        Binding("G,end", "last", "Last ticket", show=False),
        Binding("ctrl+d", "half_page(1)", "Half a page down", show=False),
        Binding("ctrl+u", "half_page(-1)", "Half a page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket-table--header",
        "ticket-table--cursor",
        "ticket-table--marked",
    }

    DEFAULT_CSS = """
    TicketTable {
        background: $surface;
        overflow-x: hidden;
        scrollbar-gutter: stable;  /* column widths must not depend on the scrollbar */
        & > .ticket-table--header { text-style: bold; background: $panel; }
        & > .ticket-table--cursor { background: $block-cursor-blurred-background; }
        & > .ticket-table--marked { text-style: bold; color: $accent; }
        &:focus > .ticket-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: bold;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row in the window."""

    class Opened(Message):
        """The agent chose a ticket (Enter or a click on the highlighted row)."""

        def __init__(self, table: TicketTable, number: int) -> None:
            super().__init__()
            self.table = table
            self.number = number

        @property
        def control(self) -> TicketTable:
            return self.table

    class Loaded(Message):
        """Rows arrived: ``first`` when the window was read anew (a new filter, a
        reload), not for a page added while scrolling or a jump to the end."""

        def __init__(self, table: TicketTable, first: bool) -> None:
            super().__init__()
            self.table = table
            self.first = first

        @property
        def control(self) -> TicketTable:
            return self.table

    def __init__(
        self, columns: tuple[Column, ...] = QUEUE_COLUMNS, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.column_spec = columns
        self.filter = TicketFilter()
        self.sort = "activity"  # a key of deskterm.vocab.SORTS
        self.show_sort = False  # mark the sort column's heading (the queue does)
        self.window = Window()
        self.rows: list[TicketRow] = []
        self._prefetch_timer: Timer | None = None
        self.loading_page = False
        self._generation = 0
        self._strips = {}
        self._layout = (-1, [])
        self.is_marked = lambda _number: False
        """Whether a row is marked for a bulk action (the queue screen sets it)."""
        self._before: list[int] = []  # the window's tickets before the last re-read

    # -- attributes down -----------------------------------------------------------

    def show(self, f: TicketFilter, sort: str | None = None) -> None:
        """Show the tickets of ``f`` from the top, in ``sort``'s order (or the same)."""
        self.filter = f
        self.sort = sort or self.sort
        self._generation += 1
        self.loading_page = True
        self._fetch_first(self._generation, f)

    def reload(self) -> None:
        """Re-read the rows in the window (after changes), keeping the cursor's ticket."""
        self._before = [row.number for row in self.rows]
        if self.filter.text or not self.rows:
            self.show(self.filter)
            return
        first = self.rows[0]
        queue = self.desk.store.queue
        start = None if self.window.at_start else queue.cursor(first, self.sort, inclusive=True)
        self._generation += 1
        keep = self.current.number if self.current else 0
        self._fetch_again(self._generation, self.filter, start, max(len(self.rows), PAGE), keep)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def current(self) -> TicketRow | None:
        """The ticket under the cursor."""
        return self.rows[self.cursor_row] if 0 <= self.cursor_row < len(self.rows) else None

    def neighbour(self, number: int, step: int) -> int | None:
        """The ticket ``step`` rows from ``number``; moves the cursor there (``]``/``[``)."""
        target = self._step_from(number, step)
        if target is None:
            return None
        self.move_cursor(target)
        return self.rows[target].number

    def peek(self, number: int, step: int) -> int | None:
        """Like :meth:`neighbour`, without moving the cursor (for prefetching)."""
        target = self._step_from(number, step)
        return None if target is None else self.rows[target].number

    def _step_from(self, number: int, step: int) -> int | None:
        """The row index ``step`` rows from ``number``. A ticket that left the view (it
        was solved, reassigned…) is placed where it was before the re-read, so the
        next one is the first ticket after it that is still listed."""
        index = {row.number: i for i, row in enumerate(self.rows)}
        if number in index:
            target = index[number] + step
            return target if 0 <= target < len(self.rows) else None
        if number not in self._before:
            return None
        at = self._before.index(number)
        after = self._before[at + 1 :] if step > 0 else self._before[:at][::-1]
        still = next((index[n] for n in after if n in index), None)
        if still is None:
            return None
        target = still + step - (1 if step > 0 else -1)
        return target if 0 <= target < len(self.rows) else None

    def header_label(self, column: Column) -> str:
        """The sort column's heading carries ▲ (ascending) or ▼ (descending)."""
        arrow = SORT_COLUMNS.get(self.sort)
        if not self.show_sort or self.filter.text or arrow is None or arrow[0] != column.key:
            return column.label
        return column.label + arrow[1]

    # -- store access (thread workers) -------------------------------------------------

    @work(thread=True, exclusive=True, group="table-page", exit_on_error=False)
    def _fetch_first(self, generation: int, f: TicketFilter) -> None:
        page = self.desk.store.queue.list_tickets(f, None, PAGE, self.sort)
        if not get_current_worker().is_cancelled:
            chunk = Chunk(page.rows, None, page.next, 0)
            self.app.call_from_thread(self._replace, generation, [chunk], True, 0)

    @work(thread=True, exclusive=True, group="table-page", exit_on_error=False)
    def _fetch_again(
        self, generation: int, f: TicketFilter, start: Any, limit: int, keep: int
    ) -> None:
        queue = self.desk.store.queue
        page = queue.list_tickets(f, start, limit, self.sort)
        if get_current_worker().is_cancelled:
            return
        chunks = [Chunk(page.rows[i : i + PAGE]) for i in range(0, len(page.rows), PAGE)]
        chunks = chunks or [Chunk([])]
        for chunk in chunks:
            chunk.next = queue.cursor(chunk.rows[-1], self.sort) if chunk.rows else None
        chunks[-1].next = page.next
        self.app.call_from_thread(self._replace, generation, chunks, start is None, keep)

    @work(thread=True, exclusive=True, group="table-page", exit_on_error=False)
    def _fetch_below(self, generation: int, f: TicketFilter, after: Any, index: int) -> None:
        page = self.desk.store.queue.list_tickets(f, after, PAGE, self.sort)
        if not get_current_worker().is_cancelled:
            chunk = Chunk(page.rows, after, page.next, index)
            self.app.call_from_thread(self._append, generation, chunk)

    @work(thread=True, exclusive=True, group="table-page", exit_on_error=False)
    def _fetch_above(
        self, generation: int, f: TicketFilter, first: TicketRow, index: int, replay: Any
    ) -> None:
        store = self.desk.store
        if f.text:
            page = store.queue.list_tickets(f, replay, PAGE)
            chunk = Chunk(page.rows, replay, page.next, index)
            at_start = index == 0
        else:
            sort = self.sort
            rows = store.queue.list_tickets_before(f, store.queue.cursor(first, sort), PAGE, sort)
            chunk = Chunk(rows, None, store.queue.cursor(rows[-1], sort) if rows else None)
            at_start = len(rows) < PAGE
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._prepend, generation, chunk, at_start)

    @work(thread=True, exclusive=True, group="table-page", exit_on_error=False)
    def _fetch_last(self, generation: int, f: TicketFilter) -> None:
        rows = self.desk.store.queue.list_tickets_before(f, None, PAGE, self.sort)
        if not get_current_worker().is_cancelled:
            chunk = Chunk(rows, None, None)
            self.app.call_from_thread(self._replace, generation, [chunk], len(rows) < PAGE, -1)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "table-page" and event.state is WorkerState.ERROR:
            self.loading_page = False  # the error is shown; let the next move try again

    # -- applying results (event loop) -------------------------------------------------

    def _replace(
        self, generation: int, chunks: list[Chunk], at_start: bool, keep: int | None
    ) -> None:
        """A new window. ``keep``: a ticket number to keep the cursor on, ``0`` for
        the top, ``-1`` for the bottom."""
        if generation != self._generation:
            return
        old_row, old_offset = self.cursor_row, self.cursor_row - round(self.scroll_y)
        self.window = Window(chunks=chunks, at_start=at_start)
        if self.filter.text:
            self.window.history = {0: None}
            self.window.seen = self.window.numbers()
        self._set_rows()
        if keep == -1:
            self._place(len(self.rows) - 1, None)
        elif keep:
            target = next((i for i, r in enumerate(self.rows) if r.number == keep), old_row)
            self._place(target, old_offset)
        else:
            self._place(0, 0)
        self.loading_page = False
        self.post_message(self.Loaded(self, keep != -1))
        self._check_edges()

    def _append(self, generation: int, chunk: Chunk) -> None:
        if generation != self._generation:
            return
        self.loading_page = False
        window = self.window
        if self.filter.text:
            # A ticket matches again through older messages on later pages: drop it.
            chunk.rows = [r for r in chunk.rows if r.number not in window.seen]
            window.seen.update(r.number for r in chunk.rows)
        else:
            shown = window.numbers()
            chunk.rows = [r for r in chunk.rows if r.number not in shown]
        if not chunk.rows:
            window.chunks[-1].next = chunk.next  # nothing new there: go on from its end
            self.post_message(self.Loaded(self, False))
            self._check_edges()
            return
        window.history[chunk.index] = chunk.after
        window.chunks.append(chunk)
        dropped = 0
        while len(window.rows) > MAX_ROWS and len(window.chunks) > 1:
            dropped += len(window.chunks.pop(0).rows)
            window.at_start = False
        offset = self.cursor_row - round(self.scroll_y)
        self._set_rows()
        self._place(self.cursor_row - dropped, offset)
        self.post_message(self.Loaded(self, False))
        self._check_edges()

    def _prepend(self, generation: int, chunk: Chunk, at_start: bool) -> None:
        if generation != self._generation:
            return
        self.loading_page = False
        window = self.window
        shown = window.numbers()
        chunk.rows = [r for r in chunk.rows if r.number not in shown]
        window.at_start = at_start
        if chunk.rows:
            window.chunks.insert(0, chunk)
            while len(window.rows) > MAX_ROWS and len(window.chunks) > 1:
                window.chunks.pop()
            offset = self.cursor_row - round(self.scroll_y)
            self._set_rows()
            self._place(self.cursor_row + len(chunk.rows), offset)
            self.post_message(self.Loaded(self, False))
        self._check_edges()

    # -- drawing ------------------------------------------------------------------------

    def _set_rows(self) -> None:
        self.rows = self.window.rows
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.refresh()

    def _place(self, cursor: int, offset: int | None) -> None:
        """Put the cursor on row ``cursor``, ``offset`` lines below the top of the view
        (``None``: wherever it becomes visible)."""
        cursor = max(0, min(cursor, len(self.rows) - 1))
        if offset is not None:
            self.scroll_to(y=max(0, cursor - offset), animate=False, immediate=True)
        self.move_cursor(cursor)

    @property
    def visible_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    # -- moving -------------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Highlight ``row`` (clamped) and scroll it into view."""
        if not self.rows:
            self.cursor_row = 0
            return
        row = max(0, min(row, len(self.rows) - 1))
        old = self.cursor_row
        self.cursor_row = row
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + self.visible_rows:
            self.scroll_to(y=row - self.visible_rows + 1, animate=False, immediate=True)
        for index in (old, row):
            self._strips.pop((index, True), None)
            self._strips.pop((index, False), None)
            line = index - round(self.scroll_y) + 1
            if 1 <= line <= self.visible_rows:
                self.refresh_line(line)
        self._read_ahead(self.rows[row].number)
        self._check_edges()

    def _read_ahead(self, number: int) -> None:
        """Read the ticket under a resting cursor ahead, so Enter shows it at once."""
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        self._prefetch_timer = self.set_timer(
            PREFETCH_DELAY, lambda: prefetch(self, self.desk, number)
        )

    def _check_edges(self) -> None:
        """Fetch the page below or above when the cursor nears the window's edge."""
        if self.loading_page or not self.rows:
            return
        window = self.window
        if self.cursor_row >= len(self.rows) - EDGE and not window.at_end:
            self.loading_page = True
            last = window.chunks[-1]
            self._fetch_below(self._generation, self.filter, last.next, last.index + 1)
        elif self.cursor_row < EDGE and not window.at_start:
            self.loading_page = True
            first = window.chunks[0]
            index = first.index - 1
            replay = window.history.get(index)
            self._fetch_above(self._generation, self.filter, first.rows[0], index, replay)

    def action_move(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * self.visible_rows)

    def action_half_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.visible_rows // 2))

    def action_first(self) -> None:
        if self.window.at_start:
            self.move_cursor(0)
        else:
            self.show(self.filter)

    def action_last(self) -> None:
        if self.window.at_end or self.filter.text:
            self.move_cursor(len(self.rows) - 1)
            return
        self._generation += 1
        self.loading_page = True
        self._fetch_last(self._generation, self.filter)

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self, self.current.number))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = round(self.scroll_y) + event.y - 1
        if 0 <= index < len(self.rows):
            if index == self.cursor_row:
                self.action_open()
            else:
                self.move_cursor(index)
