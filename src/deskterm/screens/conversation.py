"""The conversation: every message of a ticket, oldest first, direction marked.

Every line of a message carries a rule down its left edge (thick for the customer,
thin and indented for agents, dotted for internal notes), so the direction reads at a
glance even with ``NO_COLOR``. Quoted history and signatures are folded (``z``
unfolds them); bodies are shown as literal text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from deskterm.screens.base import DeskNode
from deskterm.screens.folding import fold
from deskterm.screens.format import (
    DIRECTION_LABELS,
    channel_label,
    line,
    local_time,
    safe,
    size_label,
)
from deskterm.store.models import Attachment, Message

_HEAD_STYLES = {"inbound": "bold reverse", "outbound": "bold", "note": "bold italic"}
_MARKS = {"inbound": "▶", "outbound": "◀", "note": "■"}
EARLIER_LIMIT = 100  # messages drawn at first; older ones wait for "o"


def message_direction(message: Message) -> str:
    return message.direction if message.direction in _MARKS else "inbound"


def render_message(
    message: Message, attachments: Sequence[Attachment], *, unfold: bool, now: datetime
) -> Content:
    """One message: a header line (direction, author, channel, time) and its body."""
    direction = message_direction(message)
    label = DIRECTION_LABELS.get(direction, direction.upper())
    author = line(message.author_name) or line(message.author_address) or "unknown"
    where = f" · {channel_label(message.channel)} · {local_time(message.sent_at, now)}"
    if direction == "note":
        where += " · internal, not sent"
    lines = [
        Content.assemble(
            (f"{_MARKS[direction]} {label}", _HEAD_STYLES[direction]),
            " ",
            (author, "bold"),
            (where, "dim"),
        )
    ]
    folded: list[str] = []
    for part in fold(safe(message.body)):
        if part.kind == "text" or unfold:
            if folded:
                lines.append(_folded(folded))
                folded = []
            lines.append(Content.styled(part.text, "" if part.kind == "text" else "dim italic"))
        else:
            folded.append(f"{part.line_count} {'quoted' if part.kind == 'quote' else 'signature'}")
    if folded:
        lines.append(_folded(folded))
    for att in attachments:
        name = line(att.filename) or "attachment"
        kind = line(att.content_type)
        lines.append(Content.styled(f"+ {name} ({kind}, {size_label(att.size)})", "dim"))
    return Content("\n").join(lines)


# How each direction is drawn: indent, the rule down the left edge, its style.
_RULES = {
    "inbound": (0, "▌ ", "bold"),
    "outbound": (3, "│ ", "dim"),
    "note": (3, "┆ ", "dim"),
}


def _folded(parts: list[str]) -> Content:
    return Content.styled(f"┄ {' + '.join(parts)} lines folded (z)", "dim")


class Conversation(DeskNode, ScrollView, can_focus=True):
    """A scrollable thread, oldest first; vim keys scroll it when it has focus.

    A Line API widget: messages are wrapped once per width into cached strips (each
    line prefixed with its direction's rule), so a ticket opens without building a
    widget per message. A very long thread (a chat export) draws its latest
    :data:`EARLIER_LIMIT` messages; ``o`` draws the older ones too.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll_down", "Scroll down", show=False),
        Binding("k,up", "scroll_up", "Scroll up", show=False),
        Binding("g,home", "scroll_home", "Top", show=False),
        Binding("G,end", "scroll_end", "Bottom", show=False),
        Binding("ctrl+d,space,pagedown", "page_down", "Page down", show=False),
        Binding("ctrl+u,pageup", "page_up", "Page up", show=False),
        Binding("o", "earlier", "Older messages", show=False),
    ]

    DEFAULT_CSS = """
    Conversation {
        overflow-x: hidden;
        scrollbar-gutter: stable;  /* wrap width must not depend on the scrollbar */
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.messages: Sequence[Message] = ()
        self.attachments: dict[int, list[Attachment]] = {}
        self.unfold = False
        self.limit = EARLIER_LIMIT
        self.placeholder = "Loading…"
        self._strips: list[Strip] = []
        self._width = 0

    def show(
        self,
        messages: Sequence[Message],
        attachments: dict[int, list[Attachment]],
        *,
        unfold: bool,
        reset: bool = False,
        to_end: bool = False,
    ) -> None:
        """Draw the thread: after loading (``reset`` scrolls to the top), a change
        (``to_end`` scrolls to the newest message: the agent's own note or reply), or
        folding toggled."""
        self.messages, self.attachments, self.unfold = messages, attachments, unfold
        self.placeholder = "No messages."
        if reset:
            self.limit = EARLIER_LIMIT
            self.scroll_to(y=0, animate=False, immediate=True)
        self._build()
        if to_end:
            self.scroll_end(animate=False, immediate=True)

    def clear(self, placeholder: str) -> None:
        """Empty the view (a ticket is loading)."""
        self.messages, self.placeholder = (), placeholder
        self._build()

    def _build(self) -> None:
        width = self.scrollable_content_region.width
        self._width = width
        if width <= 0:
            return
        now = self.desk.clock()
        base = self.visual_style
        plain = self.rich_style
        strips: list[Strip] = []

        def add(content: Content, indent: int, rule: str, rule_style: str) -> None:
            head = [Segment(" " * indent, plain)] if indent else []
            if rule:
                head.append(Segment(rule, plain + Style.parse(rule_style)))
            room = max(10, width - indent - len(rule))
            for wrapped in content.wrap(room):
                segments = head + wrapped.render_segments(base)
                strips.append(Strip(segments).adjust_cell_length(width, plain))

        messages = self.messages
        shown = messages[-self.limit :] if len(messages) > self.limit else messages
        hidden = len(messages) - len(shown)
        if hidden:
            note = f"{hidden} earlier messages — press o to show them"
            add(Content.styled(note, "dim"), 0, "", "")
            strips.append(Strip.blank(width, plain))
        if not messages:
            add(Content.styled(self.placeholder, "dim"), 0, "", "")
        for message in shown:
            indent, rule, rule_style = _RULES[message_direction(message)]
            content = render_message(
                message, self.attachments.get(message.id or 0, []), unfold=self.unfold, now=now
            )
            add(content, indent, rule, rule_style)
            strips.append(Strip.blank(width, plain))
        self._strips = strips
        self.virtual_size = Size(width, len(strips))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y
        if 0 <= index < len(self._strips):
            return self._strips[index]
        return Strip.blank(self.scrollable_content_region.width, self.rich_style)

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._build()

    def action_earlier(self) -> None:
        if len(self.messages) > self.limit:
            self.limit = len(self.messages)
            self._build()
