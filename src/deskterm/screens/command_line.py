"""The ``:`` command line: every queue action by name, with completion
(``:status solved``, ``:assign Ana``, ``:goto 123``, ``:view vip``, ``:sort sla``).

Tab or → accepts the grey completion: command names first, then their values (the
statuses, priorities, view names, agents and queues the store knows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from deskterm.screens.base import DeskNode
from deskterm.vocab import PRIORITIES, SORTS, STATUSES

if TYPE_CHECKING:
    from deskterm.screens.base import DeskApp

COMMANDS: dict[str, tuple[str, str]] = {
    "status": ("STATUS", "Set the status of the marked tickets or the cursor row"),
    "priority": ("PRIORITY", "Set the priority"),
    "assign": ("NAME", "Assign to an agent (none unassigns)"),
    "queue": ("NAME", "Move to a queue"),
    "tag": ("+ADD -REMOVE", "Add and remove tags"),
    "close": ("", "Close"),
    "snooze": ("WHEN", "Pending until then: tomorrow 9:00, in 3d, mon"),
    "mark-all": ("", "Mark every ticket of the view"),
    "clear": ("", "Clear the marks"),
    "undo": ("", "Undo my last action"),
    "goto": ("NUMBER", "Open a ticket by number"),
    "view": ("NAME", "Switch to a view, built in or saved"),
    "sort": ("KEY", "Order the view: activity, created, priority, sla, customer, reminder"),
    "save-view": ("NAME", "Save the view and filter as a named view"),
    "help": ("", "The keys of this screen"),
}


def help_lines() -> list[tuple[str, str]]:
    """(``:status STATUS``, what it does) for the help screen."""
    return [(f":{name} {arg}".rstrip(), what) for name, (arg, what) in COMMANDS.items()]


class CommandSuggester(Suggester):
    """Completes the command name, then its value from ``values``."""

    def __init__(self, values: dict[str, Sequence[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.values = values

    async def get_suggestion(self, value: str) -> str | None:
        name, space, arg = value.partition(" ")
        if not space:
            return next((c for c in COMMANDS if c.startswith(name.lower()) and name), None)
        words = arg.split(" ")
        last = words[-1].lstrip("+-")
        if not last:
            return None
        for choice in self.values.get(name.lower(), ()):
            if choice.lower().startswith(last.lower()) and choice.lower() != last.lower():
                return value + choice[len(last) :]
        return None


class CommandLine(DeskNode, ModalScreen[str | None]):
    """One line at the bottom: type a command, Enter runs it, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def __init__(self, views: Sequence[str] = ()) -> None:
        super().__init__()
        self.views = list(views)

    def compose(self) -> ComposeResult:
        with Vertical(id="command-line", classes="dialog"):
            yield Input(placeholder="status solved · assign Ana · goto 123 · view Open",
                        id="command-input", compact=True)  # fmt: skip
            yield Static(Content.styled("Tab completes · Enter runs · Esc cancels", "dim"))

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.suggester = CommandSuggester(self._values([], []))
        box.focus()
        self._load_values()

    def _values(self, agents: list[str], queues: list[str]) -> dict[str, Sequence[str]]:
        return {"status": STATUSES, "priority": PRIORITIES, "assign": [*agents, "none"],
                "queue": queues, "view": self.views, "sort": list(SORTS)}  # fmt: skip

    @work(thread=True, exclusive=True, group="command-values", exit_on_error=False)
    def _load_values(self) -> None:
        queue = self.desk.store.queue
        agents = [*queue.distinct_values("assignee"), self.desk.config.agent.name]
        values = self._values(list(dict.fromkeys(agents)), queue.distinct_values("queue"))
        self.app.call_from_thread(setattr, self.query_one(Input), "suggester",
                                  CommandSuggester(values))  # fmt: skip

    def action_complete(self) -> None:
        box = self.query_one(Input)
        if box._suggestion:
            box.value = box._suggestion
            box.cursor_position = len(box.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip().lstrip(":") or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def run_command(app: DeskApp, text: str) -> None:
    """Run one command line on the screen shown (queue actions need the queue)."""
    from deskterm.screens.marking import parse_tags
    from deskterm.screens.queue import QueueScreen

    name, _, arg = text.partition(" ")
    name, arg = name.lower(), arg.strip()
    if name not in COMMANDS:
        app.notify(f"Unknown command :{name}; type : and Tab to see them.", severity="error",
                   markup=False)  # fmt: skip
        return
    if name == "help":
        app.action_help()
        return
    if name == "goto":
        if not arg.lstrip("#").isdigit():
            app.notify(":goto takes a ticket number.", severity="error")
            return
        app.open_ticket(int(arg.lstrip("#")), None)
        return
    screen = app.screen
    if not isinstance(screen, QueueScreen):
        app.notify(f":{name} works on the queue; Esc goes back to it.", severity="warning")
        return
    needs = COMMANDS[name][0]
    if needs and not arg:
        app.notify(f":{name} needs {needs}.", severity="error", markup=False)
        return
    if name in ("status", "priority") and arg not in (STATUSES if name == "status" else PRIORITIES):
        allowed = STATUSES if name == "status" else PRIORITIES
        app.notify(f"{name} must be one of {', '.join(allowed)}.", severity="error")
        return
    if name in ("status", "priority", "queue"):
        screen.confirm_change(**{name: arg})
    elif name == "assign":
        screen.confirm_change(assignee="" if arg.lower() == "none" else arg)
    elif name == "tag":
        add, remove = parse_tags(arg)
        screen.confirm_change(add_tags=add, remove_tags=remove)
    elif name == "close":
        screen.confirm_change(status="closed")
    elif name == "snooze":
        row = screen.table.current
        if row is not None:
            screen.snooze_row(row.number, row.version, arg)
    elif name == "view":
        screen.show_view_named(arg)
    elif name == "sort":
        screen.set_sort(arg)
    elif name == "save-view":
        screen.save_view_as(arg)
    else:
        {"mark-all": screen.action_mark_all, "clear": screen.action_clear_marks,
         "undo": screen.action_undo}[name]()  # fmt: skip
