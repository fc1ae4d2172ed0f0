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

import binascii
import codecs
import functools
import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError, MessageError
from email.header import decode_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_tz
from html import unescape
from typing import Any

from deskterm.connectors.records import AttachmentRecord, InboundRecord, Party, content_hash
from deskterm.textsafe import clean_line, clean_text

MAX_BODY_CHARS = 2_000_000  # a body larger than this is cut (and says so)
MAX_HTML_CHARS = 5_000_000  # HTML beyond this is cut before conversion
MAX_PARTS = 500  # MIME parts looked at per message
MAX_DEPTH = 16  # nesting of multiparts and forwarded messages
MAX_REFERENCES = 50  # References header entries kept (the newest)
TRUNCATED = "\n\n[message truncated by deskterm]"


class MailError(ValueError):
    """A message that cannot become a record; the text is the one-line reason."""


@dataclass(frozen=True)
class ParseOptions:
    """What to keep besides the text: attachment bytes, when they will be stored; and
    ``analyze``, a picklable function the parse workers run on each record (the
    ingest service passes its emotion text features), so the single writer process
    does not."""

    keep_attachment_data: bool = False
    attachment_max_bytes: int = 25 * 1024 * 1024
    analyze: Callable[[InboundRecord], object | None] | None = None


# -- charsets --------------------------------------------------------------------------

# Labels mail clients use that Python lacks, or that are really a superset in the wild
# (the WHATWG encoding standard's mapping: "gb2312" mail is GBK, "iso-8859-1" is
# windows-1252, and so on).
_CHARSET_ALIASES = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso8859-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "chinese": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "korean": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "big5": "big5hkscs",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}
# Labels that promise nothing: try UTF-8, then windows-1252.
_UNDECLARED = {"", "unknown-8bit", "x-unknown", "unknown", "default", "us-ascii", "ascii"}
# Codecs whose bytes are all ASCII, so the ASCII fast path would be wrong.
_NOT_ASCII_SAFE = ("iso2022", "utf-7", "utf_7", "utf-16", "utf_16", "utf-32", "utf_32", "hz")


@functools.lru_cache(maxsize=512)
def _codec(label: str) -> tuple[str | None, bool]:
    """(Python codec name or None if unknown, whether pure-ASCII bytes decode as ASCII)."""
    name = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None, True
    if not getattr(info, "_is_text_encoding", True):
        return None, True  # base64, rot13: not a charset at all
    return info.name, not info.name.startswith(_NOT_ASCII_SAFE)


def _label(charset: Any) -> str:
    if isinstance(charset, tuple):  # an RFC 2231 parameter
        charset = collapse_rfc2231_value(charset)
    if not isinstance(charset, str):
        return ""
    label = charset.strip().strip("\"'").lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    return label.split()[0] if label.split() else ""


def decode_bytes(data: bytes, charset: Any = None) -> str:
    """Bytes in the declared charset to text; never raises.

    An unknown charset decodes as UTF-8 with replacement characters; bytes that do
    not fit a known one fall back to replacement too, so a message is never lost to
    a bad label.
    """
    label = _label(charset)
    codec, ascii_safe = _codec(label) if label else (None, True)
    if ascii_safe and data.isascii():
        return data.decode("ascii")
    if label in _UNDECLARED or (codec is None and not label):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace")
    if codec is None:
        return data.decode("utf-8", "replace")
    try:
        return data.decode(codec)
    except UnicodeError:
        if codec != "utf-8" and label not in ("utf-8", "utf8"):
            try:  # a mislabelled UTF-8 message is common
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        try:
            return data.decode(codec, "replace")
        except UnicodeError:  # a codec that cannot even replace (undefined)
            return data.decode("utf-8", "replace")


# -- headers ---------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NEWLINES = re.compile(r"[\r\n]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[qQbB]\?[^?\s]*\?=")
_MSGID = re.compile(r"<([^<>\s]+)>")
_SIMPLE_ADDR = re.compile(
    r'\s*(?:"?([^"<>,;:@]*?)"?\s*)?<\s*([^<>\s,;]+)\s*>\s*|\s*([^\s<>",;]+@[^\s<>",;]+)\s*'
)


