"""Article files: Markdown with a small front matter.

::

    ---
    title: "Refunding a duplicate charge"
    tags: ["billing", "refund"]
    audience: public          # or internal (the default)
    updated: 2026-12-05
    ticket: 1234              # optional: the ticket it was drafted from
    url: "https://…"          # optional: where it is published
    ---
    The article, in Markdown.

The front matter is the common ``---`` block (flat ``key: value`` lines; lists as
``[a, b]`` or ``- item`` lines) or a TOML ``+++`` block as in macros. Other keys are
kept out of the index but allowed, so files from other tools index as they are. A file
without front matter takes its title from the first ``# heading`` or its name.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from deskterm.settings import ConfigError

AUDIENCES = ("internal", "public")
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


class KbError(ConfigError):
    """The knowledge base cannot do what was asked; the message says why."""


class ArticleError(KbError):
    """An article file cannot be indexed; the message names the file and why."""


@dataclass(frozen=True)
class ArticleFile:
    """An article as written in its file."""

    title: str
    body: str
    tags: tuple[str, ...] = ()
    audience: str = "internal"
    updated: str = ""
    ticket: int | None = None
    url: str | None = None


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scalar(raw: str) -> Any:
    raw = raw.strip()
    if " #" in raw and not raw.startswith(('"', "'")):
        raw = raw.split(" #", 1)[0].rstrip()
    if raw.startswith(("[", '"')):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            if raw.startswith("["):
                return [_scalar(v) for v in raw.strip("[]").split(",") if v.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    if raw.isdigit():
        return int(raw)
    return raw.strip('"')


def _yaml_front(head: str, where: str) -> dict[str, Any]:
    """The flat ``key: value`` subset of YAML that article front matter uses."""
    front: dict[str, Any] = {}
    current: str | None = None
    for number, line in enumerate(head.splitlines(), 2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") and current is not None:
            items = front[current] if isinstance(front[current], list) else []
            front[current] = [*items, _scalar(stripped[2:])]
            continue
        match = _KEY_LINE.match(line)
        if not match or line[:1].isspace():
            raise ArticleError(f"{where}: line {number} of the front matter is not 'key: value'.")
        current = match.group(1).lower()
        value = match.group(2)
        front[current] = _scalar(value) if value.strip() else []
    return front


def split_front(text: str, where: str) -> tuple[dict[str, Any], str]:
    """The front matter as a dict, and the body after it."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    first, _, rest = text.partition("\n")
    fence = first.strip()
    if fence not in ("---", "+++"):
        return {}, text
    head, sep, after = ("\n" + rest).partition(f"\n{fence}")
    if not sep:
        raise ArticleError(f"{where}: the front matter opened with {fence} is never closed.")
    body = after.partition("\n")[2]
    if fence == "+++":
        try:
            return tomllib.loads(head), body
        except tomllib.TOMLDecodeError as exc:
            raise ArticleError(f"{where}: the front matter is not valid TOML ({exc}).") from exc
    return _yaml_front(head, where), body


def _date(value: Any, where: str) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ArticleError(
            f"{where}: updated must be a date like 2026-12-05, not {text!r}."
        ) from None


def parse_article(
    text: str, where: str, *, fallback_title: str, fallback_updated: str
) -> ArticleFile:
    """An article from its file's text; :class:`ArticleError` says what is wrong."""
    front, body = split_front(text, where)
    title = front.get("title")
    if title is None:
        heading = _HEADING.search(body)
        title = heading.group(1) if heading else fallback_title
    if not isinstance(title, str) or not title.strip():
        raise ArticleError(f"{where}: title must be a non-empty string.")
    tags = front.get("tags", [])
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ArticleError(f"{where}: tags must be a list of words.")
    audience = str(front.get("audience", "internal")).strip().lower()
    if audience not in AUDIENCES:
        raise ArticleError(f"{where}: audience must be internal or public, not {audience!r}.")
    ticket = front.get("ticket")
    if isinstance(ticket, str) and ticket.lstrip("#").isdigit():
        ticket = int(ticket.lstrip("#"))
    if ticket is not None and not isinstance(ticket, int):
        raise ArticleError(f"{where}: ticket must be a ticket number.")
    url = front.get("url")
    if url is not None and not isinstance(url, str):
        raise ArticleError(f"{where}: url must be a string.")
    updated = front.get("updated")
    return ArticleFile(
        title=" ".join(title.split()),
        body=body.strip("\n") + "\n",
        tags=tuple(dict.fromkeys(t.strip().lower() for t in tags if t.strip())),
        audience=audience,
        updated=_date(updated, where) if updated not in (None, "", []) else fallback_updated,
        ticket=ticket,
        url=url or None,
    )


def render_article(article: ArticleFile) -> str:
    """The file text of an article (``---`` front matter; values as JSON, valid YAML)."""
    lines = ["---", f"title: {json.dumps(article.title, ensure_ascii=False)}"]
    lines.append(f"tags: {json.dumps(list(article.tags), ensure_ascii=False)}")
    lines.append(f"audience: {article.audience}")
    lines.append(f"updated: {article.updated}")
    if article.ticket is not None:
        lines.append(f"ticket: {article.ticket}")
    if article.url:
        lines.append(f"url: {json.dumps(article.url)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + article.body.strip("\n") + "\n"


def slugify(title: str) -> str:
    """A file name stem from a title: lower-case ASCII words joined by hyphens."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    slug = "-".join(words)[:60].strip("-")
    return slug or "article"
