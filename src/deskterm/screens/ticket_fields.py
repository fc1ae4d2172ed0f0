"""The ticket screen's field changes: HEARD steps, status, priority, queue, assignee,
tags and internal notes, each checked against the version shown.

A mixin, so :class:`~deskterm.screens.ticket.TicketScreen` keeps the bindings (the help
screen and the palette list them) and this file keeps the screen under its size."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from deskterm.screens.base import DeskNode
from deskterm.screens.choice import ChoiceScreen
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.diagnose import DiagnoseScreen
from deskterm.screens.format import priority_label, status_label
from deskterm.screens.heard_panel import HeardPanel
from deskterm.screens.internal_note import InternalNoteScreen
from deskterm.screens.prompt import PromptScreen
from deskterm.store.errors import Conflict
from deskterm.vocab import EMOTIONS, PRIORITIES, STATUSES

if TYPE_CHECKING:
    from textual.screen import Screen

    from deskterm.heard import StatusChange
    from deskterm.screens.ticket_cache import TicketData

if TYPE_CHECKING:
    _Base = Screen[None]
else:
    _Base = object


class TicketFields(DeskNode, _Base):
    """The changing half of the ticket screen (a mixin: :class:`TicketScreen` gives the
    ticket shown, how to re-read it and what to do after a change)."""

    number: int
    data: TicketData | None
    _retry: tuple[str, Any] | None  # a change a conflict refused
    # The version our own last change left (the re-read may not have arrived yet), and
    # a lock so two quick changes are made one after the other, each on the version
    # the previous one left: an agent never conflicts with themselves.
    _own_version: int | None
    _writing: threading.Lock
    reveal_end: bool

    if TYPE_CHECKING:

        def _load(self, number: int, first: bool) -> object: ...

        def _changed(self) -> None: ...

        def show_panel(self, name: str) -> None: ...

    # -- HEARD -------------------------------------------------------------------------

    def action_heard(self, step: str) -> None:
        """Toggle a HEARD step; marking Diagnose done asks for the root cause first."""
        panel = self.query_one(HeardPanel)
        if self.data is None:
            return
        self.show_panel("heard")  # show what the key did
        if panel.is_done(step):
            self._set_heard(step, False, None, None)
        elif step == "D":
            causes = self.desk.config.heard.root_causes
            self.app.push_screen(DiagnoseScreen(causes), self._diagnosed)
        else:
            self._set_heard(step, True, None, None)

    def _diagnosed(self, result: tuple[str, str] | None) -> None:
        if result is not None:
            category, note = result
            self._set_heard("D", True, category, note)

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _set_heard(self, step: str, done: bool, category: str | None, note: str | None) -> None:
        actor = self.desk.config.agent.name
        try:
            with self._writing:
                version = self._version()
                self.desk.store.tickets.set_heard(
                    self.number, step, done, actor, note=note, category=category,
                    expected_version=version,
                )  # fmt: skip
                self._left(version, None)
        except Conflict as exc:
            self.app.call_from_thread(
                self._conflicted, f"heard:{step}", (done, category, note), exc
            )
            return
        self.app.call_from_thread(self._changed)

    # -- ticket fields -------------------------------------------------------------------

    def _version(self) -> int | None:
        """The version of the ticket as shown (or as our own last change left it): a
        change made on it is refused if someone changed the ticket since (never a
        silent overwrite)."""
        known = [v for v in (self.data.detail.ticket.version if self.data else None,
                             self._own_version) if v is not None]  # fmt: skip
        return max(known) if known else None

    def _left(self, before: int | None, after: int | None) -> None:
        """Remember the version our change left: ``after`` when the store said, else one
        step on (every change that is made moves the version by one)."""
        if after is None and before is not None:
            after = before + 1
        self._own_version = after

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _change(self, what: str, value: Any) -> None:
        store, actor = self.desk.store, self.desk.config.agent.name
        try:
            with self._writing:
                version = self._version()
                if what == "internal_note":  # appended: nobody's work can be overwritten
                    store.tickets.add_internal_note(self.number, value, actor)
                    self._left(version, None)
                    self.reveal_end = True  # shown at once, where the agent can see it
                else:  # tags, status, priority, queue or assignee ("" unassigns)
                    fields: dict[str, Any] = {what: value if what == "tags" else value or ""}
                    ticket = store.tickets.update(
                        self.number, actor, expected_version=version, **fields
                    )
                    self._left(version, ticket.version)
        except Conflict as exc:
            self.app.call_from_thread(self._conflicted, what, value, exc)
            return
        self.app.call_from_thread(self._changed)

    def _conflicted(self, what: str, value: Any, error: Conflict) -> None:
        """Someone changed the ticket first: say who and what, show their change, and
        keep ours one key (ctrl+y) away."""
        self._retry = (what, value)
        self.notify(
            f"{error} ctrl+y applies your change again.",
            title="Changed by someone else",
            severity="warning",
            markup=False,
            timeout=12,
        )
        self._load(self.number, first=False)

    def action_retry_change(self) -> None:
        """Re-apply the change a conflict refused, on the ticket as it is now."""
        if self._retry is None:
            self.notify("No refused change to apply again.", markup=False)
            return
        what, value = self._retry
        self._retry = None
        if what.startswith("heard:"):
            done, category, note = value
            self._set_heard(what.removeprefix("heard:"), done, category, note)
        elif what == "status":  # through the HEARD rule again
            self._set_status(self.number, value, confirmed=False)
        elif what != "tags" and self._field(what) == (value or None):
            self.notify("Someone already made that change.", markup=False)
        else:
            self._change(what, value)

    def _then(self, what: str) -> Callable[[str | None], None]:
        """A modal's callback: apply the chosen value unless the agent cancelled."""

        def apply(value: str | None) -> None:
            if value is not None:
                self._change(what, value)

        return apply

    def _field(self, name: str) -> Any:
        return getattr(self.data.detail.ticket, name) if self.data else None

    def action_status(self) -> None:
        self.app.push_screen(
            ChoiceScreen("Status", STATUSES, self._field("status"), labels=status_label),
            self._status_chosen,
        )

    def _status_chosen(self, status: str | None) -> None:
        if status is not None and status != self._field("status"):
            self._set_status(self.number, status, confirmed=False)

    @work(thread=True, group="ticket-change", exit_on_error=False)
    def _set_status(self, number: int, status: str, confirmed: bool) -> None:
        """The status change service decides; a solve with HEARD steps open is refused
        or asked about here, by policy."""
        from deskterm.heard import Verdict, change_status

        desk = self.desk
        policy, actor = desk.config.heard.solve_policy, desk.config.agent.name
        try:
            with self._writing:
                version = self._version()
                change = change_status(
                    desk.store, number, status, actor, policy,
                    confirmed=confirmed, expected_version=version,
                )  # fmt: skip
                if change.applied:
                    self._left(version, None)
        except Conflict as exc:
            self.app.call_from_thread(self._conflicted, "status", status, exc)
            return
        if change.applied:
            self.app.call_from_thread(self._changed)
        elif change.verdict is Verdict.REFUSE:
            self.app.call_from_thread(
                self.notify,
                f"Complete the HEARD checklist before solving: {change.open_names} still open.",
                title="HEARD",
                severity="error",
                markup=False,
            )
        else:
            self.app.call_from_thread(self._confirm_status, change)

    def _confirm_status(self, change: StatusChange) -> None:
        def confirmed(ok: bool | None) -> None:
            if ok:
                self._set_status(change.number, change.status, confirmed=True)

        self.app.push_screen(
            ConfirmScreen(
                f"HEARD steps still open: {change.open_names}.",
                f"Mark ticket #{change.number} {status_label(change.status)} anyway?",
            ),
            confirmed,
        )

    def action_priority(self) -> None:
        self.app.push_screen(
            ChoiceScreen("Priority", PRIORITIES, self._field("priority"), labels=priority_label),
            self._then("priority"),
        )

    def action_emotion(self) -> None:
        """Correct the detected emotion: the HEARD panel's response style follows it."""
        self.app.push_screen(
            ChoiceScreen("Customer emotion (your correction)", EMOTIONS, self._field("emotion")),
            self._emotion_chosen,
        )

    def _emotion_chosen(self, emotion: str | None) -> None:
        if emotion is not None and emotion != self._field("emotion"):
            self._change("emotion", emotion)

    def action_queue(self) -> None:
        self.app.push_screen(
            PromptScreen(
                "Move to queue", self._field("queue") or "", suggest="queue", placeholder="billing"
            ),
            self._then("queue"),
        )

    def action_assign(self) -> None:
        self.app.push_screen(
            PromptScreen(
                "Assign to (empty: unassign)",
                self._field("assignee") or "",
                suggest="assignee",
                extra=(self.desk.config.agent.name,),
                allow_empty=True,
                placeholder=self.desk.config.agent.name,
            ),
            self._then("assignee"),
        )

    def action_assign_me(self) -> None:
        self._change("assignee", self.desk.config.agent.name)

    def action_tags(self) -> None:
        current = ", ".join(self.data.detail.tags) if self.data else ""
        self.app.push_screen(
            PromptScreen(
                "Tags (comma-separated)",
                current,
                suggest="tag",
                allow_empty=True,
                placeholder="vip, refund",
            ),
            self._tags_chosen,
        )

    def _tags_chosen(self, value: str | None) -> None:
        if value is not None:
            self._change("tags", [t for t in value.replace(";", ",").split(",") if t.strip()])

    def action_internal_note(self) -> None:
        self.app.push_screen(
            InternalNoteScreen(self.number),
            self._then("internal_note"),
        )
