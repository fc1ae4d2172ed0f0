"""What the chat-export connectors share: errors, time zones, keys and small helpers.

Chat exports rarely carry stable message ids (WhatsApp never does), so keys are built
from what a re-export repeats exactly: the conversation, the time as printed, the
author and the text, plus an occurrence counter for identical messages in the same
minute. Keys start with a time-ordered part so that inserting a long export appends
to the store's unique index instead of scattering writes across it.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deskterm.connectors.records import InboundRecord, ParseError
from deskterm.textsafe import clean_text

LONE = "\ufdd0"
"""What the streaming JSON reader writes for a lone surrogate escape: a Unicode
noncharacter, reserved for such internal use (see :mod:`.jsonstream`)."""

MAX_NESTING = 64
"""JSON containers nested deeper than this in one message or line are refused: no
export needs more than a few levels, and deep values break ``repr`` and recursion."""


class ConnectorError(Exception):
    """A whole source cannot be read (refused archive, unknown layout, undecidable
    dates); the message is one sentence that says which file and what to do."""


def digest(*parts: str, size: int = 16) -> str:
    """A short, stable hex digest of ``parts`` (joined by a separator they cannot hold)."""
    data = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=size // 2 if size > 1 else 1).hexdigest()


def zone(name: str | None) -> tzinfo:
    """The IANA zone ``name``, or the local zone when ``name`` is empty.

    Raises :class:`ConnectorError` for an unknown name, so ``--tz Europe/Berln`` fails
    before anything is imported.
    """
    if name:
        if name.upper() in ("UTC", "Z"):
            return UTC
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConnectorError(
                f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin."
            ) from exc
    return local_zone()


def local_zone() -> tzinfo:
    """The machine's zone with its DST rules (``TZ``, then ``/etc/localtime``).

    A fixed offset from ``datetime.now().astimezone()`` would put half a year of
    messages an hour off, so the real rules are preferred whenever they can be found.
    """
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        if name.upper() in ("UTC", "UTC0", "GMT", "Z"):
            return UTC
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a POSIX TZ string such as "EST5EDT,M3.2.0,M11.1.0": fall through
    localtime = Path("/etc/localtime")
    if localtime.exists():
        try:
            with localtime.open("rb") as fh:
                return ZoneInfo.from_file(fh, key="localtime")
        except (OSError, ValueError):
            pass  # unreadable or not a TZif file: fall back to the current offset
    current = datetime.now().astimezone().tzinfo
    return current if current is not None else UTC


def clean_body(text: str) -> str:
    """:func:`~deskterm.textsafe.clean_text`, skipped for text it would not change:
    printable text has no control characters, escapes or bidi overrides, and most
    chat messages are one printable line."""
    return text if text.isprintable() else clean_text(text)


_NOT_TEXT = re.compile(f"[\ud800-\udfff{LONE}]")


def require_text(record: InboundRecord) -> InboundRecord:
    """``record``, or :class:`ParseError` if any text in it holds half a UTF-16
    surrogate pair.

    Such a string cannot be stored (UTF-8 has no encoding for it) and cannot be shown;
    it comes from a ``\\ud800`` escape without its pair (a tool that cut an emoji in
    half). ``json.loads`` keeps it as is, the streaming reader marks it :data:`LONE`.
    Only what is kept is checked: a broken field the connector ignores harms nothing.
    """
    author = record.author
    texts = [
        record.source_key, record.body, record.subject, record.conversation or "",
        record.conversation_title, author.value, author.name, author.organization or "",
        *(value for _, value in author.links), *(a.filename for a in record.attachments),
        *(a.content_type for a in record.attachments),
    ]  # fmt: skip
    for text in texts:
        if _NOT_TEXT.search(text):
            raise ParseError(
                "the text holds a lone UTF-16 surrogate (a \\u escape for half a "
                "character, such as half an emoji), which cannot be stored"
            )
    return record


def loads(text: str) -> Any:
    """``json.loads``, with :class:`ParseError` for text that is not JSON or nests so
    deep that the decoder runs out of stack (it recurses once per level)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ParseError("not readable JSON: nested thousands of levels deep") from exc


def mend(text: str) -> str:
    """``text`` with half surrogate pairs as U+FFFD: for the name of a whole chat or
    channel, where failing every message for one bad character would lose it all."""
    return _NOT_TEXT.sub("\ufffd", text)


def require_depth(value: Any, limit: int = MAX_NESTING) -> None:
    """Raise :class:`ParseError` if ``value`` nests lists and objects deeper than
    ``limit``, without recursing (a 10,000-deep value must not exhaust the stack)."""
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise ParseError(f"nested more than {limit} levels deep")
        deeper: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                deeper.extend(v for v in item.values() if isinstance(v, dict | list))
            elif isinstance(item, list):
                deeper.extend(v for v in item if isinstance(v, dict | list))
        level = deeper


def content_type(filename: str) -> str:
    """The MIME type a file name suggests (WhatsApp's ``.opus`` voice notes included)."""
    lowered = filename.lower()
    if lowered.endswith(".opus"):
        return "audio/ogg"
    if lowered.endswith(".webp"):
        return "image/webp"
    guessed, _ = mimetypes.guess_type(lowered)
    return guessed or "application/octet-stream"


class Occurrences:
    """Numbers identical messages (same time, author and text) in file order.

    Two "ok" at 10:00 from the same person are two messages; a re-export numbers them
    the same way, so each keeps its key. Exports are in time order up to small jumps,
    so only recent messages are remembered (two generations of ``window`` entries),
    which keeps memory flat on million-line files.
    """

    def __init__(self, window: int = 20_000) -> None:
        self.window = window
        self._current: dict[tuple[str, str], int] = {}
        self._previous: dict[tuple[str, str], int] = {}

    def next(self, when: str, what: str) -> int:
        """How many times ``what`` was already seen at ``when`` (0 the first time)."""
        key = (when, what)
        count = self._current.get(key)
        if count is None:
            count = self._previous.get(key, 0)
            if len(self._current) >= self.window:
                self._previous, self._current = self._current, {}
        self._current[key] = count + 1
        return count
