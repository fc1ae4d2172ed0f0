"""One mail message, as bytes, to an :class:`InboundRecord` of plain, clean text.

Speed matters (an import must reach thousands of messages a second), so this takes
the ``compat32`` path and decodes what it needs by hand instead of using the
``policy.default`` objects, which are about five times slower: headers go into a
compat32 :class:`~email.message.Message` (for its parameter and RFC 2231 handling),
bodies are split on their boundaries as bytes and decoded with ``binascii`` and the
charset codecs. Hand decoding is also more forgiving, and is correct where the new
policy is not: two adjacent RFC 2047 words in a display name decode without a stray
space (CPython issue 128110).

Everything outside is treated as hostile: any charset name (unknown ones decode with
replacement characters), 8-bit bytes in headers, missing or broken boundaries and
dates, NUL bytes, escape sequences, deeply nested parts. A message that cannot be
turned into a record raises :class:`MailError` with a one-line reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.errors import MessageError
from html import unescape
from typing import Any

from deskterm.connectors.mimeparts import Entity
from deskterm.connectors.mimetext import (
    charset_label,
    decode_bytes,
    header_text,
    headers_of,
    message_id_of,
    parse_addresses,
    parse_date,
    references_of,
)
from deskterm.connectors.records import AttachmentRecord, InboundRecord, Party, content_hash
from deskterm.textsafe import clean_text

MAX_BODY_CHARS = 2_000_000  # a body larger than this is cut (and says so)
MAX_HTML_CHARS = 5_000_000  # HTML beyond this is cut before conversion
MAX_PARTS = 500  # MIME parts looked at per message
MAX_DEPTH = 16  # nesting of multiparts and forwarded messages
TRUNCATED = "\n\n[message truncated by deskterm]"
MB = 1 << 20
MAX_MESSAGE_BYTES = 50 * MB
"""Of a bigger message only this much is read: parsing needs up to about three
times the bytes it reads, so this bounds an import's memory."""


class MailError(ValueError):
    """A message that cannot become a record; the text is the one-line reason."""


@dataclass(frozen=True)
class ParseOptions:
    """What to keep besides the text: attachment bytes, when they will be stored; how
    much of one message to read at most (see :data:`MAX_MESSAGE_BYTES`); and
    ``analyze``, a picklable function the parse workers run on each record (the
    ingest service passes its emotion text features), so the single writer process
    does not; ``preload`` names the modules it needs, imported once in the process
    the workers are forked from."""

    keep_attachment_data: bool = False
    attachment_max_bytes: int = 25 * 1024 * 1024
    max_message_bytes: int = MAX_MESSAGE_BYTES  # read no more of one message
    analyze: Callable[[InboundRecord], object | None] | None = None
    preload: tuple[str, ...] = ()


# -- bodies ----------------------------------------------------------------------------


_TAG = re.compile(r"<[^>]*>")
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLANKS = re.compile(r"[ \t]+")


def html_to_text(html: str) -> str:
    """Readable text from HTML through inscriptis (layout-aware: lists, tables)."""
    from inscriptis import get_text

    html = clean_text(html[:MAX_HTML_CHARS])
    if not html.strip():
        return ""
    try:
        text = str(get_text(html))
    except (ValueError, TypeError, AssertionError, RecursionError):
        text = ""  # lxml rejects some hostile documents outright
    if text.strip():
        return text
    # Nothing came out (or libxml2 gave up on absurd nesting): the bare text, rather
    # than losing what the customer wrote.
    bare = _TAG.sub(" ", _INVISIBLE.sub(" ", html))
    return _BLANKS.sub(" ", unescape(bare)).strip()


