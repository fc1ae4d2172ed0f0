"""Slack workspace exports, as the zip Slack sends or the folder it unpacks to.

Layout: ``users.json``, ``channels.json`` and, when present, ``groups.json`` (private
channels), ``dms.json`` and ``mpims.json`` (group DMs, possibly empty); then one folder
per conversation (named after the channel, or the DM's id) holding one JSON list of
messages per day (``2024-01-31.json``).

* A thread (``thread_ts``) is its own conversation; other messages belong to their
  channel's conversation, which the pipeline cuts into sessions.
* User ids become ``slack`` identities named after the profile, linked to the
  profile's email and phone, so a Slack user who also mailed in is one customer.
* ``<@U123>`` mentions, ``<#C1|general>`` channels and ``<url|label>`` links are
  rendered as text; ``&lt;`` and friends are unescaped.
* Bot messages are kept as notes (they are neither customer nor agent); joins,
  topic changes and deleted (tombstone) messages are skipped; file shares record
  their files as attachments (2016-era ``file`` and current ``files``), and
  ``file_comment`` messages become the comment by its author.

Keys: ``slack:<channel id>:<ts>`` — Slack's own message identity.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from deskterm.connectors.archive import Archive, ArchiveLimits
from deskterm.connectors.chatbase import (
    ConnectorError,
    clean_body,
    content_type,
    loads,
    require_depth,
    require_text,
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
from deskterm.textsafe import clean_line

CHANNEL = "slack"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_LINK = re.compile(r"<([^<>|\s]+)(?:\|([^<>]*))?>")
_SKIP = {
    "channel_join", "channel_leave", "group_join", "group_leave", "channel_topic",
    "channel_purpose", "channel_name", "channel_archive", "channel_unarchive", "group_topic",
    "group_purpose", "group_name", "group_archive", "group_unarchive", "pinned_item",
    "unpinned_item", "tombstone", "reminder_add", "reminder_delete", "bot_add", "bot_remove",
    "bot_enable", "bot_disable", "sh_room_created", "channel_convert_to_private",
    "channel_convert_to_public", "message_deleted", "joiner_notification",
    "channel_posting_permissions", "huddle_thread", "app_conversation_leave",
}  # fmt: skip
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


@dataclass
class _User:
    party: Party
    name: str
    bot: bool


@dataclass
class _Conversation:
    id: str
    name: str
    folder: str
    kind: str  # channel | group | dm | mpim
    members: list[str] = field(default_factory=list)


class _Tree:
    """The export's files, from a folder or a zip, by path relative to its root."""

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        self.label = path.name
        self.archive: Archive | None = None
        self.folder: Path | None = None
        if path.is_dir():
            self.folder = path
            names = [p.relative_to(path).as_posix() for p in path.rglob("*.json") if p.is_file()]
        elif zipfile.is_zipfile(path):
            self.archive = Archive(path, path.name, limits)
            names = [n.replace("\\", "/") for n in self.archive.names()]
        elif path.exists():
            raise ConnectorError(f"{path} is neither a Slack export folder nor a zip file.")
        else:
            raise ConnectorError(f"{path} does not exist.")
        roots = sorted(
            (PurePosixPath(n).parent for n in names if PurePosixPath(n).name == "users.json"),
            key=lambda p: len(p.parts),
        )
        self.root = roots[0] if roots else PurePosixPath(".")
        self._names: dict[str, str] = {}
        for name in names:
            pure = PurePosixPath(name)
            if self.root.parts == pure.parts[: len(self.root.parts)]:
                self._names[PurePosixPath(*pure.parts[len(self.root.parts) :]).as_posix()] = name

    def names(self) -> list[str]:
        return list(self._names)

    def has(self, name: str) -> bool:
        return name in self._names

    def read(self, name: str) -> bytes:
        real = self._names[name]
        if self.archive is not None:
            return self.archive.read(real)
        assert self.folder is not None
        return (self.folder / real).read_bytes()

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def _ts(value: Any) -> datetime:
    """A Slack timestamp (``"1355517523.000005"``) as an aware UTC datetime."""
    text = str(value)
    seconds, _, fraction = text.partition(".")
    micros = int((fraction + "000000")[:6]) if fraction else 0  # ts ends in 6 digits
    return datetime.fromtimestamp(int(seconds), UTC).replace(microsecond=micros)


