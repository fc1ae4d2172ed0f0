"""Macros (canned responses): Markdown files with a small TOML front matter.

They live in ``macros/`` beside the config file (``<config dir>/macros/*.md``)::

    +++
    title = "Refund issued"
    key = "r"                 # optional: a one-key shortcut in the picker
    status = "pending"        # optional: set after the reply is sent
    priority = "normal"       # optional
    tags = ["refund"]         # optional: added
    +++
    Hi {customer.first_name},

    the refund for ticket {ticket.number} is on its way.

    {agent.name}

The macro's name is the file name without ``.md``. Placeholders are listed in
:data:`PLACEHOLDERS`; ``{{`` and ``}}`` write literal braces. An unknown placeholder
or broken front matter is a :class:`MacroError` naming the file, found when the
macros are loaded rather than when a reply is half written.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskterm import paths
from deskterm.settings import ConfigError
from deskterm.vocab import PRIORITIES, STATUSES

if TYPE_CHECKING:
    from deskterm.settings import Settings
    from deskterm.store import Store, TicketDetail

PLACEHOLDERS = (
    "customer.name",
    "customer.first_name",
    "customer.last_name",
    "customer.email",
    "customer.organization",
    "customer.tier",
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "ticket.priority",
    "ticket.queue",
    "ticket.channel",
    "agent.name",
    "agent.first_name",
    "agent.email",
    "today",
)
FRONT_KEYS = ("title", "description", "key", "status", "priority", "tags", "channels")
_FENCE = "+++"
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


class MacroError(ConfigError):
    """A macro file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Macro:
    """One canned response and what it changes on the ticket."""

    name: str
    title: str
    body: str
    path: Path | None = None
    description: str = ""
    key: str | None = None
    status: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def fits(self, channel: str) -> bool:
        """Whether the macro is meant for tickets of ``channel`` (no list: every channel)."""
        return not self.channels or channel in self.channels

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "key": self.key,
            "status": self.status,
            "priority": self.priority,
            "tags": list(self.tags),
            "channels": list(self.channels),
            "path": str(self.path) if self.path else None,
        }


def macros_dir(config: Settings) -> Path:
    """``macros/`` beside the config file in use (or in the config dir)."""
    base = config.path.parent if config.path is not None else paths.config_dir()
    return base / "macros"


def _placeholders(body: str, where: str) -> None:
    for match in _PLACEHOLDER.finditer(body):
        name = match.group(1)
        if name is not None and name.strip() not in PLACEHOLDERS:
            raise MacroError(
                f"{where}: unknown placeholder {{{name}}}; use one of "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                + " (write {{ and }} for literal braces)."
            )


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise MacroError(f"{where}: {key} must be a string or a list of strings.")
    return tuple(v.strip().lower() for v in items)


def parse_macro(text: str, name: str, path: Path | None = None) -> Macro:
    """A macro from the text of its file (``name`` is its file name without ``.md``)."""
    where = str(path) if path else name
    front: dict[str, Any] = {}
    body = text.lstrip("\ufeff")
    first, _, rest = body.partition("\n")
    if first.strip() == _FENCE:
        head, sep, after = rest.partition(f"\n{_FENCE}")
        if not sep and rest.startswith(_FENCE):
            head, after = "", rest[len(_FENCE) :]
        elif not sep:
            raise MacroError(f"{where}: the front matter opened with +++ is never closed.")
        try:
            front = tomllib.loads(head)
        except tomllib.TOMLDecodeError as exc:
            raise MacroError(f"{where}: the front matter is not valid TOML ({exc}).") from exc
        body = after.partition("\n")[2]
    unknown = set(front) - set(FRONT_KEYS)
    if unknown:
        raise MacroError(
            f"{where}: unknown front matter key {sorted(unknown)[0]!r}; "
            f"use {', '.join(FRONT_KEYS)}."
        )
    for key in ("title", "description", "key"):
        if key in front and not isinstance(front[key], str):
            raise MacroError(f"{where}: {key} must be a string.")
    status = front.get("status")
    if status is not None and status not in STATUSES:
        raise MacroError(f"{where}: status must be one of {', '.join(STATUSES)}, not {status!r}.")
    priority = front.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise MacroError(
            f"{where}: priority must be one of {', '.join(PRIORITIES)}, not {priority!r}."
        )
    key_value = front.get("key")
    if key_value is not None and len(key_value) != 1:
        raise MacroError(f"{where}: key must be a single character.")
    body = body.strip("\n") + "\n"
    if not body.strip():
        raise MacroError(f"{where}: the macro has no text.")
    _placeholders(body, where)
    return Macro(
        name=name,
        title=front.get("title") or name.replace("-", " ").replace("_", " ").capitalize(),
        body=body,
        path=path,
        description=front.get("description", ""),
        key=key_value,
        status=status,
        priority=priority,
        tags=_strings(front["tags"], where, "tags") if "tags" in front else (),
        channels=_strings(front["channels"], where, "channels") if "channels" in front else (),
    )


