"""The queue: saved views, the filter bar and the paged ticket list."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from deskterm.query import QueryError, TicketFilter, format_query, parse_query
from deskterm.screens.marking import MARK_BINDINGS, MarkActions
from deskterm.screens.prompt import PromptScreen
from deskterm.screens.ticket_table import TicketTable
from deskterm.screens.views import VIEW_LABELS, ViewBar, saved_view_list
from deskterm.screens.widgets import KeyBar, TitleBar
from deskterm.views import View, saved_views
from deskterm.vocab import SORT_CYCLE, SORTS

REREAD_SECONDS = 60.0  # seconds between re-reads of the queue while it is shown


class QueueScreen(MarkActions, Screen[None]):
    """Tickets newest activity first; the first screen of the console."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("1", "view(0)", f"Views: {VIEW_LABELS[0]}", key_display="1-8"),
        *(
            Binding(str(n), f"view({n - 1})", f"Views: {label}", show=False)
            for n, label in enumerate(VIEW_LABELS, 1)
            if n > 1
        ),
        Binding("9", "view(8)", "Views: saved (9, 0)", show=False),
        Binding("0", "view(9)", "", show=False),
        Binding("o", "cycle_sort", "Sort: next order (activity, created, priority…)", show=False),
        Binding("S", "save_view", "Save filter and sort as a view", show=False),
        Binding("N", "new_ticket", "New ticket (phone, walk-in, email)", show=False),
        Binding("c", "customer", "Customer of this ticket", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("D", "dashboard", "Dashboard"),
        Binding("q", "app.quit", "Quit"),
        *MARK_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.views: tuple[View, ...] = ()
        self.view: View | None = None
        self.sort = "activity"  # the view's order until the agent picks another
        self.typed = TicketFilter()
        self.typed_text = ""
        self.match_count: int | None = None
        self.counting = False
        self._serial = 0
        self._views_stale = True  # view counts are (re)computed after the next first page

    def compose(self) -> ComposeResult:
        self.views = saved_views(self.desk.config.agent.name)
        self.view = self.views[0]
        yield TitleBar()
        yield ViewBar(self.views, id="views")
        yield Input(
            placeholder='status:open from:acme.com tag:vip "a phrase" words — Enter applies',
            id="filter",
            compact=True,
        )
        yield TicketTable(id="tickets")
        yield Static(id="queue-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self._serial = self.desk.change_serial
        self.table.show_sort = True
        self.setup_marks()
        if not self.desk.agent_configured:
            self.view = self.views[2]  # "Open": nobody's "My unsolved" to show
            self.query_one(ViewBar).set_active(self.view.key)
            self.notify(
                "No [agent] in the config: deskterm does not know who you are, so "
                "'My unsolved' is empty and changes are logged as 'agent'.",
                title="Who are you?",
                severity="warning",
                timeout=10,
                markup=False,  # "[agent]" is text, not a style
            )
        self._show()
        self._load_saved_views()
        self.wake_due()
        self.set_interval(REREAD_SECONDS, self.reread)

    def action_dashboard(self) -> None:
        """``D``: KPIs and charts (imported on first use: the queue paints sooner)."""
        from deskterm.screens.dashboard import DashboardScreen

        self.app.push_screen(DashboardScreen())

    def reread(self) -> None:
        """Re-read the rows and counts now and then: mail a sync process stored shows
        up, and SLA countdowns and ages move on. Not while the agent types a filter, nor
        for a full-text search (its window would start again from the top)."""
        if not self.is_current or self.typed.text or self.query_one("#filter").has_focus:
            return
        self._views_stale = True
        self.table.reload()
        self.wake_due()

    @property
    def table(self) -> TicketTable:
        return self.query_one("#tickets", TicketTable)

    @property
    def effective(self) -> TicketFilter:
        """The view narrowed by what the agent typed."""
        base = self.view.filter if self.view else TicketFilter()
        return base.merged(self.typed) if not self.typed.is_empty() else base

    def _show(self) -> None:
        self.clear_query_marks()
        self.match_count, self.counting = None, False
        self.table.show(self.effective, self.sort)
        self.table.focus()
        self._status()

    def _status(self, message: str = "") -> None:
        parts = [self.view.label if self.view else ""]
        if self.typed.text or self.sort != "activity":  # the Age column's ▲ says activity
            parts.append("by newest match" if self.typed.text else f"by {SORTS[self.sort]}")
        if self.typed_text:
            parts.append(f"filter: {self.typed_text}")
        rows, window = self.table.row_count, self.table.window
        if self.match_count is not None and not self.typed.text:
            parts.append(f"{self.match_count:,} tickets")
        elif rows and window.at_end and window.at_start:
            parts.append(f"{rows:,} tickets")
        elif rows and window.at_end:
            parts.append("the oldest tickets of the view")
        elif rows:
            parts.append(f"{rows:,} shown, more as you scroll")
        elif not self.table.loading_page:
            parts.append("no tickets here · 6 shows all tickets")
        if self.counting:
            parts.append("counting…")
        if marked := self.mark_text():
            parts.append(marked)
        if message:
            parts.append(message)
        self.query_one("#queue-status", Static).update(Content(" · ".join(parts)))

    # -- counts (after the first page) -----------------------------------------------

    @on(TicketTable.Loaded, "#tickets")
    def _loaded(self, event: TicketTable.Loaded) -> None:
        if event.first:
            # Counts start once the rows are on screen, so they never delay them.
            if self._views_stale:
                self._views_stale = False
                self.call_after_refresh(self._count_views, self.views)
            if not self.typed.is_empty() and not self.typed.text:
                self.counting = True
                self.call_after_refresh(self._count_matches, self.effective)
        self._status()

    @work(thread=True, exclusive=True, group="count-matches", exit_on_error=False)
    def _count_matches(self, effective: TicketFilter) -> None:
        matches = self.desk.store.queue.count_tickets(effective)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_match_count, effective, matches)

    @work(thread=True, exclusive=True, group="count-views", exit_on_error=False)
    def _count_views(self, views: tuple[View, ...]) -> None:
        """Counts of the saved views: after the first page, and again after changes
        (not on every filter: they do not depend on it)."""
        store, worker = self.desk.store, get_current_worker()
        counts: dict[str, int] = {}
        for view in views:
            if not view.filter.text:  # words are not counted (see count_tickets)
                counts[view.key] = store.queue.count_tickets(view.filter)
            if worker.is_cancelled:
                return
        self.app.call_from_thread(self.query_one(ViewBar).set_counts, counts)

    def _show_match_count(self, effective: TicketFilter, count: int) -> None:
        if effective == self.effective:
            self.match_count, self.counting = count, False
            self._status()

    # -- actions ---------------------------------------------------------------------

    def action_view(self, index: int) -> None:
        """Switch to view ``index`` (keys 1–8 built in, 9 and 0 saved), in its order."""
        if index >= len(self.views):
            self.notify("No view on that key yet: S saves the current filter as one.")
            return
        self.view = self.views[index]
        self.sort = self.view.sort
        self.query_one(ViewBar).set_active(self.view.key)
        self._show()

    def action_cycle_sort(self) -> None:
        """``o``: the next order of :data:`SORT_CYCLE` (the Due view's reminder order
        is left for the first)."""
        at = SORT_CYCLE.index(self.sort) + 1 if self.sort in SORT_CYCLE else 0
        self.set_sort(SORT_CYCLE[at % len(SORT_CYCLE)])

    def set_sort(self, key: str) -> None:
        """Show the view in another order (``:sort sla`` too), from the top."""
        wanted = key.strip().lower()
        found = next((k for k, label in SORTS.items() if wanted in (k, label.lower())), None)
        if found is None:
            self.notify(f"Sort by one of {', '.join(SORTS)}.", severity="error", markup=False)
            return
        self.sort = found
        self._show()

    def action_filter(self) -> None:
        bar = self.query_one("#filter", Input)
        bar.add_class("-shown")
        bar.focus()

    def action_clear_filter(self) -> None:
        bar = self.query_one("#filter", Input)
        if bar.has_focus:
            bar.value = self.typed_text  # cancel the edit
            bar.set_class(bool(self.typed_text), "-shown")
            self.table.focus()
            return
        if self.typed_text:
            self.typed, self.typed_text = TicketFilter(), ""
            bar.value = ""
            bar.remove_class("-shown")
            self._show()

    @on(Input.Submitted, "#filter")
    def _apply_filter(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            typed = parse_query(text, me=self.desk.config.agent.name)
        except QueryError as exc:
            self.notify(str(exc), title="Filter", severity="error", markup=False)
            return
        self.typed, self.typed_text = typed, text
        event.input.set_class(bool(text), "-shown")
        self._show()

    # -- saved views -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="saved-views", exit_on_error=False)
    def _load_saved_views(self, select: str | None = None) -> None:
        saved = self.desk.store.views.list()
        self.app.call_from_thread(self._set_saved_views, saved_view_list(saved), select)

    def _set_saved_views(self, saved: tuple[View, ...], select: str | None) -> None:
        builtin = tuple(v for v in self.views if not v.key.startswith("saved:"))
        self.views = builtin + saved
        self.query_one(ViewBar).set_views(self.views)
        if self.table.loading_page:  # counted once the first page is on screen
            self._views_stale = True
        else:
            self._views_stale = False
            self.call_after_refresh(self._count_views, self.views)
        if select is not None:
            self.action_view(next(i for i, v in enumerate(self.views) if v.label == select))

    def action_new_ticket(self) -> None:
        from deskterm.screens.new_ticket import NewTicketScreen

        self.app.push_screen(NewTicketScreen(), self._ticket_opened)

    def _ticket_opened(self, number: int | None) -> None:
        if number is not None:
            self.after_bulk()
            self.desk.open_ticket(number, None)

    def show_view_named(self, name: str) -> None:
        """``:view NAME``: a view by its name or short name (any case)."""
        wanted = name.strip().lower()
        for index, view in enumerate(self.views):
            if wanted in (view.label.lower(), view.short.lower(), view.key.lower()):
                self.action_view(index)
                return
        self.notify(f"There is no view named {name!r}.", severity="error", markup=False)

    def save_view_as(self, name: str) -> None:
        """``:save-view NAME``."""
        self._save_view(name, format_query(self.effective), self.sort)

    def action_save_view(self) -> None:
        """Save the view, filter and order shown as a named view (S)."""
        query, sort = format_query(self.effective), self.sort
        self.app.push_screen(
            PromptScreen(f"Save {query or 'all tickets'} by {SORTS[sort]} as the view", "",
                         placeholder="VIP open"),
            lambda name: self._name_chosen(name, query, sort),
        )  # fmt: skip

    def _name_chosen(self, name: str | None, query: str, sort: str) -> None:
        if name:
            self._save_view(name, query, sort)

    @work(thread=True, exclusive=True, group="saved-views", exit_on_error=False)
    def _save_view(self, name: str, query: str, sort: str) -> None:
        agent = self.desk.config.agent.name
        view = self.desk.store.views.add(name, query, agent, sort=sort)
        self.app.call_from_thread(self._saved, view.name)

    def _saved(self, name: str) -> None:
        """The saved view holds the typed filter now: show it without the filter bar."""
        self.typed, self.typed_text = TicketFilter(), ""
        bar = self.query_one("#filter", Input)
        bar.value = ""
        bar.remove_class("-shown")
        self.notify(f"Saved the view {name!r}.", markup=False)
        self._load_saved_views(name)

    def presence_changed(self) -> None:
        self.table.presence_changed()

    def on_screen_resume(self) -> None:
        self.desk.live.show(None)
        if self.desk.change_serial != self._serial:
            self._serial = self.desk.change_serial
            self._views_stale = True
            self.table.reload()

    def after_bulk(self) -> None:
        """Tickets changed: re-read the rows and the view counts."""
        self.desk.change_serial += 1
        self._serial = self.desk.change_serial
        self.action_refresh()
        self._status()

    def action_refresh(self) -> None:
        self._views_stale = True
        self.table.reload()

    def action_customer(self) -> None:
        row = self.table.current
        if row is None or row.customer_id is None:
            self.notify("This ticket has no customer.", severity="warning")
            return
        self.desk.open_customer(row.customer_id)

    @on(TicketTable.Opened, "#tickets")
    def _open(self, event: TicketTable.Opened) -> None:
        self.desk.open_ticket(event.number, self.table)
