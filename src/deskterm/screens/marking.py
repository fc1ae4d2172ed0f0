"""Marks and bulk actions on the queue (mutt's tag-and-apply), and undo.

Marked rows carry the version the agent saw; "mark all" keeps only the view's query
and the moment it was marked, so marking 200,000 tickets loads none of them. Status,
priority, queue, assignee, tags and close act on the marks, or on the cursor row when
nothing is marked, through :meth:`deskterm.store.bulk_ops.BulkOps.apply` in a thread
worker that reports progress; tickets someone changed in between are listed at the
end, never skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding
from textual.worker import get_current_worker

from deskterm.query import TicketFilter
from deskterm.screens.base import DeskNode
from deskterm.screens.choice import ChoiceScreen
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.format import priority_label, status_label
from deskterm.screens.prompt import PromptScreen
from deskterm.vocab import PRIORITIES, STATUSES

if TYPE_CHECKING:
    from textual.screen import Screen

    from deskterm.screens.ticket_table import TicketTable
    from deskterm.store.bulk_ops import BulkResult, Changes, Selection

MARK_BINDINGS = [
    Binding("space,v", "mark", "Mark", key_display="v"),
    Binding("asterisk", "mark_all", "Mark all in view", key_display="*", show=False),
    Binding("V", "clear_marks", "Clear marks", show=False),
    Binding("s", "bulk_status", "Status", show=False),
    Binding("p", "bulk_priority", "Priority", show=False),
    Binding("a", "bulk_assign", "Assign", show=False),
    Binding("m", "bulk_queue", "Queue", show=False),
    Binding("t", "bulk_tags", "Tags (+add -remove)", show=False),
    Binding("x", "bulk_close", "Close", show=False),
    Binding("z", "snooze", "Snooze until…", show=False),
    Binding("u,ctrl+z", "undo", "Undo", key_display="u"),
]

SHOWN_CONFLICTS = 8  # conflicts named in the summary; the rest are counted


@dataclass
class Marks:
    """Marked tickets: numbers with the version seen, or a whole query."""

    numbers: dict[int, int] = field(default_factory=dict)
    query: TicketFilter | None = None
    marked_at: datetime | None = None
    query_count: int | None = None  # counted in a worker

    def count(self) -> int:
        return (self.query_count or 0) if self.query is not None else len(self.numbers)

    def __bool__(self) -> bool:
        return self.query is not None or bool(self.numbers)


def parse_tags(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``+vip -spam refund`` → (add, remove); a bare word adds."""
    words = text.replace(",", " ").split()
    add = tuple(w.lstrip("+") for w in words if not w.startswith("-") and w.lstrip("+"))
    remove = tuple(w[1:] for w in words if w.startswith("-") and w[1:])
    return add, remove


def summary(result: BulkResult) -> str:
    """ "status → solved on 37 tickets; 2 changed by someone else: #4 (…), #9 (…)"."""
    n = result.changed
    text = result.label if result.label.startswith("Undid") else (
        f"{result.label} on {n:,} ticket{'' if n == 1 else 's'}")  # fmt: skip
    if result.conflicts:
        named = ", ".join(f"#{num} ({why})" for num, why in result.conflicts[:SHOWN_CONFLICTS])
        more = len(result.conflicts) - SHOWN_CONFLICTS
        text += f"; {len(result.conflicts):,} not changed: {named}"
        text += f" and {more:,} more" if more > 0 else ""
    return text


if TYPE_CHECKING:
    _Base = Screen[None]
else:
    _Base = object