class _Collector:
    """Walks the MIME tree once, gathering text and attachments."""

    def __init__(self, options: ParseOptions, fallback_charset: str) -> None:
        self.options = options
        self.fallback_charset = fallback_charset
        self.texts: list[str] = []
        self.attachments: list[AttachmentRecord] = []
        self.parts = 0
        self.cut = False  # a text part was longer than what is kept of it
        self.too_many = 0  # parts beyond MAX_PARTS, not read
        self.too_deep = 0  # parts nested beyond MAX_DEPTH, not read (nor what they hold)

    def walk(self, entity: Entity, depth: int = 0) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.too_many += 1
            return
        if depth > MAX_DEPTH:
            self.too_deep += 1
            return
        ctype = entity.content_type
        maintype = ctype.split("/", 1)[0]
        if maintype == "multipart":
            parts = entity.parts()
            if parts is None:  # the boundary never appears: keep the raw text
                self._add_text(self.text_of(entity, "text/plain"))
            elif ctype == "multipart/alternative":
                self._alternative(parts, depth)
            else:
                for part in parts:
                    self.walk(part, depth + 1)
        elif ctype == "message/rfc822" and not self._is_attachment(entity):
            self._forwarded(entity.inner(), depth)
        elif ctype in ("text/plain", "text/html") and not self._is_attachment(entity):
            self._add_text(self.text_of(entity, ctype))
        else:
            self._attachment(entity, ctype)

    def _add_text(self, text: str) -> None:
        if text.strip():
            self.texts.append(text)

    @staticmethod
    def _is_attachment(entity: Entity) -> bool:
        """Declared an attachment, or named like a file (a named inline text part is a
        file the sender attached, not the message)."""
        disposition = str(entity.msg.get("content-disposition", ""))
        if disposition.split(";", 1)[0].strip().lower() == "attachment":
            return True
        return "name" in disposition.lower() or entity.param("name") is not None

    def notes(self) -> list[str]:
        """What the part limits left unread, one sentence each (empty: nothing)."""
        notes = []
        if self.too_many:
            notes.append(
                f"{self.too_many} MIME part{'s' * (self.too_many > 1)} beyond the first "
                f"{MAX_PARTS} not read"
            )
        if self.too_deep:
            notes.append(
                f"{self.too_deep} MIME part{'s' * (self.too_deep > 1)} nested more than "
                f"{MAX_DEPTH} levels deep not read"
            )
        return notes

    def text_of(self, entity: Entity, ctype: str) -> str:
        """A leaf part's text: decoded transfer encoding and charset, HTML converted.
        No more bytes are decoded than characters are kept (text in a multi-byte
        charset keeps fewer characters; a cut part marks the body truncated)."""
        limit = MAX_HTML_CHARS if ctype == "text/html" else MAX_BODY_CHARS
        raw = entity.decoded(limit)
        self.cut = self.cut or len(raw) >= limit
        text = decode_bytes(raw, entity.param("charset") or self.fallback_charset)
        if text.startswith("\ufeff"):
            text = text[1:]
        if ctype == "text/html":
            return html_to_text(text)
        return clean_text(text)

    def _alternative(self, entities: list[Entity], depth: int) -> None:
        for entity in entities:
            if entity.content_type == "text/plain" and not self._is_attachment(entity):
                text = self.text_of(entity, "text/plain")
                if text.strip():
                    self.texts.append(text)
                    return
        # No usable plain text: the last alternative is the richest (RFC 2046).
        for entity in reversed(entities):
            before = len(self.texts)
            self.walk(entity, depth + 1)
            if len(self.texts) > before:
                return

    def _forwarded(self, inner: Entity, depth: int) -> None:
        headers = headers_of(inner.msg)
        lines = ["---------- Forwarded message ----------"]
        for name in ("from", "date", "subject", "to"):
            if headers.get(name):
                lines.append(f"{name.title()}: {header_text(headers[name], self.fallback_charset)}")
        charset = charset_label(inner.param("charset")) or self.fallback_charset
        nested = _Collector(self.options, charset)
        nested.parts = self.parts
        nested.walk(inner, depth + 1)
        self.parts = nested.parts
        self.cut = self.cut or nested.cut
        self.too_many += nested.too_many
        self.too_deep += nested.too_deep
        self.texts.append("\n".join(lines) + "\n\n" + "\n\n".join(nested.texts))
        self.attachments.extend(nested.attachments)

    def _attachment(self, entity: Entity, ctype: str) -> None:
        raw_name: Any = entity.msg.get_filename()
        name = header_text(raw_name, self.fallback_charset) if raw_name else ""
        if not name:
            name = _default_name(ctype, len(self.attachments) + 1)
        size = entity.known_size()
        keep = self.options.keep_attachment_data and (
            size is None or size <= self.options.attachment_max_bytes
        )
        data = entity.decoded() if keep or size is None else None
        if data is not None:
            size = len(data)
            keep = keep and size <= self.options.attachment_max_bytes
        self.attachments.append(
            AttachmentRecord(
                filename=name[:255],
                content_type=ctype[:127],
                size=size or 0,
                data=data if keep else None,
            )
        )


def _default_name(ctype: str, index: int) -> str:
    import mimetypes

    ext = mimetypes.guess_extension(ctype) or ".bin"
    return f"attachment-{index}{ext}"


# -- the record ------------------------------------------------------------------------