def _unfold(value: str) -> str:
    return _NEWLINES.sub("", _FOLD.sub("", value)) if "\n" in value else value


def _from_8bit(value: str, fallback_charset: str) -> str:
    """Header text holding raw 8-bit bytes (the parser keeps them as surrogates)."""
    raw = value.encode("utf-8", "surrogateescape")  # already-decoded text stays UTF-8
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(raw, fallback_charset or "cp1252")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, dropping the space between adjacent ones."""
    if "=?" not in value:
        return value
    try:
        parts = decode_header(value)
    except (HeaderParseError, ValueError, AssertionError):
        return value  # undecodable base64 in a word: keep the text as written
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            out.append(chunk.decode("raw-unicode-escape", "replace"))
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out)


def header_text(value: Any, fallback_charset: str = "") -> str:
    """A raw header value as one line of display text."""
    if value is None:
        return ""
    value = str(value)
    if not value.isascii():
        value = _from_8bit(value, fallback_charset)
    return clean_line(decode_words(_unfold(value)))


def _headers(msg: Message) -> dict[str, str]:
    """Raw header values by lower-cased name; the first of duplicates wins."""
    out: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key not in out:
            out[key] = value if isinstance(value, str) else str(value)
    return out


def _address_text(value: str, fallback_charset: str) -> str:
    """An address header as text, escape sequences gone before parsing (an OSC
    sequence's ``;`` would otherwise end the address list early)."""
    if not value.isascii():
        value = _from_8bit(value, fallback_charset)
    return clean_line(_unfold(value))


def parse_addresses(value: str | None, fallback_charset: str = "") -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header.

    Encoded words are set aside before the address parser sees them, so a decoded
    comma ("Smith, John") cannot split one address into two.
    """
    if not value:
        return []
    text = _address_text(value, fallback_charset)
    simple = _SIMPLE_ADDR.fullmatch(text)
    if simple:
        name, bracketed, bare = simple.groups()
        address = (bracketed or bare or "").strip().lower()
        return [(clean_line(decode_words(name or "")), clean_line(address))] if address else []
    words: list[str] = []
    if "=?" in text:

        def stash(match: re.Match[str]) -> str:
            words.append(match.group(0))
            return f" deskterm{len(words) - 1}word "

        text = _ENCODED_WORD.sub(stash, text)
    pairs = []
    for name, address in getaddresses([text]):
        if words and "deskterm" in name:
            name = re.sub(r"deskterm(\d+)word", lambda m: words[int(m.group(1))], name)
            name = re.sub(r"(\?=)\s+(=\?)", r"\1 \2", name.strip())
        address = clean_line(address).lower()
        if address:
            pairs.append((clean_line(decode_words(name)), address))
    return pairs


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return f"<{match.group(1)[:900]}>"
    token = value.strip().split()
    return f"<{token[0].strip('<>')[:900]}>" if token and token[0].strip("<>") else None


def _references(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    ids = [f"<{m[:900]}>" for m in _MSGID.findall(value)]
    return tuple(dict.fromkeys(ids[-MAX_REFERENCES:]))


def parse_date(value: str | None) -> datetime | None:
    """An RFC 5322 date to aware UTC, or None when it is missing or unusable."""
    if not value:
        return None
    try:
        parsed = parsedate_tz(_unfold(value))
    except (ValueError, TypeError, IndexError):
        return None
    if parsed is None:
        return None
    try:
        stamp = datetime(*parsed[:6], tzinfo=UTC)
    except (ValueError, TypeError, OverflowError):
        return None
    offset = parsed[9] or 0
    if not 1970 <= stamp.year <= 2200 or abs(offset) > 24 * 3600:
        return None
    return stamp - timedelta(seconds=offset)


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


class _Entity:
    """One MIME entity: its headers (in a compat32 ``Message``) and its raw body bytes.

    Bodies are never walked line by line: they are split on their boundaries with
    ``bytes.find``, which is what makes this path fast (the ``email`` feed parser's
    line-by-line walk over a body is most of its cost).
    """

    __slots__ = ("_params", "body", "msg")

    def __init__(self, data: bytes) -> None:
        if data.startswith((b"\n", b"\r\n")):
            head, body = b"", data.split(b"\n", 1)[1]
        else:
            blank = _BLANK_LINE.search(data)
            head, body = (data[: blank.start()], data[blank.end() :]) if blank else (data, b"")
        self.msg, leftover = parse_header_block(head)
        if leftover:
            body = leftover + b"\n" + body
        self.body = body
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

    def decoded(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone."""
        cte = str(self.msg.get("content-transfer-encoding", "")).strip().lower()
        if cte == "base64":
            return _base64(self.body)
        if cte == "quoted-printable":
            return binascii.a2b_qp(self.body)
        return self.body

    def base64_size(self) -> int | None:
        """The decoded size of a base64 body, counted without decoding it (a large
        attachment that is not kept costs no memory); None for other encodings."""
        cte = str(self.msg.get("content-transfer-encoding", "")).strip().lower()
        if cte != "base64":
            return None
        body = self.body
        chars = len(body) - sum(body.count(c) for c in (b"\n", b"\r", b" ", b"\t"))
        padding = body.rstrip()[-2:].count(b"=")
        return max(0, chars * 3 // 4 - padding)

    def parts(self) -> list[bytes] | None:
        """The raw parts of a multipart body; None when its boundary never appears."""
        boundary = self.param("boundary")
        if isinstance(boundary, tuple):
            boundary = collapse_rfc2231_value(boundary)
        if not isinstance(boundary, str) or not boundary:
            return None
        return split_multipart(self.body, boundary.encode("ascii", "surrogateescape"))


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


def split_multipart(body: bytes, boundary: bytes) -> list[bytes] | None:
    """The parts between ``--boundary`` lines (RFC 2046 §5.1.1).

    A delimiter only counts at the start of a line and when followed by the end of
    the line, padding or ``--``, so an inner boundary that is a prefix of an outer
    one does not split it. A missing close delimiter ends the last part at the end.
    """
    delimiter = b"--" + boundary
    starts: list[tuple[int, int, bool]] = []  # (line start, line end, is close)
    pos = 0
    size = len(body)
    while True:
        i = body.find(delimiter, pos)
        if i < 0:
            break
        after = i + len(delimiter)
        pos = after
        if i and body[i - 1] != 0x0A:
            continue
        close = body.startswith(b"--", after)
        rest = after + 2 if close else after
        if rest < size and body[rest] not in b" \t\r\n":
            continue
        eol = body.find(b"\n", rest)
        starts.append((i, size if eol < 0 else eol + 1, close))
        if close:
            break
    if not starts:
        return None
    parts = []
    for (_, begin, _close), (end, _, _) in itertools.pairwise(starts):
        stop = end - 1 if end else 0  # the line break before a delimiter belongs to it
        if stop and body[stop - 1] == 0x0D:
            stop -= 1
        parts.append(body[begin:stop])
    if not starts[-1][2] and starts[-1][1] < size:
        parts.append(body[starts[-1][1] :])
    return parts


class _Collector:
    """Walks the MIME tree once, gathering text and attachments."""

    def __init__(self, options: ParseOptions, fallback_charset: str) -> None:
        self.options = options
        self.fallback_charset = fallback_charset
        self.texts: list[str] = []
        self.attachments: list[AttachmentRecord] = []
        self.parts = 0

    def walk(self, entity: _Entity, depth: int = 0) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS or depth > MAX_DEPTH:
            return
        ctype = entity.content_type
        maintype = ctype.split("/", 1)[0]
        if maintype == "multipart":
            parts = entity.parts()
            if parts is None:  # the boundary never appears: keep the raw text
                self._add_text(self.text_of(entity, "text/plain"))
            elif ctype == "multipart/alternative":
                self._alternative([_Entity(p) for p in parts], depth)
            else:
                for part in parts:
                    self.walk(_Entity(part), depth + 1)
        elif ctype == "message/rfc822" and not self._is_attachment(entity):
            self._forwarded(_Entity(entity.decoded()), depth)
        elif ctype in ("text/plain", "text/html") and not self._is_attachment(entity):
            self._add_text(self.text_of(entity, ctype))
        else:
            self._attachment(entity, ctype)

    def _add_text(self, text: str) -> None:
        if text.strip():
            self.texts.append(text)

    @staticmethod
    def _is_attachment(entity: _Entity) -> bool:
        """Declared an attachment, or named like a file (a named inline text part is a
        file the sender attached, not the message)."""
        disposition = str(entity.msg.get("content-disposition", ""))
        if disposition.split(";", 1)[0].strip().lower() == "attachment":
            return True
        return "name" in disposition.lower() or entity.param("name") is not None

    def text_of(self, entity: _Entity, ctype: str) -> str:
        """A leaf part's text: decoded transfer encoding and charset, HTML converted."""
        text = decode_bytes(entity.decoded(), entity.param("charset") or self.fallback_charset)
        if text.startswith("\ufeff"):
            text = text[1:]
        if ctype == "text/html":
            return html_to_text(text)
        return clean_text(text)

    def _alternative(self, entities: list[_Entity], depth: int) -> None:
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

    def _forwarded(self, inner: _Entity, depth: int) -> None:
        headers = _headers(inner.msg)
        lines = ["---------- Forwarded message ----------"]
        for name in ("from", "date", "subject", "to"):
            if headers.get(name):
                lines.append(f"{name.title()}: {header_text(headers[name], self.fallback_charset)}")
        charset = _label(inner.param("charset")) or self.fallback_charset
        nested = _Collector(self.options, charset)
        nested.parts = self.parts
        nested.walk(inner, depth + 1)
        self.parts = nested.parts
        self.texts.append("\n".join(lines) + "\n\n" + "\n\n".join(nested.texts))
        self.attachments.extend(nested.attachments)

    def _attachment(self, entity: _Entity, ctype: str) -> None:
        raw_name: Any = entity.msg.get_filename()
        name = header_text(raw_name, self.fallback_charset) if raw_name else ""
        if not name:
            name = _default_name(ctype, len(self.attachments) + 1)
        size = entity.base64_size()
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


def raw_key(data: bytes) -> str:
    """A stable key for a message's bytes, blind to CRLF versus LF line endings."""
    return "mail:" + hashlib.sha1(data.replace(b"\r\n", b"\n").rstrip()).hexdigest()


def parse_message(
    data: bytes,
    *,
    source_key: str | None = None,
    raw_ref: str | None = None,
    fallback_at: datetime | None = None,
    fallback_source: str = "import",
    options: ParseOptions | None = None,
) -> InboundRecord:
    """Parse one message.

    ``source_key`` defaults to a hash of the bytes (so the same file imported twice is
    one message); ``fallback_at``/``fallback_source`` (IMAP INTERNALDATE, file time)
    stand in for a missing or broken Date header and are recorded as ``date_source``.
    """
    options = options or ParseOptions()
    if not data.strip():
        raise MailError("empty message")
    entity = _Entity(data)
    headers = _headers(entity.msg)
    if not headers:
        raise MailError("no mail headers")
    charset = _label(entity.param("charset")) if "content-type" in headers else ""
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
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS] + TRUNCATED
    record = InboundRecord(
        source_key=source_key or raw_key(data),
        channel="email",
        sent_at=sent_at,
        author=Party("email", address[:320], display[:200]),
        body=body,
        subject=header_text(headers.get("subject"), charset),
        message_id=_message_id(headers.get("message-id")),
        in_reply_to=_message_id(headers.get("in-reply-to")),
        references=_references(headers.get("references")),
        recipients=recipients,
        attachments=tuple(collector.attachments),
        date_source=date_source,
        raw_ref=raw_ref,
    )
    record.content_hash = content_hash(record)  # here, in a worker, not in the writer
    return record