class SlackExport:
    """A workspace export, checked when opened; :meth:`items` yields its messages."""

    def __init__(
        self,
        path: Path,
        *,
        channels: Sequence[str] = (),
        limits: ArchiveLimits | None = None,
        region: str = "US",
    ) -> None:
        self.region = region
        self.failures: list[ParseFailure] = []
        self.tree = _Tree(path, limits or ArchiveLimits())
        try:
            self.users = self._users()
            self.conversations = self._conversations()
            if not self.conversations:
                raise ConnectorError(
                    f"{path.name} is not a Slack export: no users.json, channels.json or "
                    "day files (YYYY-MM-DD.json) in it."
                )
            self.selected = self._select(channels)
        except BaseException:
            self.tree.close()
            raise
        self._names = {c.id: c.name for c in self.conversations}
        self._title = ""

    # -- the workspace -----------------------------------------------------------------

    def _json(self, name: str) -> Any:
        """A top-level JSON file; ``None`` (and a failure) if it is missing or broken."""
        if not self.tree.has(name):
            return None
        data = self.tree.read(name)
        if not data.strip():
            return []  # an empty dms.json
        try:
            return loads(data.decode("utf-8", "replace"))
        except ParseError as exc:
            self.failures.append(ParseFailure(f"{self.tree.label}!{name}", "file", f"{exc}"))
            return None

    def _users(self) -> dict[str, _User]:
        users: dict[str, _User] = {}
        for entry in self._json("users.json") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            users[entry["id"]] = self._user(entry)
        return users

    def _user(self, entry: dict[str, Any]) -> _User:
        profile = entry.get("profile") or {}
        name = clean_line(
            str(
                entry.get("real_name")
                or profile.get("real_name")
                or profile.get("display_name")
                or entry.get("name")
                or entry["id"]
            )
        )
        links: list[tuple[str, str]] = []
        email = str(profile.get("email") or "").strip().lower()
        if "@" in email:
            links.append(("email", email))
        phone = to_e164(str(profile.get("phone") or ""), self.region)
        if phone:
            links.append(("phone", phone))
        bot = bool(entry.get("is_bot")) or entry["id"] == "USLACKBOT"
        return _User(Party(CHANNEL, entry["id"], name, tuple(links)), name, bot)

    def _conversations(self) -> list[_Conversation]:
        found: dict[str, _Conversation] = {}
        for kind, filename in (
            ("channel", "channels.json"),
            ("group", "groups.json"),
            ("dm", "dms.json"),
            ("mpim", "mpims.json"),
        ):
            for entry in self._json(filename) or []:
                if not isinstance(entry, dict) or not entry.get("id"):
                    continue
                cid = str(entry["id"])
                members = [str(m) for m in entry.get("members") or []]
                name = str(entry.get("name") or cid)
                folder = cid if kind == "dm" else name
                if kind == "dm":
                    others = [self.users[m].name for m in members if m in self.users]
                    name = "DM with " + ", ".join(others) if others else f"DM {cid}"
                found[folder] = _Conversation(cid, clean_line(name), folder, kind, members)
        for name in self.tree.names():
            parts = PurePosixPath(name).parts
            if len(parts) == 2 and _DAY.match(parts[1]) and parts[0] not in found:
                found[parts[0]] = _Conversation(parts[0], clean_line(parts[0]), parts[0], "channel")
        days: dict[str, list[str]] = {}
        for name in self.tree.names():
            parts = PurePosixPath(name).parts
            if len(parts) == 2 and _DAY.match(parts[1]):
                days.setdefault(parts[0], []).append(name)
        self._days = {folder: sorted(names) for folder, names in days.items()}
        return sorted(found.values(), key=lambda c: (c.kind, c.name))

    def _select(self, wanted: Sequence[str]) -> list[_Conversation]:
        if not wanted:
            return list(self.conversations)
        chosen: list[_Conversation] = []
        for raw in wanted:
            key = raw.strip().lstrip("#").casefold()
            hits = [
                c
                for c in self.conversations
                if key in (c.name.casefold(), c.id.casefold(), c.folder.casefold())
            ]
            if not hits:
                names = ", ".join(c.name for c in self.conversations if c.kind != "dm")
                raise ConnectorError(
                    f"There is no channel {raw!r} in the export (it has: {names})."
                )
            chosen.extend(h for h in hits if h not in chosen)
        return chosen

    def title(self, conv: _Conversation) -> str:
        if conv.kind in ("channel", "group"):
            return f"#{conv.name}"
        if conv.kind == "mpim":
            names = [self.users[m].name for m in conv.members if m in self.users]
            return "Slack group DM: " + (", ".join(names) or conv.name)
        return f"Slack {conv.name}"

    # -- messages ----------------------------------------------------------------------

    def items(self) -> Iterator[Item]:
        yield from self.failures
        for conv in self.selected:
            threads: dict[str, str] = {}
            self._title = self.title(conv)
            for day in self._days.get(conv.folder, []):
                label = f"{self.tree.label}!{day}"
                try:
                    messages = loads(self.tree.read(day).decode("utf-8", "replace") or "[]")
                except ParseError as exc:
                    yield ParseFailure(label, "file", str(exc))
                    continue
                if not isinstance(messages, list):
                    yield ParseFailure(label, "file", "not a list of messages")
                    continue
                for index, message in enumerate(messages):
                    try:
                        require_depth(message)
                        record = self._record(conv, message, label, index, threads)
                        if record is not None:
                            require_text(record)
                    except ParseError as exc:
                        yield ParseFailure(label, f"message {index}", str(exc))
                        continue
                    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
                        yield ParseFailure(label, f"message {index}", f"unreadable message: {exc}")
                        continue
                    if record is not None:
                        yield record

    def _author(self, message: dict[str, Any]) -> tuple[Party, bool]:
        """The author and whether it is a bot (bots' messages are kept as notes)."""
        user_id = message.get("user")
        if "subtype" not in message and "bot_id" not in message and user_id in self.users:
            known = self.users[user_id]  # the common case: a workspace member wrote it
            return known.party, known.bot
        if message.get("subtype") == "file_comment" and isinstance(message.get("comment"), dict):
            user_id = message["comment"].get("user") or user_id
        user = self.users.get(str(user_id)) if user_id else None
        bot = message.get("subtype") == "bot_message" or (
            "bot_id" in message and (user is None or user.bot)
        )
        if user is not None:
            return user.party, bot or user.bot
        profile = message.get("user_profile") or message.get("bot_profile") or {}
        name = clean_line(
            str(
                message.get("username")
                or profile.get("real_name")
                or profile.get("display_name")
                or profile.get("name")
                or user_id
                or message.get("bot_id")
                or "unknown"
            )
        )
        ident = str(user_id or message.get("bot_id") or f"name:{name}")
        return Party(CHANNEL, ident, name), bot

    def _record(
        self,
        conv: _Conversation,
        message: Any,
        label: str,
        index: int,
        threads: dict[str, str],
    ) -> InboundRecord | None:
        if not isinstance(message, dict):
            raise TypeError("not a JSON object")
        subtype = message.get("subtype")
        if message.get("type", "message") != "message" or subtype in _SKIP:
            return None
        if message.get("hidden") and subtype != "bot_message":
            return None
        ts = str(message["ts"])
        sent = _ts(ts)
        author, bot = self._author(message)
        body = self._body(message)
        files = self._files(message)
        if not body and not files:
            return None
        thread_ts = message.get("thread_ts")
        parent = thread_ts == ts and bool(
            message.get("reply_count") or message.get("replies") or message.get("latest_reply")
        )
        title = self._title
        conversation = f"{CHANNEL}:{conv.id}"
        if thread_ts and (parent or thread_ts != ts):
            conversation = f"{CHANNEL}:{conv.id}:{thread_ts}"
            if parent:
                first = body.strip().split("\n", 1)[0][:80] if body else files[0].filename
                threads[str(thread_ts)] = f"{title}: {first}"
            title = threads.get(str(thread_ts), f"{title} thread")
        record = InboundRecord(
            source_key=f"{CHANNEL}:{conv.id}:{ts}",
            channel=CHANNEL,
            sent_at=sent,
            author=author,
            body=body or "\n".join(f"[file: {f.filename}]" for f in files),
            direction="note" if bot else None,
            conversation=conversation,
            conversation_title=title,
            attachments=tuple(files),
            date_source="export",
            raw_ref=f"{label}#{index}",
        )
        if message.get("edited"):
            record.extra["edited"] = "1"
        return record

    def _body(self, message: dict[str, Any]) -> str:
        if message.get("subtype") == "file_comment" and isinstance(message.get("comment"), dict):
            text = str(message["comment"].get("comment") or "")
        else:
            text = str(message.get("text") or "")
        if not text.strip() and isinstance(message.get("blocks"), list):
            text = self._blocks(message["blocks"])
        if "<" in text or "&" in text:
            text = self.render(text)
        parts = [text] if text.strip() else []
        for attachment in message.get("attachments") or []:
            if isinstance(attachment, dict):
                pieces = [
                    str(attachment.get(k) or "")
                    for k in ("pretext", "title", "text")
                    if attachment.get(k)
                ]
                if not pieces and attachment.get("fallback"):
                    pieces = [str(attachment["fallback"])]
                if pieces and not parts:
                    parts.append(self.render("\n".join(pieces)))
        return clean_body("\n".join(parts)).strip()

    def _files(self, message: dict[str, Any]) -> list[AttachmentRecord]:
        if "files" not in message and "file" not in message:
            return []
        files = message.get("files")
        if not isinstance(files, list):
            files = [message["file"]] if isinstance(message.get("file"), dict) else []
        found = []
        for f in files:
            if not isinstance(f, dict) or f.get("mode") in ("tombstone", "hidden_by_limit"):
                continue
            name = clean_line(str(f.get("name") or f.get("title") or f.get("id") or "file"))
            mime = str(f.get("mimetype") or content_type(name))
            size = f.get("size")
            found.append(AttachmentRecord(name, mime, size if isinstance(size, int) else 0))
        return found

    def render(self, text: str) -> str:
        """Slack's markup as plain text: mentions by name, links with their label."""
        return (
            _LINK.sub(self._link, text)
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
        )

    def _link(self, m: re.Match[str]) -> str:
        target, label = m[1], m[2]
        if target.startswith("@"):
            user = self.users.get(target[1:])
            return "@" + (user.name if user else (label or target[1:]).lstrip("@"))
        if target.startswith("#"):
            return "#" + (label or self._names.get(target[1:], target[1:]))
        if target.startswith("!"):
            key = target[1:].split("^", 1)[0]
            return label or _SPECIAL.get(key, "@" + key)
        if target.startswith("mailto:"):
            return label or target[7:]
        return f"{label} ({target})" if label and label != target else target

    def _blocks(self, blocks: list[Any]) -> str:
        """Plain text of rich-text blocks (used when a message's ``text`` is empty)."""
        out: list[str] = []

        def walk(element: Any) -> None:
            if not isinstance(element, dict):
                return
            kind = element.get("type")
            if kind == "text":
                out.append(str(element.get("text", "")))
            elif kind == "user":
                user = self.users.get(str(element.get("user_id")))
                out.append("@" + (user.name if user else str(element.get("user_id"))))
            elif kind == "channel":
                cid = str(element.get("channel_id"))
                out.append("#" + self._names.get(cid, cid))
            elif kind == "link":
                out.append(str(element.get("text") or element.get("url") or ""))
            elif kind == "emoji":
                out.append(f":{element.get('name', '')}:")
            elif kind == "broadcast":
                out.append(f"@{element.get('range', 'here')}")
            elif isinstance(element.get("text"), dict):
                out.append(str(element["text"].get("text", "")))
            for child in element.get("elements") or []:
                walk(child)
            if kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
                out.append("\n")

        for block in blocks:
            walk(block)
        return "".join(out).strip()

    def close(self) -> None:
        self.tree.close()
