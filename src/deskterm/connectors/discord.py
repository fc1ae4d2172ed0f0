"""Discord channels exported by DiscordChatExporter as JSON.

One file per channel (or thread, or DM): ``guild``, ``channel`` and ``messages``, each
message with ``id``, ``type``, ``timestamp`` (ISO 8601 with offset), ``content``,
``author`` (``id``, ``name``, ``nickname``, ``isBot``), ``attachments``, ``embeds``
and ``mentions``. Only what people wrote is kept (``Default``, ``Reply`` and slash
command results); joins, pins, calls and renames are skipped. Bots' messages are kept
as notes. Raw mentions (``<@123>``, ``<#456>``, ``<:emoji:789>``) are rendered as text.

The file is read as a stream (see :mod:`deskterm.connectors.jsonstream`): bounded
memory for any size, and a file that breaks halfway imports every message before
the break plus one failure that says where it broke.

A message nested deeper than :data:`~deskterm.connectors.chatbase.MAX_NESTING`
levels or holding a lone surrogate escape (``\\ud800``) is a recorded failure; the
messages around it are imported.

Keys: ``discord:<channel id>:<message id>``; a message without an id is keyed by a
digest of its timestamp as written, author and text, numbered by occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from deskterm.connectors.records import (
    AttachmentRecord,
    InboundRecord,
    Item,
    ParseError,
    ParseFailure,
    Party,
)
from deskterm.textsafe import clean_line, clean_text

CHANNEL = "discord"
_KEEP = {"Default", "Reply", "ChatInputCommand", "ContextMenuCommand", "ThreadStarterMessage"}
_HEAD = frozenset({"guild", "channel"})
_MENTION = re.compile(r"<(@!?|@&|#)(\d+)>|<a?(:\w+:)\d+>")


class DiscordExport:
    """One DiscordChatExporter JSON file; opening it reads only as far as its messages."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise ConnectorError(f"{path} does not exist.")
        head = self._read_head()
        try:
            require_depth(head)
        except ParseError as exc:
            raise ConnectorError(f"{path}: its guild or channel is {exc}.") from exc
        channel, guild = head.get("channel"), head.get("guild")
        if not isinstance(channel, dict) or "messages" not in head:
            raise ConnectorError(
                f"{path} is not a DiscordChatExporter JSON export (no channel and messages)."
            )
        self.channel: dict[str, Any] = channel
        self.guild: dict[str, Any] = guild if isinstance(guild, dict) else {}
        self.channel_id = mend(str(self.channel.get("id") or path.stem))
        name = mend(clean_line(str(self.channel.get("name") or self.channel_id)))
        server = mend(clean_line(str(self.guild.get("name") or "")))
        if str(self.channel.get("type", "")).startswith("Direct"):
            self.title = f"Discord DM: {name}"
        else:
            self.title = f"Discord {server + ' ' if server else ''}#{name}"

    def _read_head(self) -> dict[str, Any]:
        """The top-level ``guild`` and ``channel``, and ``messages`` if it is an array.

        DiscordChatExporter writes both before the messages, so reading stops there;
        a file that has them after its messages is read to its end to find them.
        """
        head: dict[str, Any] = {}
        value_of: Any = None  # the builder of guild or channel
        with self.path.open("rb") as raw:
            reader = Utf8Reader(raw)
            stream = events(reader)
            try:
                if next(stream)[1] != "start_map":
                    return head
                for prefix, event, value in stream:
                    if value_of is not None:
                        value_of.event(event, value)
                        if prefix in _HEAD and (event == "end_map" or event == "end_array"):
                            head[prefix] = value_of.value
                            value_of = None
                    elif prefix in _HEAD:
                        if event == "start_map" or event == "start_array":
                            value_of = builder()
                            value_of.event(event, value)
                        else:
                            head[prefix] = value
                    elif prefix == "messages" and event == "start_array":
                        head["messages"] = True
                        if head.keys() >= _HEAD:
                            break
            except JSONError as exc:
                if "messages" in head and isinstance(head.get("channel"), dict):
                    return head  # the break is recorded when the messages are read
                raise ConnectorError(
                    f"{self.path} is not valid JSON or ends before its messages "
                    f"({break_reason(exc, reader)})."
                ) from exc
        return head

    def items(self) -> Iterator[Item]:
        read = 0  # messages met so far, readable or not
        occurrences = Occurrences()
        with self.path.open("rb") as raw:
            reader = Utf8Reader(raw)
            try:
                for message in items(reader, "messages.item"):
                    read += 1
                    try:
                        require_depth(message)
                        record = self._record(message, occurrences)
                        if record is not None:
                            require_text(record)
                    except ParseError as exc:
                        yield ParseFailure(str(self.path), f"message {read - 1}", str(exc))
                        continue
                    except (KeyError, TypeError, ValueError, AttributeError) as exc:
                        reason = f"unreadable message: {exc}"
                        yield ParseFailure(str(self.path), f"message {read - 1}", reason)
                        continue
                    if record is not None:
                        yield record
            except JSONError as exc:
                where = f"after message {read - 1}" if read else "before the first message"
                yield ParseFailure(str(self.path), where, break_reason(exc, reader))

    def _record(self, message: Any, occurrences: Occurrences) -> InboundRecord | None:
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
        message_id = message.get("id")
        if message_id in (None, ""):
            stamp = str(message["timestamp"])  # as written: the key survives a re-export
            what = f"{author_id}\x1f{body}"
            n = occurrences.next(stamp, what)
            message_id = f"h{digest(stamp, what, str(n), size=16)}"
        else:
            message_id = clean_line(str(message_id))[:100]
        record = InboundRecord(
            source_key=f"{CHANNEL}:{self.channel_id}:{message_id}",
            channel=CHANNEL,
            sent_at=sent.astimezone(UTC),
            author=Party(CHANNEL, author_id, name),
            body=body,
            direction="note" if author.get("isBot") else None,
            conversation=f"{CHANNEL}:{self.channel_id}",
            conversation_title=self.title,
            attachments=tuple(attachments),
            date_source="export",
            raw_ref=f"{self.path}#{message_id}",
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