class MarkActions(DeskNode, _Base):
    """The marking half of the queue screen (a mixin: :class:`QueueScreen` gives the
    table, the effective filter, the status line and what to do after a change)."""

    marks: Marks

    if TYPE_CHECKING:

        @property
        def table(self) -> TicketTable: ...

        @property
        def effective(self) -> TicketFilter: ...

        def _status(self, message: str = "") -> None: ...

        def after_bulk(self) -> None: ...

    def setup_marks(self) -> None:
        self.marks = Marks()
        self.table.is_marked = self._is_marked

    def _is_marked(self, number: int) -> bool:
        return self.marks.query is not None or number in self.marks.numbers

    def mark_text(self) -> str:
        """ "37 marked" for the status line ("" when nothing is)."""
        if self.marks.query is not None and self.marks.query_count is None:
            return "marking all…"
        return f"{self.marks.count():,} marked" if self.marks else ""

    def _marks_changed(self) -> None:
        self.table.presence_changed()
        self._status()

    def action_mark(self) -> None:
        """Mark or unmark the cursor row, then move down (as in mutt)."""
        row = self.table.current
        if row is None:
            return
        if self.marks.query is not None:
            self.notify("Every ticket of the view is marked; V clears the marks.")
            return
        if self.marks.numbers.pop(row.number, None) is None:
            self.marks.numbers[row.number] = row.version
        self.table.action_move(1)
        self._marks_changed()

    def action_mark_all(self) -> None:
        """Mark every ticket of the view and filter: a count, nothing loaded."""
        from deskterm.store.types import utcnow

        if self.effective.text:
            self.notify("Words cannot be marked all at once; mark rows with v.", severity="warning")
            return
        self.marks = Marks(query=self.effective, marked_at=utcnow())
        self._count_marks(self.marks)
        self._marks_changed()

    @work(thread=True, exclusive=True, group="count-marks", exit_on_error=False)
    def _count_marks(self, marks: Marks) -> None:
        count = self.desk.store.bulk_ops.count(marks.query or TicketFilter())
        self.app.call_from_thread(self._marks_counted, marks, count)

    def _marks_counted(self, marks: Marks, count: int) -> None:
        marks.query_count = count
        self._status()

    def action_clear_marks(self) -> None:
        self.marks = Marks()
        self._marks_changed()

    def clear_query_marks(self) -> None:
        """A new view or filter ends a "mark all" (it was for the old query)."""
        if self.marks.query is not None:
            self.marks = Marks()
            self.table.presence_changed()

    # -- the actions -------------------------------------------------------------------

    def action_bulk_status(self) -> None:
        self.app.push_screen(
            ChoiceScreen("Status", STATUSES, None, labels=status_label),
            lambda v: self.confirm_change(status=v) if v else None,
        )

    def action_bulk_priority(self) -> None:
        self.app.push_screen(
            ChoiceScreen("Priority", PRIORITIES, None, labels=priority_label),
            lambda v: self.confirm_change(priority=v) if v else None,
        )

    def action_bulk_close(self) -> None:
        self.confirm_change(status="closed")

    def action_bulk_queue(self) -> None:
        self.app.push_screen(
            PromptScreen("Move to queue", "", suggest="queue", placeholder="billing"),
            lambda v: self.confirm_change(queue=v) if v else None,
        )

    def action_bulk_assign(self) -> None:
        me = self.desk.config.agent.name
        self.app.push_screen(
            PromptScreen(
                "Assign to (empty: unassign)",
                "",
                suggest="assignee",
                extra=(me,),
                allow_empty=True,
                placeholder=me,
            ),
            lambda v: self.confirm_change(assignee=v) if v is not None else None,
        )

    def action_bulk_tags(self) -> None:
        self.app.push_screen(
            PromptScreen("Tags: +add -remove", "", suggest="tag", placeholder="+vip -spam"),
            self._tags_chosen,
        )

    def _tags_chosen(self, text: str | None) -> None:
        add, remove = parse_tags(text or "")
        if add or remove:
            self.confirm_change(add_tags=add, remove_tags=remove)

    def selection(self) -> Selection | None:
        """The marked tickets, or the cursor row when nothing is marked."""
        from deskterm.store.bulk_ops import Selection

        if self.marks.query is not None:
            return Selection(query=self.marks.query, marked_at=self.marks.marked_at)
        if self.marks.numbers:
            return Selection(numbers=dict(self.marks.numbers))
        row = self.table.current
        return None if row is None else Selection(numbers={row.number: row.version})

    def confirm_change(self, **values: Any) -> None:
        """Apply ``values`` to the marks (after a confirmation naming the count) or to
        the cursor row."""
        from deskterm.store.bulk_ops import Changes

        changes = Changes(**values)
        selection = self.selection()
        if selection is None:
            return
        if not self.marks:
            self.run_bulk(selection, changes)
            return
        count = self.marks.count()
        self.app.push_screen(
            ConfirmScreen(
                f"{changes.label()} on {count:,} marked ticket{'' if count == 1 else 's'}?",
                "Every change is logged and can be undone with u.",
            ),
            lambda yes: self._confirmed(bool(yes), selection, changes),
        )

    def _confirmed(self, yes: bool, selection: Selection, changes: Changes) -> None:
        if yes:
            self.run_bulk(selection, changes)

    @work(thread=True, exclusive=True, group="bulk", exit_on_error=False)
    def run_bulk(self, selection: Selection, changes: Changes) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if total > 5000 and not worker.is_cancelled:
                self.app.call_from_thread(self._status, f"changing {done:,} of {total:,}…")

        result = self.desk.store.bulk_ops.apply(
            selection,
            changes,
            self.desk.config.agent.name,
            progress=progress,
            heard_required=self.desk.config.heard.solve_policy == "require",
        )
        self.app.call_from_thread(self._bulk_done, result, True)

    def action_snooze(self) -> None:
        """Pending until a time ("tomorrow 9:00", "in 3d", "mon"); back to open then."""
        row = self.table.current
        if row is None:
            return
        self.app.push_screen(
            PromptScreen(f"Snooze #{row.number} until", "", placeholder="tomorrow 9:00"),
            lambda when: self._when_chosen(row.number, row.version, when),
        )

    def _when_chosen(self, number: int, version: int, when: str | None) -> None:
        if when:
            self.snooze_row(number, version, when)

    def snooze_row(self, number: int, version: int, phrase: str) -> None:
        self._snooze(number, version, phrase)

    @work(thread=True, exclusive=True, group="bulk", exit_on_error=False)
    def _snooze(self, number: int, version: int, phrase: str) -> None:
        from deskterm.snooze import WhenError, parse_when

        try:
            until = parse_when(phrase, self.desk.clock())
        except WhenError as exc:
            self.app.call_from_thread(
                self.notify, str(exc), title="Snooze", severity="error", markup=False
            )
            return
        self.desk.store.snooze.snooze(number, until, self.desk.config.agent.name, version)
        local = until.astimezone()
        self.app.call_from_thread(self._snoozed, f"Snoozed #{number} until {local:%a %d %b %H:%M}.")

    def _snoozed(self, message: str) -> None:
        self.notify(message, markup=False)
        self.after_bulk()

    @work(thread=True, exclusive=True, group="wake", exit_on_error=False)
    def wake_due(self) -> None:
        """Reopen snoozed tickets whose time has come (on start and every re-read)."""
        numbers = self.desk.store.snooze.wake(self.desk.clock())
        if numbers:
            named = ", ".join(f"#{n}" for n in numbers[:SHOWN_CONFLICTS])
            more = (
                f" and {len(numbers) - SHOWN_CONFLICTS} more"
                if len(numbers) > SHOWN_CONFLICTS
                else ""
            )
            self.app.call_from_thread(self._snoozed, f"Back from snooze: {named}{more}.")

    def action_undo(self) -> None:
        self._undo()

    @work(thread=True, exclusive=True, group="bulk", exit_on_error=False)
    def _undo(self) -> None:
        result = self.desk.store.undo.undo(self.desk.config.agent.name)
        self.app.call_from_thread(self._bulk_done, result, False)

    def _bulk_done(self, result: BulkResult, clear: bool) -> None:
        if clear:
            self.marks = Marks()
        self.notify(
            summary(result),
            title="Done" if not result.conflicts else "Done, with conflicts",
            severity="warning" if result.conflicts else "information",
            markup=False,
            timeout=12 if result.conflicts else 6,
        )
        self.after_bulk()
