"""The queue's small query language (PRODUCT.md §4), parsed into a filter.

``status:open,pending priority:high from:acme.com queue:billing tag:vip
assignee:ana channel:whatsapp "exact phrase" words`` — values after a key may be
comma-separated (any of them matches); repeating ``tag:`` requires every tag; bare
words and quoted phrases go to full-text search. ``assignee:none`` means unassigned.
Pure functions only: the CLI and the TUI share them.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace

from deskterm.vocab import CHANNELS, PRIORITIES, STATUSES

KEYS = ("status", "priority", "queue", "assignee", "tag", "from", "customer", "channel", "sla")
ALIASES = {"is": "status", "prio": "priority", "assigned": "assignee", "to": "assignee"}
UNASSIGNED = "none"


class QueryError(ValueError):
    """A query the user typed cannot be understood; the message says what to fix."""


@dataclass(frozen=True)
class TicketFilter:
    """What the queue shows. Empty tuples mean "any"."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    queue: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()  # UNASSIGNED for "nobody"
    tags: tuple[str, ...] = ()  # all must be present
    customer: tuple[str, ...] = ()  # names, addresses, domains, numbers or "#id"
    channel: tuple[str, ...] = ()
    sla: str | None = None  # breached | at-risk (SLA issue)
    text: str = ""  # full-text words and "phrases"
    customer_ids: tuple[int, ...] = field(default=(), compare=False)

    def is_empty(self) -> bool:
        return self == TicketFilter()

    def merged(self, other: TicketFilter) -> TicketFilter:
        """This filter narrowed by ``other`` (a view plus what the user typed)."""
        values = {}
        for name in ("status", "priority", "queue", "assignee", "channel", "customer"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine and theirs:
                both = tuple(v for v in theirs if v in mine)
                values[name] = both or ("\0nothing",)
            else:
                values[name] = mine or theirs
        return replace(
            self,
            tags=tuple(dict.fromkeys(self.tags + other.tags)),
            sla=other.sla or self.sla,
            text=" ".join(t for t in (self.text, other.text) if t),
            **values,
        )


_SPLIT = re.compile(r"\s*,\s*")


def parse_query(query: str) -> TicketFilter:
    """Parse the query language; raises :class:`QueryError` for an unknown key."""
    try:
        tokens = shlex.split(query, posix=True)
    except ValueError as exc:
        raise QueryError(f"Unbalanced quotes in query: {query!r}") from exc
    raw_quoted = set(re.findall(r'"([^"]*)"', query))
    fields: dict[str, list[str]] = {k: [] for k in KEYS}
    words: list[str] = []
    for token in tokens:
        key, sep, value = token.partition(":")
        key = ALIASES.get(key.lower(), key.lower())
        if sep and key in KEYS and token not in raw_quoted:
            if not value:
                raise QueryError(f"{key}: needs a value, as in {key}:something")
            fields[key].extend(v for v in _SPLIT.split(value) if v)
        elif sep and key.isalpha() and token not in raw_quoted and not value.startswith("//"):
            raise QueryError(f"Unknown filter {key}:; use one of {', '.join(KEYS)}")
        else:
            words.append(f'"{token}"' if token in raw_quoted or " " in token else token)
    _check("status", fields["status"], STATUSES)
    _check("priority", fields["priority"], PRIORITIES)
    _check("channel", fields["channel"], CHANNELS)
    sla = fields["sla"][-1].lower() if fields["sla"] else None
    if sla not in (None, "breached", "at-risk"):
        raise QueryError("sla: takes breached or at-risk")
    return TicketFilter(
        status=tuple(v.lower() for v in fields["status"]),
        priority=tuple(v.lower() for v in fields["priority"]),
        queue=tuple(fields["queue"]),
        assignee=tuple(v if v.lower() != UNASSIGNED else UNASSIGNED for v in fields["assignee"]),
        tags=tuple(v.lower() for v in fields["tag"]),
        customer=tuple(fields["from"] + fields["customer"]),
        channel=tuple(v.lower() for v in fields["channel"]),
        sla=sla,
        text=" ".join(words),
    )


def _check(key: str, values: list[str], allowed: tuple[str, ...]) -> None:
    for value in values:
        if value.lower() not in allowed:
            raise QueryError(f"{key}:{value} is not one of {', '.join(allowed)}")


def format_query(f: TicketFilter) -> str:
    """The query-language text of a filter (``parse_query(format_query(f)) == f``), so
    a filter built in the console can be saved as a named view."""

    def value(v: str) -> str:
        return f'"{v}"' if " " in v or "," in v else v

    parts = [
        f"{key}:{','.join(value(v) for v in values)}"
        for key, values in (
            ("status", f.status),
            ("priority", f.priority),
            ("queue", f.queue),
            ("assignee", f.assignee),
            ("tag", f.tags),
            ("from", f.customer),
            ("channel", f.channel),
            ("sla", (f.sla,) if f.sla else ()),
        )
        if values
    ]
    return " ".join([*parts, f.text] if f.text else parts)
