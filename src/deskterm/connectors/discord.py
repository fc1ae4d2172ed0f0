"""Discord channels exported by DiscordChatExporter as JSON.

One file per channel (or thread, or DM): ``guild``, ``channel`` and ``messages``, each
message with ``id``, ``type``, ``timestamp`` (ISO 8601 with offset), ``content``,
``author`` (``id``, ``name``, ``nickname``, ``isBot``), ``attachments``, ``embeds``
and ``mentions``. Only what people wrote is kept (``Default``, ``Reply`` and slash
command results); joins, pins, calls and renames are skipped. Bots' messages are kept
as notes. Raw mentions (``<@123>``, ``<#456>``, ``<:emoji:789>``) are rendered as text.

Keys: ``discord:<channel id>:<message id>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskterm.connectors.chatbase import ConnectorError, content_type
from deskterm.connectors.records import AttachmentRecord, InboundRecord, Item, ParseFailure, Party
from deskterm.textsafe import clean_line, clean_text

CHANNEL = "discord"
_KEEP = {"Default", "Reply", "ChatInputCommand", "ContextMenuCommand", "ThreadStarterMessage"}
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>|<a?(:\w+:)\d+>")


class DiscordExport:
    """One DiscordChatExporter JSON file, parsed and checked when opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise ConnectorError(f"{path} does not exist.")
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig", "replace"))
        except json.JSONDecodeError as exc:
            raise ConnectorError(f"{path} is not valid JSON ({exc}).") from exc
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("channel"), dict)
            or not isinstance(data.get("messages"), list)
        ):
            raise ConnectorError(
                f"{path} is not a DiscordChatExporter JSON export (no channel and messages)."
            )
        self.channel: dict[str, Any] = data["channel"]
        guild_data = data.get("guild")
        self.guild: dict[str, Any] = guild_data if isinstance(guild_data, dict) else {}
        self.messages: list[Any] = data["messages"]
        self.channel_id = str(self.channel.get("id") or path.stem)
        name = clean_line(str(self.channel.get("name") or self.channel_id))
        guild = clean_line(str(self.guild.get("name") or ""))
        if str(self.channel.get("type", "")).startswith("Direct"):
            self.title = f"Discord DM: {name}"
        else:
            self.title = f"Discord {guild + ' ' if guild else ''}#{name}"

    def items(self) -> Iterator[Item]:
        for index, message in enumerate(self.messages):
            try:
                record = self._record(message)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                yield ParseFailure(str(self.path), f"message {index}", f"unreadable message: {exc}")
                continue
            if record is not None:
                yield record

    def _record(self, message: Any) -> InboundRecord | None:
        if not isinstance(message, dict):
            raise TypeError("not a JSON object")
        if str(message.get("type", "Default")) not in _KEEP:
            return None
        author = message["author"]
        author_id = str(author["id"])
        name = clean_line(str(author.get("nickname") or author.get("name") or author_id))
        sent = datetime.fromisoformat(str(message["timestamp"]).replace("Z", "+00:00"))
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        body = self._render(str(message.get("content") or ""), message)
        embeds = [
            "\n".join(str(e.get(k)) for k in ("title", "description") if e.get(k))
            for e in message.get("embeds") or []
            if isinstance(e, dict)
        ]
        if not body.strip() and any(embeds):
            body = "\n\n".join(e for e in embeds if e)
        attachments = [
            AttachmentRecord(
                clean_line(str(a.get("fileName") or "file")),
                content_type(str(a.get("fileName") or "")),
                a["fileSizeBytes"] if isinstance(a.get("fileSizeBytes"), int) else 0,
            )
            for a in message.get("attachments") or []
            if isinstance(a, dict)
        ]
        body = clean_text(body).strip()
        if not body and attachments:
            body = "\n".join(f"[file: {a.filename}]" for a in attachments)
        if not body:
            return None
        record = InboundRecord(
            source_key=f"{CHANNEL}:{self.channel_id}:{message['id']}",
            channel=CHANNEL,
            sent_at=sent.astimezone(UTC),
            author=Party(CHANNEL, author_id, name),
            body=body,
            direction="note" if author.get("isBot") else None,
            conversation=f"{CHANNEL}:{self.channel_id}",
            conversation_title=self.title,
            attachments=tuple(attachments),
            date_source="export",
            raw_ref=f"{self.path}#{message['id']}",
        )
        if message.get("timestampEdited"):
            record.extra["edited"] = "1"
        return record

    @staticmethod
    def _render(content: str, message: dict[str, Any]) -> str:
        if "<" not in content:
            return content
        names = {
            str(m.get("id")): str(m.get("nickname") or m.get("name") or m.get("id"))
            for m in message.get("mentions") or []
            if isinstance(m, dict)
        }

        def sub(m: re.Match[str]) -> str:
            if m[3]:
                return m[3]
            prefix = "#" if m[1] == "#" else "@"
            return prefix + names.get(m[2], m[2])

        return _MENTION.sub(sub, content)
