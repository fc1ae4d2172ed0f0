"""The generic chat format: one JSON object per line, documented in ``docs/jsonl.md``.

It exists so that any live-chat tool can be bridged by a short script. Required:
``conversation``, ``timestamp``, ``text`` and one of ``author``/``author_id``;
optional: ``id``, ``direction``, ``channel``, ``author_kind``, ``author_email``,
``author_phone``, ``organization``, ``conversation_title``, ``attachments``.
A line that is not valid JSON, misses a field, nests deeper than
:data:`~deskterm.connectors.chatbase.MAX_NESTING` levels or holds a lone surrogate
escape (``\\ud800``) is a recorded failure with its line number; the rest of the
file is imported.

Keys: ``jsonl:<channel>:<conversation>:<id>``, or, without an ``id``, a digest of
the time, author and text numbered by occurrence (so a file with lines appended
imports only the new lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from deskterm.connectors.archive import text_stream
from deskterm.connectors.chatbase import (
    ConnectorError,
    Occurrences,
    content_type,
    digest,
    loads,
    require_depth,
    require_text,
)
from deskterm.connectors.phones import looks_like_phone, to_e164
from deskterm.connectors.records import (
    AttachmentRecord,
    InboundRecord,
    Item,
    ParseError,
    ParseFailure,
    Party,
)
from deskterm.textsafe import clean_line, clean_text

DIRECTIONS = ("inbound", "outbound", "note")
_WORD = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_DIGITS = re.compile(r"\D")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_time(value: Any, tz: tzinfo) -> datetime:
    """ISO 8601 (offset or ``Z``; without one, ``tz``) or seconds/milliseconds since 1970."""
    if isinstance(value, bool):
        raise ParseError("timestamp must be a string or a number")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ParseError(f"timestamp {value!r} is out of range") from exc
    if not isinstance(value, str) or not value.strip():
        raise ParseError("timestamp is missing")
    text = value.strip()
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise ParseError(f"timestamp {text[:40]!r} is not ISO 8601") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    try:
        return when.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ParseError(f"timestamp {text[:40]!r} is out of range") from exc


def _load(line: str) -> dict[str, Any]:
    """One line as a JSON object, or :class:`ParseError` saying why not."""
    data = loads(line)
    if not isinstance(data, dict):
        raise ParseError("the line is not a JSON object")
    require_depth(data)
    return data


class JsonlExport:
    """A JSON Lines file in the generic format."""

    def __init__(self, path: Path, *, tz: tzinfo = UTC, region: str = "US") -> None:
        if not path.is_file():
            raise ConnectorError(f"{path} does not exist.")
        self.path = path
        self.tz = tz
        self.region = region

    def items(self) -> Iterator[Item]:
        occurrences = Occurrences()
        with text_stream(self.path.open("rb")) as stream:
            for lineno, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    data = _load(line)
                    yield require_text(self._record(data, lineno, occurrences))
                except ParseError as exc:
                    yield ParseFailure(str(self.path), f"line {lineno}", str(exc))

    def _party(self, data: dict[str, Any], channel: str) -> Party:
        name = clean_line(str(data.get("author") or ""))
        raw_id = data.get("author_id")
        ident = clean_line(str(raw_id)) if raw_id not in (None, "") else ""
        if not ident and not name:
            raise ParseError("author or author_id is required")
        kind = str(data.get("author_kind") or "").strip().lower()
        value = ident or f"name:{name}"
        if kind and not _WORD.match(kind):
            raise ParseError(f"author_kind {kind!r} must be a short lower-case word")
        if kind == "email" or (not kind and _EMAIL.match(ident)):
            kind, value = "email", ident.lower()
        elif kind == "phone" or (not kind and ident and looks_like_phone(ident)):
            phone = to_e164(ident, self.region)
            if phone is None:
                raise ParseError(f"author_id {ident!r} is not a phone number")
            kind, value = "phone", phone
        kind = kind or channel
        links: list[tuple[str, str]] = []
        email = str(data.get("author_email") or "").strip().lower()
        if email:
            if not _EMAIL.match(email):
                raise ParseError(f"author_email {email!r} is not an email address")
            links.append(("email", email))
        if data.get("author_phone"):
            phone = to_e164(str(data["author_phone"]), self.region)
            if phone is None:
                raise ParseError(f"author_phone {data['author_phone']!r} is not a phone number")
            links.append(("phone", phone))
        links = [link for link in links if link != (kind, value)]
        organization = clean_line(str(data.get("organization") or "")) or None
        return Party(kind, value[:320], name or ident, tuple(links), organization)

    def _record(self, data: dict[str, Any], lineno: int, occurrences: Occurrences) -> InboundRecord:
        conversation = data.get("conversation")
        if conversation in (None, "") or isinstance(conversation, dict | list | bool):
            raise ParseError("conversation is required (a string or number)")
        conversation = clean_line(str(conversation))
        channel = str(data.get("channel") or "chat").strip().lower()
        if not _WORD.match(channel):
            raise ParseError(f"channel {channel!r} must be a short lower-case word")
        sent = parse_time(data.get("timestamp"), self.tz)
        text = data.get("text", "")
        if not isinstance(text, str):
            raise ParseError("text must be a string")
        direction = data.get("direction")
        if direction is not None and direction not in DIRECTIONS:
            raise ParseError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        author = self._party(data, channel)
        attachments = self._attachments(data.get("attachments"))
        body = clean_text(text).strip()
        if not body and not attachments:
            raise ParseError("text is empty and there are no attachments")
        if not body:
            body = "\n".join(f"[file: {a.filename}]" for a in attachments)
        message_id = data.get("id")
        if message_id not in (None, ""):
            suffix = clean_line(str(message_id))
        else:
            # The timestamp as written (not as converted): keys survive a different --tz.
            stamp = _DIGITS.sub("", str(data.get("timestamp")))[:20]
            what = f"{author.kind}:{author.value}\x1f{body}"
            suffix = f"{stamp}:{digest(what, str(occurrences.next(stamp, what)), size=12)}"
        title = clean_line(str(data.get("conversation_title") or data.get("subject") or ""))
        return InboundRecord(
            source_key=f"jsonl:{channel}:{conversation}:{suffix}"[:500],
            channel=channel,
            sent_at=sent,
            author=author,
            body=body,
            direction=direction,
            conversation=f"jsonl:{channel}:{conversation}"[:250],
            conversation_title=title,
            attachments=attachments,
            date_source="export",
            raw_ref=f"{self.path}:{lineno}",
        )

    @staticmethod
    def _attachments(value: Any) -> tuple[AttachmentRecord, ...]:
        if value in (None, []):
            return ()
        if not isinstance(value, list):
            raise ParseError("attachments must be a list")
        found = []
        for item in value:
            if not isinstance(item, dict) or not item.get("filename"):
                raise ParseError("each attachment needs a filename")
            name = clean_line(str(item["filename"]))
            size = item.get("size", 0)
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ParseError("attachment size must be a whole number of bytes")
            mime = str(item.get("content_type") or content_type(name))
            found.append(AttachmentRecord(name, mime, size))
        return tuple(found)