class RawKey:
    """The key of a message's bytes fed in pieces (a mail too big to hold is hashed
    as it is read): the SHA-1 of the bytes with CRLF as LF and trailing whitespace
    dropped, blind to line endings, so an IMAP copy and a file copy agree."""

    def __init__(self) -> None:
        self._sha = hashlib.sha1()
        self._cr = False  # the last piece ended in CR: the next may start with its LF
        self._space = b""  # whitespace held back: dropped if nothing follows it

    def update(self, piece: bytes) -> None:
        if self._cr:
            piece = b"\r" + piece
        self._cr = piece.endswith(b"\r")
        if self._cr:
            piece = piece[:-1]
        piece = piece.replace(b"\r\n", b"\n")
        text = piece.rstrip()
        if text:
            self._sha.update(self._space)
            self._sha.update(text)
            self._space = piece[len(text) :]
        else:
            self._space += piece

    def key(self) -> str:
        return "mail:" + self._sha.hexdigest()


KEY_PIECE = 1 << 20  # bytes hashed at a time: no copy of a whole big message


def raw_key(data: bytes) -> str:
    """A stable key for a message's bytes, blind to CRLF versus LF line endings."""
    key = RawKey()
    for start in range(0, len(data), KEY_PIECE):
        key.update(data[start : start + KEY_PIECE])
    return key.key()


def parse_message(
    data: bytes,
    *,
    source_key: str | None = None,
    raw_ref: str | None = None,
    fallback_at: datetime | None = None,
    fallback_source: str = "import",
    options: ParseOptions | None = None,
    whole_size: int | None = None,
) -> InboundRecord:
    """Parse one message.

    ``source_key`` defaults to a hash of the bytes (so the same file imported twice is
    one message); ``fallback_at``/``fallback_source`` (IMAP INTERNALDATE, file time)
    stand in for a missing or broken Date header and are recorded as ``date_source``.
    ``whole_size`` is the message's size when ``data`` is only its first bytes (it was
    over the size limit).

    What the limits left out (the rest of a cut message, parts beyond the part or
    depth limits) is said at the end of the body, where the agent reads it, and in
    ``extra["limits"]``, from which the reader records a failure.
    """
    options = options or ParseOptions()
    if not data or data.isspace():
        raise MailError("empty message")
    entity = Entity(data)
    headers = headers_of(entity.msg)
    if not headers:
        raise MailError("no mail headers")
    charset = charset_label(entity.param("charset")) if "content-type" in headers else ""
    collector = _Collector(options, charset)
    try:
        collector.walk(entity)
    except (MessageError, LookupError, ValueError, TypeError) as exc:
        raise MailError(f"unreadable MIME structure: {type(exc).__name__}: {exc}") from exc

    sender = None
    for name in ("from", "sender", "reply-to", "return-path"):
        found = parse_addresses(headers.get(name), charset)
        if found:
            sender = found[0]
            break
    if sender is None:
        raise MailError("no sender address (From is missing or empty)")
    display, address = sender
    if display.lower() == address:
        display = ""
    recipients = tuple(
        Party("email", addr, name)
        for field_ in ("to", "cc")
        for name, addr in parse_addresses(headers.get(field_), charset)
    )

    sent_at = parse_date(headers.get("date"))
    date_source = "header"
    if sent_at is None:
        sent_at = fallback_at or datetime.now(UTC)
        date_source = fallback_source if fallback_at else "import"

    body = "\n\n".join(t.strip("\n") for t in collector.texts)
    if len(body) > MAX_BODY_CHARS or collector.cut:
        body = body[:MAX_BODY_CHARS] + TRUNCATED
    notes = collector.notes()
    if whole_size is not None:
        notes.insert(
            0,
            f"only the first {len(data) / MB:.1f} MB of this {whole_size / MB:.1f} MB "
            "message were read (the per-message size limit); the rest, attachments "
            "included, is not stored",
        )
    if notes:
        body = "\n\n".join([*([body] if body else []), *(f"[deskterm: {n}]" for n in notes)])
    record = InboundRecord(
        source_key=source_key or raw_key(data),
        channel="email",
        sent_at=sent_at,
        author=Party("email", address[:320], display[:200]),
        body=body,
        subject=header_text(headers.get("subject"), charset),
        message_id=message_id_of(headers.get("message-id")),
        in_reply_to=message_id_of(headers.get("in-reply-to")),
        references=references_of(headers.get("references")),
        recipients=recipients,
        attachments=tuple(collector.attachments),
        date_source=date_source,
        raw_ref=raw_ref,
    )
    if notes:
        record.extra["limits"] = "; ".join(notes)
    record.content_hash = content_hash(record)  # here, in a worker, not in the writer
    return record
