"""Streaming reads of big JSON exports (Telegram Desktop, DiscordChatExporter).

Exports run to gigabytes, so they are parsed as a stream with ijson's C backend
(yajl) instead of loaded whole: memory stays bounded and a file that breaks halfway
(an export killed mid-write, a copy cut short by a full disk) still yields every
message before the break. yajl refuses invalid UTF-8 and a byte-order mark, which
exports do contain, so the bytes go through :class:`Utf8Reader` first: decoded with
replacement, like a whole-file ``decode("utf-8-sig", "replace")`` would, chunk by
chunk.

A ``\\ud800`` escape without its other half is not a character either; yajl fails on
some of them (a ``UnicodeDecodeError`` that ends the stream) and turns others into
``?``. :class:`Utf8Reader` therefore writes each such escape as :data:`LONE`, a
Unicode noncharacter, which the connectors look for in the text they keep
(:func:`deskterm.connectors.chatbase.require_text`): that one message becomes a
failure, and the stream goes on.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson  # type: ignore[import-untyped]

from deskterm.connectors.chatbase import LONE
from deskterm.textsafe import clean_line

JSONError = ijson.JSONError
"""What a broken stream raises (premature end, invalid character, trailing garbage)."""

Event = tuple[str, str, Any]

# Escaped backslashes first, so that "\\\\ud800" (a backslash, then text) is left
# alone; then a valid pair, left alone; then a lone half.
_ESCAPES = re.compile(
    r"(\\\\)|(\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_HIGH = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}$")
_ESCAPE_SIZE = 12  # the longest escape sequence that matters: a surrogate pair


def _lone_surrogates(text: str) -> str:
    """``text`` (JSON source) with every lone surrogate escape replaced by LONE."""
    if "\\ud" not in text and "\\uD" not in text:
        return text
    return _ESCAPES.sub(lambda m: m[0] if m.lastindex else LONE, text)


def _safe_end(text: str) -> int:
    """Where ``text`` can be cut without splitting an escape sequence (or a run of
    backslashes, or a surrogate pair) that the next chunk may complete."""
    cut = text.find("\\", max(0, len(text) - _ESCAPE_SIZE))
    if cut < 0:
        return len(text)
    while cut and text[cut - 1] == "\\":
        cut -= 1
    if _HIGH.search(text, max(0, cut - 6), cut):
        cut -= 6
        while cut and text[cut - 1] == "\\":
            cut -= 1
    return cut


class Utf8Reader:
    """A binary file read as valid UTF-8: invalid sequences become U+FFFD, a BOM goes.

    ``offset`` is how far into the *file* the parser has read and ``last_offset``
    where the last chunk began, so a failure can say which bytes it is in.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.offset = 0
        self.last_offset = 0
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("replace")
        self._done = False
        self._held = ""  # text whose end may be half an escape sequence

    def read(self, size: int = -1) -> bytes:
        if size == 0 or self._done:
            return b""
        while True:
            chunk = self.raw.read(size if size > 0 else 1 << 16)
            self.last_offset = self.offset
            self.offset += len(chunk)
            text = self._held + self._decoder.decode(chunk, final=not chunk)
            cut = _safe_end(text) if chunk else len(text)
            self._held = text[cut:]
            if cut or not chunk:
                self._done = not chunk
                return _lone_surrogates(text[:cut]).encode("utf-8")


def events(reader: Utf8Reader) -> Iterator[Event]:
    """ijson's (prefix, event, value) stream, numbers as int or float like ``json``."""
    return iter(ijson.parse(reader, use_float=True))


def builder() -> Any:
    """ijson's ``ObjectBuilder``: ``.event(event, value)`` per event, then ``.value``."""
    return ijson.ObjectBuilder()


def items(reader: Utf8Reader, prefix: str) -> Iterator[Any]:
    """The values under ``prefix`` (``"messages.item"``), each built in C."""
    return iter(ijson.items(reader, prefix, use_float=True))


def break_reason(exc: Exception, reader: Utf8Reader) -> str:
    """One sentence on where and why a stream broke, for a failure or an error."""
    detail = clean_line(str(exc).split("\n", 1)[0]).rstrip(".")
    if "premature EOF" in detail:
        return (
            f"the export ends early: it is cut off at byte {reader.offset:,}, "
            "as an export or copy that did not finish would be"
        )
    if reader.offset == reader.last_offset:
        where = f"at byte {reader.offset:,}"
    else:
        where = f"between bytes {reader.last_offset:,} and {reader.offset:,}"
    return f"the export is corrupt {where} ({detail})"
