"""Telegram Desktop JSON exports (``result.json``).

Two shapes: one chat (``{"name", "type", "id", "messages": [...]}``) or the whole
account (chats nested under ``chats.list`` and ``left_chats.list``, contacts under
``contacts.list``). A message's ``text`` is a string or a list of strings and entity
objects (``{"type": "bold", "text": …}``); times come from ``date_unixtime`` when it
is there and from the local ``date`` otherwise. Service messages (calls, joins, pins)
are skipped.

Senders become ``telegram`` identities by their numeric id (``from_id``
``"user123"`` → ``123``). In a whole-account export, a personal chat whose name is a
contact's name links that sender to the contact's phone number, so the person who
also writes on WhatsApp is one customer.

The file is read as a stream (see :mod:`deskterm.connectors.jsonstream`), so a
multi-gigabyte export imports in bounded memory, and an export that breaks halfway
imports every message before the break plus one failure that says where it broke.

A message nested deeper than :data:`~deskterm.connectors.chatbase.MAX_NESTING`
levels or holding a lone surrogate escape (``\\ud800``) is a recorded failure; the
messages around it are imported.

Keys: ``telegram:<chat id>:<message id>``; a message without an id (a hand-edited or
converted export) is keyed by a digest of its date as written, sender and text,
numbered by occurrence, so a re-import finds it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from deskterm.connectors.archive import FolderMedia
from deskterm.connectors.chatbase import (
    ConnectorError,
    Occurrences,
    content_type,
    digest,
    mend,
    require_depth,
    require_text,
)
from deskterm.connectors.jsonstream import (
    JSONError,
    Utf8Reader,
    break_reason,
    builder,
    events,
    items,
)
from deskterm.connectors.phones import to_e164
from deskterm.connectors.records import (
    AttachmentRecord,
    InboundRecord,
    Item,
    ParseError,
    ParseFailure,
    Party,
)
from deskterm.textsafe import clean_line, clean_text

CHANNEL = "telegram"
_NOT_INCLUDED = "(File not included"


def _sender_id(value: Any) -> str:
    """``"user123"`` → ``"123"``; channels keep their prefix (``"channel123"``)."""
    text = str(value)
    return text[4:] if text.startswith("user") and text[4:].isdigit() else text


def render_text(text: Any) -> str:
    """A message's ``text`` (string or list of strings and entities) as plain text."""
    if isinstance(text, str):
        return text
    if not isinstance(text, list):
        return ""
    out: list[str] = []
    for part in text:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict):
            piece = str(part.get("text", ""))
            href = part.get("href")
            if part.get("type") == "text_link" and href and href != piece:
                piece = f"{piece} ({href})"
            out.append(piece)
    return "".join(out)


_HEADER = ("name", "type", "id")
_SECTIONS = ("chats.list.item", "left_chats.list.item")
_MARKERS = {
    ("messages", "start_array"): "chat",
    ("chats.list", "start_array"): "account",
    ("left_chats.list", "start_array"): "account",
}
_SCALARS = frozenset({"string", "number", "boolean", "null"})
_NOWHERE = "\x00"  # a prefix no event has


@dataclass
class _Chat:
    """The chat whose messages are being read, and how far in they are."""

    id: str
    name: str
    phone: str | None
    read: int = 0  # messages met so far, readable or not
    occurrences: Occurrences = field(default_factory=Occurrences)  # for id-less keys

    def where_broken(self) -> str:
        if self.read == 0:
            return f"chat {self.id} before its first message"
        return f"chat {self.id} after message {self.read - 1}"


