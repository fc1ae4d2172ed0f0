"""How values look on screen: short labels, relative ages, local times, safe text.

Every string that came from outside (subjects, names, bodies, identities) passes
through :func:`safe` or :func:`line` and ends up in a ``Content``/``Text`` object, never
in a markup string, so ``[bold]`` shows literally and escape sequences never reach the
terminal.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any

from rich.text import Text
from sqlalchemy.engine import make_url
from textual.content import Content

from deskterm import sla
from deskterm.textsafe import clean_line, clean_text
from deskterm.vocab import CHANNEL_LABELS, PRIORITY_LABELS, STATUS_LABELS

DIRECTION_LABELS = {"inbound": "IN", "outbound": "OUT", "note": "NOTE"}
# Neutral is left blank: the column should catch the eye only when it matters.
EMOTION_LABELS = {
    "frustration": "frustr.",
    "anger": "anger",
    "anxiety": "anxiety",
    "disappointment": "disapp.",
    "positive": "positive",
    "neutral": "",
}
EMOTION_STYLES = {
    "anger": "bold red",
    "frustration": "yellow",
    "anxiety": "magenta",
    "disappointment": "blue",
    "positive": "green",
}


def line(text: str | None) -> str:
    """One line of outside text with control characters and escapes removed."""
    return clean_line(text or "")


def safe(text: str | None) -> str:
    """Multi-line outside text with control characters and escapes removed."""
    return clean_text(text or "")


def cell(text: str | None, style: str = "") -> Text:
    """A table cell that shows ``text`` literally (DataTable parses plain strings as markup)."""
    return Text(line(text), style=style, no_wrap=True, overflow="ellipsis")


def literal(text: str | None, style: str = "") -> Content:
    """Widget content that shows one line of ``text`` literally."""
    return Content.styled(line(text), style) if style else Content(line(text))


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def emotion_label(emotion: str | None) -> str:
    return EMOTION_LABELS.get(emotion or "neutral", line(emotion))


def priority_label(priority: str) -> str:
    return PRIORITY_LABELS.get(priority, priority)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def age(then: datetime | None, now: datetime) -> str:
    """A compact relative age (``45s``, ``12m``, ``3h``, ``5d``, ``7w``, ``4mo``, ``2y``)."""
    if then is None:
        return ""
    seconds = max(0.0, (now - then).total_seconds())
    for size, unit in ((31_536_000, "y"), (2_592_000, "mo"), (604_800, "w"), (86_400, "d")):
        if seconds >= size * (2 if unit in ("w", "mo") else 1):
            return f"{int(seconds // size)}{unit}"
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h"
    if seconds >= 60:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds)}s"


def ago(then: datetime | None, now: datetime) -> str:
    """``3h ago``, or ``just now`` inside a minute."""
    if then is None:
        return ""
    return "just now" if (now - then).total_seconds() < 60 else f"{age(then, now)} ago"


def local_time(when: datetime | None, now: datetime | None = None) -> str:
    """A stored UTC time in the agent's local zone (PRODUCT.md §9); with ``now``, the
    year is left out when it is the current one."""
    if when is None:
        return ""
    local = when.astimezone()
    if now is not None and local.year == now.astimezone().year:
        return local.strftime("%d %b %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def local_date(when: datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone().strftime("%Y-%m-%d")


def compact_count(count: int | None) -> str:
    """``1234567`` → ``1.2M``: view counts must fit six to a line at 80 columns."""
    if count is None:
        return "…"
    if count < 10_000:
        return f"{count:,}"
    if count < 1_000_000:
        return f"{count / 1000:.0f}k"
    return f"{count / 1_000_000:.1f}M"


def store_label(location: str) -> str:
    """A short name for the store in the header: the file name, or ``db@host``."""
    if "://" not in location:
        return PurePath(location).name or location
    url = make_url(location)
    if url.get_backend_name() == "sqlite":
        return PurePath(url.database or "memory").name
    return f"{url.database or ''}@{url.host or 'localhost'}"


def size_label(size: int) -> str:
    """A file size in the units people read (``12 KB``)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def sla_fact(ticket: Any, now: datetime) -> Content:
    """`` · first response due in 2h 14m`` for a ticket's header (empty without an SLA)."""
    state = sla.status(ticket, now)
    clock = "first response" if state.clock == "first_response" else "resolution"
    if state.state == "breached":
        text, style = f"{clock} overdue by {state.label.lstrip('-')}", "bold red"
    elif state.state in ("at-risk", "ok"):
        text, style = (
            f"{clock} due in {state.label}",
            "yellow" if state.state == "at-risk" else "dim",
        )
    elif state.state in ("paused", "met", "missed"):
        text, style = f"SLA {state.state}", "dim"
    else:
        return Content("")
    return Content.assemble((" · ", "dim"), (text, style))