def load_macros(config: Settings, directory: Path | None = None) -> list[Macro]:
    """Every macro in the macros directory, by name (none if the directory is missing)."""
    directory = directory or macros_dir(config)
    if not directory.is_dir():
        return []
    macros = []
    keys: dict[str, str] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MacroError(f"Cannot read macro {path}: {exc}.") from exc
        macro = parse_macro(text, path.stem, path)
        if macro.key is not None:
            if macro.key in keys:
                raise MacroError(
                    f"{path}: key {macro.key!r} is already used by macro {keys[macro.key]!r}."
                )
            keys[macro.key] = macro.name
        macros.append(macro)
    return macros


def find_macro(macros: Sequence[Macro], name: str) -> Macro:
    """The macro called ``name`` (or the only one whose name starts with it)."""
    wanted = name.strip().lower()
    for macro in macros:
        if macro.name.lower() == wanted:
            return macro
    starts = [m for m in macros if m.name.lower().startswith(wanted)]
    if len(starts) == 1:
        return starts[0]
    known = ", ".join(m.name for m in macros) or "none; add Markdown files to the macros folder"
    if starts:
        raise MacroError(f"Macro {name!r} is ambiguous: {', '.join(m.name for m in starts)}.")
    near = search(macros, name)
    guess = f" Did you mean {near[0].name}?" if near else ""
    raise MacroError(f"There is no macro {name!r}; macros: {known}.{guess}")


def search(macros: Sequence[Macro], query: str, channel: str | None = None) -> list[Macro]:
    """Macros whose name or title matches the query (fuzzy, typos forgiven), best
    first: the picker's list. A macro's shortcut key typed alone ranks it first."""
    from deskterm.fuzzy import rank

    fitting = [m for m in macros if channel is None or m.fits(channel)]
    query = query.strip()
    if not query:
        return fitting
    keyed = [m for m in fitting if m.key is not None and m.key.lower() == query.lower()]
    found = rank(query, {n: f"{m.name} {m.title}" for n, m in enumerate(fitting)})
    return keyed + [fitting[n] for n in found if fitting[n] not in keyed]


# -- rendering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """The values placeholders take for one ticket and agent."""

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_ticket(
        cls, detail: TicketDetail, agent_name: str, agent_email: str, today: datetime
    ) -> Context:
        customer = detail.customer
        name = (customer.name if customer else "").strip()
        email = next((i.value for i in detail.identities if i.kind == "email"), "")
        if "@" in name or not name:
            name = ""
        parts = name.split()
        t = detail.ticket
        return cls(
            {
                "customer.name": name or email,
                "customer.first_name": parts[0] if parts else "there",
                "customer.last_name": parts[-1] if len(parts) > 1 else "",
                "customer.email": email,
                "customer.organization": (customer.organization or "") if customer else "",
                "customer.tier": customer.tier if customer else "",
                "ticket.number": str(t.id),
                "ticket.subject": t.subject,
                "ticket.status": t.status,
                "ticket.priority": t.priority,
                "ticket.queue": t.queue,
                "ticket.channel": t.channel,
                "agent.name": agent_name,
                "agent.first_name": agent_name.split()[0] if agent_name.split() else agent_name,
                "agent.email": agent_email,
                "today": today.astimezone().strftime("%Y-%m-%d"),
            }
        )


def render(macro: Macro, context: Context) -> str:
    """The macro's text with every placeholder filled in."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return context.values.get(match.group(1).strip(), "")

    return _PLACEHOLDER.sub(fill, macro.body)


def render_for(store: Store, config: Settings, number: int, macro: Macro) -> str:
    """The macro rendered for a ticket in the store, as the configured agent."""
    from deskterm.store.types import utcnow

    detail = store.tickets.get_ticket(number)
    context = Context.for_ticket(detail, config.agent.name, config.agent.email, utcnow())
    return render(macro, context)


def apply_actions(store: Store, number: int, macro: Macro, actor: str) -> list[str]:
    """Set the macro's status, priority and tags on the ticket; returns what changed,
    for a one-line summary."""
    done: list[str] = []
    if macro.priority is not None:
        store.tickets.set_priority(number, macro.priority, actor)
        done.append(f"priority {macro.priority}")
    if macro.tags:
        current = store.tickets.get_ticket(number).tags
        wanted = sorted(set(current) | set(macro.tags))
        if wanted != current:
            store.tickets.set_tags(number, wanted, actor)
            done.append("tags " + ",".join(t for t in macro.tags if t not in current))
    if macro.status is not None:
        store.tickets.set_status(number, macro.status, actor)
        done.append(f"status {macro.status}")
    return done
