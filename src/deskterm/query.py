"""The query language (PRODUCT.md §4), parsed once into a filter for both stores.

``status:open,pending priority:high from:acme.com queue:billing tag:vip
assignee:me channel:wa "exact phrase" invoic* refund OR chargeback -broken``

Fields: ``key:value`` (``key:"two words"`` when the value has spaces); values after a
key may be comma-separated (any of them matches); repeating ``tag:`` requires every
tag. A value may be the stored name or the label the console shows (``channel:mail``,
``priority:urg``, ``status:"on hold"``). ``assignee:none`` means unassigned and
``assignee:me`` the agent the caller names. ``sla:breached,at-risk`` takes either
state; ``snoozed:yes`` the pending tickets with a reminder.

Everything else is full-text search over message subjects and bodies:

- ``word`` — the message contains the word (case and Latin accents ignored);
- ``"two words"`` — the words next to each other, in this order;
- ``word*`` or ``"two wor"*`` — the (last) word starts with this;
- ``a OR b`` (capital OR) — either; OR binds tighter than the space between terms, so
  ``refund OR chargeback urgent`` is (refund OR chargeback) AND urgent;
- ``-word`` / ``-"two words"`` — not this; at least one term must not be excluded.

Only double quotes delimit phrases: apostrophes (``don't``, ``O'Brien``) and
backslashes (``C:\\Users\\x``) are ordinary characters. This module holds the one
parser; :mod:`deskterm.store.dialect.search` compiles its :class:`TextQuery` for each database.
Pure functions only: the CLI and the TUI share them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from deskterm.vocab import (
    CHANNEL_LABELS,
    CHANNELS,
    PRIORITIES,
    PRIORITY_LABELS,
    STATUS_LABELS,
    STATUSES,
)

KEYS = (
    "status", "priority", "queue", "assignee", "tag", "from", "customer", "channel", "sla",
    "snoozed",
)  # fmt: skip
ALIASES = {"is": "status", "prio": "priority", "assigned": "assignee", "to": "assignee"}
UNASSIGNED = "none"
ME = "me"
SLA_STATES = ("breached", "at-risk")


class QueryError(ValueError):
    """A query the user typed cannot be understood; the message says what to fix."""


@dataclass(frozen=True)
class Term:
    """One searched word or phrase, as typed (the dialect splits it into words)."""

    text: str
    phrase: bool = False  # typed in double quotes
    prefix: bool = False  # the last word is a prefix (``word*``)

    def __str__(self) -> str:
        body = f'"{self.text}"' if self.phrase else self.text
        return body + ("*" if self.prefix else "")


@dataclass(frozen=True)
class TextQuery:
    """Full-text part of a query: every clause must match (a clause is its terms OR-ed)
    and no excluded term may."""

    clauses: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()

    def __str__(self) -> str:
        parts = [" OR ".join(map(str, clause)) for clause in self.clauses]
        return " ".join(parts + [f"-{term}" for term in self.excluded])


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
    sla: tuple[str, ...] = ()  # breached and/or at-risk (any of them)
    snoozed: bool = False  # pending with a reminder (the Due view)
    text: str = ""  # full-text part in the query language; see parse_text()
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
        if self.sla and other.sla:
            values["sla"] = tuple(v for v in other.sla if v in self.sla) or ("\0nothing",)
        else:
            values["sla"] = self.sla or other.sla
        return replace(
            self,
            tags=tuple(dict.fromkeys(self.tags + other.tags)),
            snoozed=self.snoozed or other.snoozed,
            text=" ".join(t for t in (self.text, other.text) if t),  # clauses AND together
            **values,
        )


@dataclass(frozen=True)
class _Token:
    negated: bool
    key: str | None  # the text before a colon, when it looks like a field name
    value: str
    quoted: bool
    prefix: bool


_KEY = re.compile(r"([A-Za-z]+):")
_SPLIT = re.compile(r"\s*,\s*")


def _scan(query: str) -> Iterator[_Token]:
    """Split on whitespace; double quotes group, nothing else is special."""
    i, n = 0, len(query)
    while True:
        while i < n and query[i].isspace():
            i += 1
        if i == n:
            return
        negated = query[i] == "-" and i + 1 < n and not query[i + 1].isspace()
        i += negated
        key = None
        if m := _KEY.match(query, i):
            key, i = m.group(1), m.end()
        if i < n and query[i] == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError(f'Unbalanced quote in {query!r}: close the phrase with a ".')
            value, i = query[i + 1 : end], end + 1
            prefix = i < n and query[i] == "*"
            i += prefix
            yield _Token(negated, key, value, True, prefix)
            continue
        start = i
        while i < n and not query[i].isspace() and query[i] != '"':
            i += 1
        value = query[start:i]
        prefix = key is None and len(value.rstrip("*")) > 0 and value.endswith("*")
        yield _Token(negated, key, value.rstrip("*") if prefix else value, False, prefix)


def _is_or(token: _Token) -> bool:
    return token.value == "OR" and not (token.quoted or token.negated or token.key)


def _text_query(tokens: list[_Token], query: str) -> TextQuery:
    """Group search terms into OR-clauses and exclusions."""
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    joining = False  # the previous token was OR
    for n, token in enumerate(tokens):
        if _is_or(token):
            if not clauses or joining or n == len(tokens) - 1:
                continue  # a dangling OR joins nothing
            joining = True
            continue
        text = f"{token.key}:{token.value}" if token.key else token.value
        term = Term(text, token.quoted, token.prefix)
        if token.negated:
            if joining or (n + 1 < len(tokens) and _is_or(tokens[n + 1])):
                raise QueryError(f"OR cannot join an excluded term (-{term}) in {query!r}.")
            excluded.append(term)
        elif joining:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        joining = False
    if excluded and not clauses:
        raise QueryError(
            f"{query!r} only excludes words; add one to look for, as in refund -broken."
        )
    return TextQuery(tuple(map(tuple, clauses)), tuple(excluded))


def parse_text(query: str) -> TextQuery:
    """The full-text grammar alone (``deskterm search``, and a filter's ``text``)."""
    return _text_query(list(_scan(query)), query)


def parse_query(query: str, *, me: str | None = None) -> TicketFilter:
    """Parse the query language; raises :class:`QueryError` with one sentence that
    says what to fix. ``me`` is the agent ``assignee:me`` stands for."""
    fields: dict[str, list[str]] = {k: [] for k in KEYS}
    words: list[_Token] = []
    for token in _scan(query):
        key = ALIASES.get((token.key or "").lower(), (token.key or "").lower())
        if token.key and key in KEYS and token.negated:
            raise QueryError(f"-{key}: cannot exclude; name the values you want, as in {key}:a,b.")
        if token.key and key in KEYS:
            values = [token.value] if token.quoted else _SPLIT.split(token.value)
            fields[key].extend(v for v in values if v)
            if not any(values):
                raise QueryError(f"{key}: needs a value, as in {key}:something")
        elif token.key and not _path_like(token):
            raise QueryError(
                f'Unknown filter "{token.key}:"; use one of {", ".join(KEYS)} '
                f'(or put "{token.key}:{token.value}" in quotes to search for it).'
            )
        else:
            words.append(token)
    sla = tuple(dict.fromkeys(v.lower() for v in fields["sla"]))
    for state in sla:
        if state not in SLA_STATES:
            raise QueryError(f"sla:{state} is not valid; use {' or '.join(SLA_STATES)}.")
    for value in fields["snoozed"]:
        if value.lower() not in ("yes", "true"):
            raise QueryError(f"snoozed:{value} is not valid; use snoozed:yes.")
    return TicketFilter(
        status=_vocabulary("status", fields["status"], STATUSES, STATUS_LABELS),
        priority=_vocabulary("priority", fields["priority"], PRIORITIES, PRIORITY_LABELS),
        queue=tuple(fields["queue"]),
        assignee=tuple(_assignee(v, me) for v in fields["assignee"]),
        tags=tuple(v.lower() for v in fields["tag"]),
        customer=tuple(fields["from"] + fields["customer"]),
        channel=_vocabulary("channel", fields["channel"], CHANNELS, CHANNEL_LABELS),
        sla=sla,
        snoozed=bool(fields["snoozed"]),
        text=str(_text_query(words, query)),
    )


def _path_like(token: _Token) -> bool:
    """``https://…``, ``C:\\Users\\x``, ``Re:``: a word with a colon, not a filter."""
    return len(token.key or "") == 1 or not token.value or token.value.startswith(("/", "\\"))


def _assignee(value: str, me: str | None) -> str:
    if value.lower() == UNASSIGNED:
        return UNASSIGNED
    if value.lower() == ME:
        if not me:
            raise QueryError("assignee:me needs an agent name; set [agent] name in the config.")
        return me
    return value


def _vocabulary(
    key: str, values: list[str], allowed: tuple[str, ...], labels: dict[str, str]
) -> tuple[str, ...]:
    """Stored values for what was typed: the stored name, the console's label, or the
    name with a space or hyphen for ``_`` (``on hold``, ``on-hold``)."""
    names = {name: name for name in allowed}
    for name in allowed:
        names.setdefault(labels.get(name, name), name)
        names.setdefault(name.replace("_", " "), name)
        names.setdefault(name.replace("_", "-"), name)
    result = []
    for value in values:
        found = names.get(value.strip().lower())
        if found is None:
            choices = ", ".join(
                f"{n} ({labels[n]})" if labels.get(n, n) != n else n for n in allowed
            )
            raise QueryError(f"{key}:{value} is not valid; use one of {choices}.")
        result.append(found)
    return tuple(result)


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
            ("sla", f.sla),
            ("snoozed", ("yes",) if f.snoozed else ()),
        )
        if values
    ]
    return " ".join([*parts, f.text] if f.text else parts)