class TelegramExport:
    """A ``result.json``; opening it reads only as far as its first chat."""

    def __init__(
        self,
        path: Path,
        *,
        tz: tzinfo = UTC,
        region: str = "US",
        store_dir: Path | None = None,
        max_attachment: int | None = None,
    ) -> None:
        self.path = path
        self.tz = tz
        self.region = region
        self.store_dir = store_dir
        self.max_attachment = max_attachment
        if path.is_dir():
            path = path / "result.json"
            self.path = path
        if not path.is_file():
            raise ConnectorError(f"{path} does not exist.")
        self.media = FolderMedia(path.parent)
        self.header: dict[str, Any] = {}  # a single chat's name, type and id
        self._phones: dict[str, str] | None = None
        self._late: dict[tuple[str, int], dict[str, Any]] | None = None
        self.shape = self._read_head()

    def _read_head(self) -> str:
        """``"chat"`` or ``"account"``, from the events before the first messages.

        Contacts met on the way are kept: Telegram Desktop writes them before the
        chats, so the usual export needs no second pass for them.
        """
        contacts: list[Any] = []
        contact: Any = None
        with self.path.open("rb") as raw:
            reader = Utf8Reader(raw)
            stream = events(reader)
            try:
                if next(stream)[1] != "start_map":
                    raise ConnectorError(
                        f"{self.path} is not a Telegram export (expected a JSON object)."
                    )
                for prefix, event, value in stream:
                    shape = _MARKERS.get((prefix, event))
                    if shape is not None:
                        return shape
                    if contact is not None:
                        contact.event(event, value)
                        if prefix == "contacts.list.item" and event == "end_map":
                            contacts.append(contact.value)
                            contact = None
                    elif prefix == "contacts.list.item" and event == "start_map":
                        contact = builder()
                        contact.event(event, value)
                    elif prefix == "contacts" and event == "end_map":
                        self._phones = self._phone_book(contacts)
                    elif prefix in _HEADER and event in _SCALARS:
                        self.header[prefix] = value
            except JSONError as exc:
                raise ConnectorError(
                    f"{self.path} is not valid JSON or ends before its first chat "
                    f"({break_reason(exc, reader)})."
                ) from exc
        raise ConnectorError(
            f"{self.path} is not a Telegram Desktop export: no messages, chats.list or "
            "left_chats.list in it."
        )

    def _phone_book(self, entries: Iterable[Any]) -> dict[str, str]:
        """Contact name → E.164 phone, from a whole-account export's contact list."""
        phones: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            name = " ".join(
                str(entry.get(k) or "").strip() for k in ("first_name", "last_name")
            ).strip()
            phone = to_e164(str(entry.get("phone_number") or ""), self.region)
            if name and phone:
                phones[name.casefold()] = phone
        return phones

    @property
    def phones(self) -> dict[str, str]:
        """The contacts' phones; one more pass (in C) when they come after the chats."""
        if self._phones is None:
            entries: list[Any] = []
            # A break is the main pass's to record; the contacts before it still count.
            with self.path.open("rb") as raw, suppress(JSONError):
                for entry in items(Utf8Reader(raw), "contacts.list.item"):
                    entries.append(entry)
            self._phones = self._phone_book(entries)
        return self._phones

    def _late_headers(self, section: str, ordinal: int) -> dict[str, Any]:
        """A chat's name, type and id when they follow its messages (Telegram Desktop
        writes them first): one more pass over the file, done once."""
        if self._late is None:
            self._late = {}
            count = dict.fromkeys(_SECTIONS, -1)
            keys = {f"{s}.{k}": (s, k) for s in _SECTIONS for k in _HEADER}
            keys.update({k: ("", k) for k in _HEADER})
            # A break is the main pass's to record; the headers before it still count.
            with self.path.open("rb") as raw, suppress(JSONError):
                for prefix, event, value in events(Utf8Reader(raw)):
                    if event == "start_map" and prefix in count:
                        count[prefix] += 1
                    elif event in _SCALARS and prefix in keys:
                        where, key = keys[prefix]
                        slot = (where, count[where] if where else 0)
                        self._late.setdefault(slot, {})[key] = value
        return self._late.get((section, ordinal), {})

    def _chat(self, header: dict[str, Any], section: str, ordinal: int) -> _Chat | None:
        """The chat a run of messages belongs to; None for Saved Messages (skipped)."""
        if "id" not in header or "type" not in header:
            header = {**self._late_headers(section, ordinal), **header}
        if header.get("type") == "saved_messages":
            return None
        chat_id = mend(str(header.get("id", header.get("name", "chat"))))
        name = mend(clean_line(str(header.get("name") or f"chat {chat_id}")))
        phone = None
        if self.shape == "account" and header.get("type") == "personal_chat":
            phone = self.phones.get(name.casefold())
        return _Chat(chat_id, name, phone)

    def items(self) -> Iterator[Item]:
        with self.path.open("rb") as raw:
            reader = Utf8Reader(raw)
            if self.shape == "chat":
                yield from self._chat_items(reader)
            else:
                yield from self._account_items(reader)

    def _message(self, chat: _Chat, message: Any) -> Item | None:
        index = chat.read
        chat.read += 1
        where = f"chat {chat.id} message {index}"
        try:
            require_depth(message)
            record = self._record(chat, message)
            return record if record is None else require_text(record)
        except ParseError as exc:
            return ParseFailure(str(self.path), where, str(exc))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            return ParseFailure(str(self.path), where, f"unreadable message: {exc}")

    def _chat_items(self, reader: Utf8Reader) -> Iterator[Item]:
        """One chat: its messages built one at a time in C."""
        chat = self._chat(self.header, "", 0)
        if chat is None:
            return
        try:
            for message in items(reader, "messages.item"):
                item = self._message(chat, message)
                if item is not None:
                    yield item
        except JSONError as exc:
            yield ParseFailure(str(self.path), chat.where_broken(), break_reason(exc, reader))

    def _account_items(self, reader: Utf8Reader) -> Iterator[Item]:
        """The whole account: chats under ``chats.list`` and ``left_chats.list``.

        Events are followed one by one to know which chat a message is in; each
        message is built alone and dropped once turned into a record.
        """
        count = dict.fromkeys(_SECTIONS, -1)
        header_keys = {f"{s}.{k}": k for s in _SECTIONS for k in _HEADER}
        arrays = {f"{s}.messages": s for s in _SECTIONS}
        header: dict[str, Any] = {}
        chat: _Chat | None = None
        last = ""  # the last chat read to its end, for a break between chats
        inside = _NOWHERE  # the prefix of the current chat's messages
        message: Any = None  # the builder of the message being read
        try:
            for prefix, event, value in events(reader):
                if message is not None:
                    message.event(event, value)
                    if prefix == inside and (event == "end_map" or event == "end_array"):
                        assert chat is not None
                        item = self._message(chat, message.value)
                        message = None
                        if item is not None:
                            yield item
                elif prefix == inside:
                    assert chat is not None
                    if event == "start_map" or event == "start_array":
                        message = builder()
                        message.event(event, value)
                    else:  # a bare string or number where a message should be
                        item = self._message(chat, value)
                        if item is not None:
                            yield item
                elif event in _SCALARS:
                    if prefix in header_keys:
                        header[header_keys[prefix]] = value
                elif event == "start_map":
                    if prefix in count:
                        count[prefix] += 1
                        header = {}
                elif event == "start_array":
                    if prefix in arrays:
                        section = arrays[prefix]
                        chat = self._chat(header, section, count[section])
                        inside = f"{prefix}.item" if chat is not None else _NOWHERE
                elif event == "end_array" and prefix in arrays:
                    last = chat.id if chat is not None else last
                    chat = None
                    inside = _NOWHERE
        except JSONError as exc:
            if chat is not None:
                where = chat.where_broken()
            else:
                where = f"after chat {last}" if last else "before the first chat"
            yield ParseFailure(str(self.path), where, break_reason(exc, reader))

    def _when(self, message: dict[str, Any]) -> datetime:
        unix = message.get("date_unixtime")
        if unix not in (None, ""):
            return datetime.fromtimestamp(int(unix), UTC)
        local = datetime.fromisoformat(str(message["date"]))
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.tz)
        return local.astimezone(UTC)

    def _record(self, chat: _Chat, message: Any) -> InboundRecord | None:
        if not isinstance(message, dict):
            raise TypeError("not a JSON object")
        if message.get("type", "message") != "message":
            return None  # service: calls, joins, pins, title changes
        sent = self._when(message)
        sender = message.get("from_id")
        name = clean_line(str(message.get("from") or ""))
        if sender is None and not name:
            raise ValueError("no sender (from_id or from)")
        ident = _sender_id(sender) if sender is not None else f"name:{name}"
        links: tuple[tuple[str, str], ...] = ()
        if chat.phone and name.casefold() == chat.name.casefold():
            links = (("phone", chat.phone),)
        party = Party(CHANNEL, ident, name or ident, links)
        body = render_text(message.get("text"))
        poll = message.get("poll")
        if isinstance(poll, dict):
            answers = [
                f"- {a.get('text', '')} ({a.get('voters', 0)} votes)"
                for a in poll.get("answers") or []
                if isinstance(a, dict)
            ]
            body = "\n".join([f"Poll: {poll.get('question', '')}", *answers])
        attachments: list[AttachmentRecord] = []
        stored: dict[str, str] = {}
        for key in ("photo", "file"):
            ref = message.get(key)
            if not isinstance(ref, str) or not ref:
                continue
            if ref.startswith(_NOT_INCLUDED):
                filename = str(message.get("file_name") or key)
                attachments.append(AttachmentRecord(filename, content_type(filename)))
                continue
            filename = str(message.get("file_name") or ref.rsplit("/", 1)[-1])
            size = self.media.size_of(ref)
            if size is None:
                declared = message.get("file_size") or message.get("photo_file_size")
                size = declared if isinstance(declared, int) else 0
            elif self.store_dir is not None:
                path = self.media.store(ref, self.store_dir, self.max_attachment)
                if path is not None:
                    stored[f"stored:{len(attachments)}"] = str(path)
            mime = str(message.get("mime_type") or content_type(filename))
            attachments.append(AttachmentRecord(filename, mime, size))
        body = clean_text(body).strip()
        if not body and attachments:
            body = "\n".join(
                f"[{message.get('media_type', 'file')}: {a.filename}]" for a in attachments
            )
        if not body:
            return None
        message_id = message.get("id")
        if message_id in (None, ""):
            # The date as written, not as converted: the key survives a different --tz.
            stamp = str(message.get("date_unixtime") or message.get("date"))
            what = f"{ident}\x1f{body}"
            n = chat.occurrences.next(stamp, what)
            message_id = f"h{digest(stamp, what, str(n), size=16)}"
        else:
            message_id = clean_line(str(message_id))[:100]
        chat_id = chat.id
        record = InboundRecord(
            source_key=f"{CHANNEL}:{chat_id}:{message_id}",
            channel=CHANNEL,
            sent_at=sent,
            author=party,
            body=body,
            conversation=f"{CHANNEL}:{chat_id}",
            conversation_title=f"Telegram: {chat.name}",
            attachments=tuple(attachments),
            date_source="export",
            raw_ref=f"{self.path}#{chat_id}/{message_id}",
        )
        record.extra.update(stored)
        if message.get("edited") or message.get("edited_unixtime"):
            record.extra["edited"] = "1"
        return record
