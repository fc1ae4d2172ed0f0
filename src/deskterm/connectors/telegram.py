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

Keys: ``telegram:<chat id>:<message id>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from deskterm.connectors.archive import FolderMedia
from deskterm.connectors.chatbase import ConnectorError, content_type
from deskterm.connectors.phones import to_e164
from deskterm.connectors.records import AttachmentRecord, InboundRecord, Item, ParseFailure, Party
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


class TelegramExport:
    """A ``result.json``, parsed and checked when opened."""

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
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig", "replace"))
        except json.JSONDecodeError as exc:
            raise ConnectorError(f"{path} is not valid JSON ({exc}).") from exc
        if not isinstance(data, dict):
            raise ConnectorError(f"{path} is not a Telegram export (expected a JSON object).")
        self.media = FolderMedia(path.parent)
        self.chats = self._chats(data)
        if not self.chats:
            raise ConnectorError(
                f"{path} is not a Telegram Desktop export: no messages, chats.list or "
                "left_chats.list in it."
            )
        self.phones = self._contact_phones(data)

    @staticmethod
    def _chats(data: dict[str, Any]) -> list[dict[str, Any]]:
        if isinstance(data.get("messages"), list):
            return [data]
        chats: list[dict[str, Any]] = []
        for key in ("chats", "left_chats"):
            section = data.get(key)
            if isinstance(section, dict) and isinstance(section.get("list"), list):
                chats.extend(
                    c
                    for c in section["list"]
                    if isinstance(c, dict)
                    and isinstance(c.get("messages"), list)
                    and c.get("type") != "saved_messages"
                )
        return chats

    def _contact_phones(self, data: dict[str, Any]) -> dict[str, str]:
        """Contact name → E.164 phone, from a whole-account export's contact list."""
        contacts = data.get("contacts")
        entries = contacts.get("list") if isinstance(contacts, dict) else None
        phones: dict[str, str] = {}
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            name = " ".join(
                str(entry.get(k) or "").strip() for k in ("first_name", "last_name")
            ).strip()
            phone = to_e164(str(entry.get("phone_number") or ""), self.region)
            if name and phone:
                phones[name.casefold()] = phone
        return phones

    def items(self) -> Iterator[Item]:
        for chat in self.chats:
            chat_id = str(chat.get("id", chat.get("name", "chat")))
            name = clean_line(str(chat.get("name") or f"chat {chat_id}"))
            linked_phone = (
                self.phones.get(name.casefold()) if chat.get("type") == "personal_chat" else None
            )
            for index, message in enumerate(chat["messages"]):
                where = f"chat {chat_id} message {index}"
                try:
                    record = self._record(chat_id, name, linked_phone, message)
                except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
                    yield ParseFailure(str(self.path), where, f"unreadable message: {exc}")
                    continue
                if record is not None:
                    yield record

    def _when(self, message: dict[str, Any]) -> datetime:
        unix = message.get("date_unixtime")
        if unix not in (None, ""):
            return datetime.fromtimestamp(int(unix), UTC)
        local = datetime.fromisoformat(str(message["date"]))
        if local.tzinfo is None:
            local = local.replace(tzinfo=self.tz)
        return local.astimezone(UTC)

    def _record(
        self, chat_id: str, chat_name: str, linked_phone: str | None, message: Any
    ) -> InboundRecord | None:
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
        if linked_phone and name.casefold() == chat_name.casefold():
            links = (("phone", linked_phone),)
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
        record = InboundRecord(
            source_key=f"{CHANNEL}:{chat_id}:{message['id']}",
            channel=CHANNEL,
            sent_at=sent,
            author=party,
            body=body,
            conversation=f"{CHANNEL}:{chat_id}",
            conversation_title=f"Telegram: {chat_name}",
            attachments=tuple(attachments),
            date_source="export",
            raw_ref=f"{self.path}#{chat_id}/{message['id']}",
        )
        record.extra.update(stored)
        if message.get("edited") or message.get("edited_unixtime"):
            record.extra["edited"] = "1"
        return record
