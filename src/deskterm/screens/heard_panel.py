"""The HEARD checklist panel: five steps, who did each and when, what each means.

The panel only shows state and reports the agent's choice (:class:`Toggled`); the
ticket screen talks to the store. Above the steps, for a customer who is frustrated,
angry, anxious or disappointed, it suggests the response style (PRODUCT.md §5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from deskterm.emotion import response_style
from deskterm.heard import open_steps
from deskterm.screens.format import ago, line
from deskterm.screens.widgets import VimOptionList
from deskterm.store.models import HeardStep
from deskterm.vocab import HEARD_GUIDANCE, HEARD_NAMES, HEARD_STEPS

FEELINGS = {
    "frustration": "frustrated",
    "anger": "angry",
    "anxiety": "anxious",
    "disappointment": "disappointed",
}


class HeardSteps(VimOptionList):
    """The five steps; Enter or space toggles the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "select", "Toggle step", show=False),
    ]


class HeardPanel(Vertical):
    """Checklist state for one ticket."""

    class Toggled(Message):
        """The agent asked to flip ``step`` (H, E, A, R or D)."""

        def __init__(self, step: str) -> None:
            super().__init__()
            self.step = step

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.steps: dict[str, HeardStep] = {}
        self.now = datetime.now().astimezone()

    def compose(self) -> ComposeResult:
        yield Static(id="heard-style")
        yield Static(id="heard-summary")
        yield HeardSteps(id="heard-steps")

    def on_mount(self) -> None:
        self.query_one("#heard-style").display = False

    def _show_style(self, emotion: str | None, cues: Sequence[str]) -> None:
        """How to answer, given the emotion of the customer's latest message, and the
        cues behind the estimate."""
        widget = self.query_one("#heard-style", Static)
        style = response_style(emotion)
        widget.display = style is not None
        if style is not None:
            feeling = FEELINGS.get(emotion or "", line(emotion))
            widget.update(
                Content.assemble(
                    (f"Customer seems {feeling}: ", ""),
                    (style.style.lower(), "bold"),
                    "\n",
                    (style.hint, "dim"),
                    *(("\n", (f"Why: {' · '.join(cues)}", "dim italic")) if cues else ()),
                )
            )

    def is_done(self, step: str) -> bool:
        row = self.steps.get(step)
        return bool(row and row.done)

    def show(
        self,
        steps: dict[str, HeardStep],
        now: datetime,
        emotion: str | None,
        cues: Sequence[str] = (),
    ) -> None:
        """Draw ``steps`` (a missing step is not done), keeping the highlight, and the
        response style for the ticket's ``emotion`` with the ``cues`` behind it."""
        self.steps = dict(steps)
        self.now = now
        self._show_style(emotion, cues)
        options = self.query_one(HeardSteps)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options([self._option(step, n) for n, step in enumerate(HEARD_STEPS, 1)])
        options.highlighted = highlighted if highlighted is not None else 0
        done = len(HEARD_STEPS) - len(open_steps(self.steps))
        summary = f"{done}/5 done · keys 1–5 toggle"
        diagnose = self.steps.get("D")
        if diagnose and diagnose.done and diagnose.category:
            summary += f" · root cause: {line(diagnose.category)}"
        self.query_one("#heard-summary", Static).update(Content.styled(summary, "dim"))

    def _option(self, step: str, key: int) -> Option:
        row = self.steps.get(step)
        done = bool(row and row.done)
        head = Content.assemble(
            ("[x] " if done else "[ ] ", "bold" if done else ""),
            (f"{key} {HEARD_NAMES[step]}", "bold"),
        )
        lines = [head]
        if row and row.done:
            who = f"{line(row.actor) or 'someone'} · {ago(row.done_at, self.now)}"
            lines.append(Content.styled(who, "dim"))
            if step == "D" and (row.category or row.note):
                cause = " — ".join(x for x in (line(row.category), line(row.note)) if x)
                lines.append(Content.styled(cause, "italic"))
        lines.append(Content.styled(HEARD_GUIDANCE[step], "dim"))
        return Option(Content("\n").join(lines), id=step)

    @on(OptionList.OptionSelected, "#heard-steps")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Toggled(event.option.id))
