"""The MIME tree of one message, walked without copying its bytes.

Only the header block of an entity goes through the ``email`` package's compat32
parser (for its parameter and RFC 2231 handling); bodies are split on their
boundaries with ``bytes.find`` and decoded with ``binascii``. Every part is a range
of the one message buffer, so a message's tree costs its size once, however many
parts it has.
"""

from __future__ import annotations

import binascii
import itertools
import re
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any


class Entity:
    """One MIME entity: its headers (in a compat32 ``Message``) and where its raw body
    lies in the message's bytes (``buf[start:end]``).

    Bodies are never walked line by line: they are split on their boundaries with
    ``bytes.find``, which is what makes this path fast (the ``email`` feed parser's
    line-by-line walk over a body is most of its cost). Nor are they copied: every
    part of a multipart is a range of the one buffer, and only a leaf that is read
    (text, a kept attachment) is sliced out, so a big attachment costs its size once.
    """

    __slots__ = ("_params", "buf", "end", "msg", "start")

    def __init__(self, buf: bytes, start: int = 0, end: int | None = None) -> None:
        end = len(buf) if end is None else end
        if buf.startswith((b"\n", b"\r\n"), start, end):
            head, body = b"", buf.index(b"\n", start) + 1
        else:
            blank = _BLANK_LINE.search(buf, start, end)
            head = buf[start : blank.start() if blank else end]
            body = blank.end() if blank else end
        self.msg, leftover = parse_header_block(head)
        if leftover:  # a missing blank line: the rest of the "headers" is body
            buf = leftover + b"\n" + buf[body:end]
            body, end = 0, len(buf)
        self.buf, self.start, self.end = buf, body, end
        self._params: dict[str, Any] | None = None

    def param(self, name: str) -> Any:
        """A Content-Type parameter (RFC 2231 values as the ``email`` package gives them)."""
        if self._params is None:
            params = self.msg.get_params() or []
            self._params = {k.lower(): v for k, v in params[1:]}
            self._params[""] = params[0][0].lower() if params else ""
        return self._params.get(name)

    @property
    def content_type(self) -> str:
        """``maintype/subtype``, lower-cased; text/plain when missing or invalid."""
        value = self.param("") if "content-type" in self.msg else ""
        return value if value and value.count("/") == 1 else "text/plain"

    def decoded(self, limit: int | None = None) -> bytes:
        """The body with its Content-Transfer-Encoding undone; with ``limit``, its
        first ``limit`` bytes, decoded from no more than could hold them (text beyond
        what is kept is never decoded)."""
        cte = str(self.msg.get("content-transfer-encoding", "")).strip().lower()
        stop = self.end
        if limit is not None:
            # Encoded bytes per decoded byte, at most: base64 4/3, quoted-printable 3.
            ratio = 2 if cte == "base64" else 3 if cte == "quoted-printable" else 1
            stop = min(stop, self.start + limit * ratio)
        body = self.buf[self.start : stop]
        if cte == "base64":
            body = _base64(body)
        elif cte == "quoted-printable":
            body = binascii.a2b_qp(body)
        return body if limit is None or len(body) <= limit else body[:limit]

    def inner(self) -> Entity:
        """The message a message/rfc822 part holds, without a copy unless encoded."""
        cte = str(self.msg.get("content-transfer-encoding", "")).strip().lower()
        if cte in _IDENTITY:
            return Entity(self.buf, self.start, self.end)
        return Entity(self.decoded())

    def known_size(self) -> int | None:
        """The decoded size of the body, counted without decoding it (a large
        attachment that is not kept costs no memory); None for quoted-printable and
        unknown encodings."""
        cte = str(self.msg.get("content-transfer-encoding", "")).strip().lower()
        if cte in _IDENTITY:
            return max(0, self.end - self.start)
        if cte != "base64":
            return None
        buf, start, end = self.buf, self.start, self.end
        chars = end - start - sum(buf.count(c, start, end) for c in (b"\n", b"\r", b" ", b"\t"))
        while end > start and buf[end - 1] in b" \t\r\n":
            end -= 1
        padding = buf[max(start, end - 2) : end].count(b"=")
        return max(0, chars * 3 // 4 - padding)

    def parts(self) -> list[Entity] | None:
        """The parts of a multipart body; None when its boundary never appears."""
        boundary = self.param("boundary")
        if isinstance(boundary, tuple):
            boundary = collapse_rfc2231_value(boundary)
        if not isinstance(boundary, str) or not boundary:
            return None
        delimiter = boundary.encode("ascii", "surrogateescape")
        ranges = split_multipart(self.buf, delimiter, self.start, self.end)
        return None if ranges is None else [Entity(self.buf, a, b) for a, b in ranges]


_IDENTITY = ("", "7bit", "8bit", "binary")

_FIELD_NAME = re.compile(r"[!-9;-~]+")


def parse_header_block(head: bytes) -> tuple[Message, bytes]:
    """Headers as a compat32 :class:`Message` (values raw, folds kept) and any lines
    after the first one that is not a header (a missing blank line)."""
    msg = Message()
    text = head.decode("ascii", "surrogateescape")
    lines = text.split("\n")
    if lines and lines[0].startswith("From "):
        msg.set_unixfrom(lines.pop(0).rstrip("\r"))  # an mbox envelope line
    name = ""
    value: list[str] = []
    for index, line in enumerate(lines):
        line = line.rstrip("\r")
        if line[:1] in (" ", "\t"):
            if name:
                value.append(line)
            continue
        field, colon, rest = line.partition(":")
        if not colon or not _FIELD_NAME.fullmatch(field.rstrip()):
            if name:
                msg[name] = "\n".join(value)
            leftover = "\n".join(lines[index:])
            return msg, leftover.encode("ascii", "surrogateescape")
        if name:
            msg[name] = "\n".join(value)
        name, value = field.rstrip(), [rest.lstrip(" \t")]
    if name:
        msg[name] = "\n".join(value)
    return msg, b""


_BLANK_LINE = re.compile(rb"\r?\n[ \t]*\r?\n")
_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def _base64(data: bytes) -> bytes:
    """Lenient base64: junk characters ignored, bad padding repaired."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        clean = _B64_JUNK.sub(b"", data)
        clean = clean[: len(clean) - 1] if len(clean) % 4 == 1 else clean
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))


def split_multipart(
    buf: bytes, boundary: bytes, start: int = 0, end: int | None = None
) -> list[tuple[int, int]] | None:
    """Where the parts between ``--boundary`` lines in ``buf[start:end]`` lie, as
    (start, end) ranges of ``buf`` (RFC 2046 §5.1.1); None without a delimiter.

    A delimiter only counts at the start of a line and when followed by the end of
    the line, padding or ``--``, so an inner boundary that is a prefix of an outer
    one does not split it. A missing close delimiter ends the last part at the end.
    """
    end = len(buf) if end is None else end
    delimiter = b"--" + boundary
    starts: list[tuple[int, int, bool]] = []  # (line start, line end, is close)
    pos = start
    while True:
        i = buf.find(delimiter, pos, end)
        if i < 0:
            break
        after = i + len(delimiter)
        pos = after
        if i > start and buf[i - 1] != 0x0A:
            continue
        close = buf.startswith(b"--", after, end)
        rest = after + 2 if close else after
        if rest < end and buf[rest] not in b" \t\r\n":
            continue
        eol = buf.find(b"\n", rest, end)
        starts.append((i, end if eol < 0 else eol + 1, close))
        if close:
            break
    if not starts:
        return None
    parts = []
    for (_, begin, _close), (line, _, _) in itertools.pairwise(starts):
        stop = line - 1 if line > start else start  # the line break before belongs to it
        if stop > start and buf[stop - 1] == 0x0D:
            stop -= 1
        parts.append((begin, max(begin, stop)))
    if not starts[-1][2] and starts[-1][1] < end:
        parts.append((starts[-1][1], end))
    return parts
