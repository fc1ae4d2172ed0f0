"""Mail's bytes to text: charsets and headers, decoded by hand.

The ``compat32`` path with explicit decoding is about five times faster than the
``policy.default`` objects, more forgiving, and correct where the new policy is not:
two adjacent RFC 2047 words in a display name decode without a stray space (CPython
issue 128110). Nothing here raises for bad input: an unknown charset decodes with
replacement characters, a broken date is ``None``.
"""

from __future__ import annotations

import codecs
import functools
import re
from datetime import UTC, datetime, timedelta
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_tz
from typing import Any

from deskterm.textsafe import clean_line

MAX_REFERENCES = 50  # References header entries kept (the newest)

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


def charset_label(charset: Any) -> str:
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
    label = charset_label(charset)
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


def headers_of(msg: Message) -> dict[str, str]:
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


def message_id_of(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return f"<{match.group(1)[:900]}>"
    token = value.strip().split()
    return f"<{token[0].strip('<>')[:900]}>" if token and token[0].strip("<>") else None


def references_of(value: str | None) -> tuple[str, ...]:
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
