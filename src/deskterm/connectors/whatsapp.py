"""WhatsApp chat exports: the ``.txt`` or the ``.zip`` (chat + media) the app writes.

Two layouts exist and every locale prints dates its own way::

    12/31/19, 1:33 PM - Ana Souza: text            Android (US)
    31.12.19, 13:33 - Ana Souza: text              Android (German)
    2019. 12. 31. 오후 1:33 - Ana: text             Android (Korean)
    [31/12/2019, 13:33:02] Ana Souza: text         iOS
    ‎[12/31/19, 1:33:02 PM] Ana Souza: ‎image omitted   iOS (U+200E, U+202F before PM)

The file is read twice, as a stream: the first pass finds the layout, the date
separator and the order of the date's fields, from all its dates and the order they
come in (:mod:`deskterm.connectors.whatsapp_format`); the second pass yields the
messages. Lines without a header continue the message before them.
System lines (encryption notice, joins, deleted messages) are skipped. Media named
by ``<attached: …>`` or ``… (file attached)`` becomes an attachment, with its size
from the zip (and the file itself under the data dir when attachments are stored).

Keys: ``whatsapp:<chat>:<local time>:<digest of author, text, occurrence>``; a
re-export of the same chat repeats every earlier key, so only appended messages are
new, whatever ``--tz`` says.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

from deskterm.connectors.archive import (
    Archive,
    ArchiveLimits,
    FolderMedia,
    MediaSource,
    text_stream,
)
from deskterm.connectors.chatbase import (
    ConnectorError,
    Occurrences,
    clean_body,
    content_type,
    digest,
)
from deskterm.connectors.phones import looks_like_phone, to_e164
from deskterm.connectors.records import AttachmentRecord, InboundRecord, Item, ParseFailure, Party
from deskterm.connectors.whatsapp_format import (
    DATE_ORDERS,
    HEADER,
    MARK,
    ChatFormat,
    Tally,
    decide_order,
    header_pattern,
)
from deskterm.connectors.whatsapp_subject import Subjects
from deskterm.textsafe import clean_line

__all__ = ["DATE_ORDERS", "WhatsAppExport", "WhatsAppOptions", "title_from_name"]

CHANNEL = "whatsapp"
SESSION_GAP = timedelta(hours=24)  # the pipeline's default ([ingest] session_gap_hours)

_PM = {"下午", "오후", "午後", "nachm.", "م"}
_MARKS = re.compile(f"[{MARK}]")

_DELETED = {
    "this message was deleted", "you deleted this message", "diese nachricht wurde gelöscht",
    "du hast diese nachricht gelöscht", "se eliminó este mensaje", "eliminaste este mensaje",
    "esta mensagem foi apagada", "você apagou esta mensagem", "ce message a été supprimé",
    "vous avez supprimé ce message", "questo messaggio è stato eliminato",
    "hai eliminato questo messaggio", "dit bericht is verwijderd", "je hebt dit bericht verwijderd",
    "это сообщение удалено", "вы удалили это сообщение", "bu mesaj silindi",
}  # fmt: skip
_OMITTED = re.compile(
    r"^<(?:media omitted|medien ausgeschlossen|multimedia omitido|mídia oculta|"
    r"médias omis|media weggelaten|media omessi|медиафайл отсутствует|medya dahil edilmedi)>$"
    r"|^(?:image|video|audio|sticker|gif|document|contact card|photo) omitted$",
    re.IGNORECASE,
)
_ATTACHED = re.compile(r"<attached: ?([^<>\n]+?)>")
_FILE_ATTACHED = re.compile(
    r"^(?P<file>[^\n]{1,200}?\.\w{1,5}) \((?:file attached|datei angehängt|archivo adjunto|"
    r"arquivo anexado|fichier joint|file allegato|bestand bijgevoegd|файл добавлен)\)",
    re.IGNORECASE,
)
_EDITED = re.compile(
    rf"[ \n]*[{MARK}]*<(?:this message was edited|diese nachricht wurde bearbeitet|"
    r"se editó este mensaje\.?|esta mensagem foi editada|ce message a été modifié|"
    r"questo messaggio è stato modificato|dit bericht is bewerkt)>$",
    re.IGNORECASE,
)
_VOTES = re.compile(r"\s*\(\d+ votes?\)")
_SYSTEM = re.compile(
    r"end-to-end encrypted|created (?:the )?group|\badded\b|\bleft$|\bremoved\b|"
    r"changed (?:the subject|this group's|the group|their phone number|to \+)|"
    r"joined using this group's invite link|security code|disappearing messages|"
    r"pinned a message|is a contact|Ende-zu-Ende|cifrados de extremo a extremo",
    re.IGNORECASE,
)
_TITLE = re.compile(
    r"^(?:WhatsApp[ -]Chat(?: with| mit| met| med| -)?|Chat de WhatsApp con|"
    r"Conversa do WhatsApp com|Discussion WhatsApp avec|Chat WhatsApp con|"
    r"WhatsApp-chatt med|Чат WhatsApp с)\s+",
    re.IGNORECASE,
)


class NotAChat(ConnectorError):
    """A text file without a single WhatsApp message line."""


def title_from_name(name: str) -> str:
    """The chat's name from an export's file name (``WhatsApp Chat with Ana.txt``,
    ``WhatsApp Chat - Ana (1).zip``), or the file name without its extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]
    for ext in (".zip", ".txt"):
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
    base = re.sub(r"\s*\(\d+\)$", "", base).strip()
    stripped = _TITLE.sub("", base, count=1).strip()
    return clean_line(stripped or base) or "WhatsApp chat"


class WhatsAppChat:
    """One chat text, format detected, ready to be read (possibly more than once)."""

    def __init__(
        self,
        label: str,
        title: str,
        opener: Callable[[], IO[bytes]],
        media: MediaSource | None,
        *,
        date_order: str | None = None,
        tz: tzinfo = UTC,
        region: str = "US",
        store_dir: Path | None = None,
        max_attachment: int | None = None,
        agents: frozenset[str] = frozenset(),
        session_gap: timedelta = SESSION_GAP,
    ) -> None:
        self.label = label
        self.title = title
        self.conversation = f"{CHANNEL}:{title}"[:250]
        self.subjects = Subjects(f"WhatsApp chat with {title}", agents, session_gap)
        self._opener = opener
        self.media = media
        self.tz = tz
        self.region = region
        self.store_dir = store_dir
        self.max_attachment = max_attachment
        self.format = self.detect(date_order)
        self._times: dict[tuple[str | Any, ...], tuple[datetime, str]] = {}
        self._days: dict[tuple[str | Any, ...], tuple[int, int, int, str]] = {}

    # -- pass 1: the format ----------------------------------------------------------

    def detect(self, date_order: str | None) -> ChatFormat:
        """Layout and separator (what most header lines use) and the date order,
        decided from every date in the file and the order they come in."""
        tallies: dict[tuple[str, str], Tally] = {}
        match = HEADER.match
        with text_stream(self._opener()) as stream:
            for line in stream:
                m = match(line)
                if m is None:
                    continue
                key = ("ios" if m["br"] else "android", m["sep"])
                tally = tallies.get(key)
                if tally is None:
                    tally = tallies[key] = Tally(example=line.strip()[:40])
                tally.add(m.group("d1", "d2", "d3"))
        if not tallies:
            raise NotAChat(f"{self.label} is not a WhatsApp chat export (no message lines).")
        (layout, sep), tally = max(tallies.items(), key=lambda kv: kv[1].count)
        order = decide_order(tally, date_order, self.label, date.today().year + 1)
        return ChatFormat(layout, sep, order)

    # -- pass 2: the messages --------------------------------------------------------

    def items(self) -> Iterator[Item]:
        """Every message of the chat (system lines skipped), in file order, each
        titled by the customer line that opens its stretch of the chat."""
        return self.subjects.apply(self._messages())

    def _messages(self) -> Iterator[Item]:
        match = header_pattern(self.format).match
        occurrences = Occurrences()
        parties: dict[str, Party | None] = {}
        conv_digest = digest(self.conversation.casefold(), size=10)
        current: tuple[int, re.Match[str], str, list[str]] | None = None
        with text_stream(self._opener()) as stream:
            try:
                for lineno, line in enumerate(stream, 1):
                    m = match(line)
                    if m is not None:
                        if current is not None:
                            item = self._message(current, occurrences, parties, conv_digest)
                            if item is not None:
                                yield item
                        current = (lineno, m, line, [])
                    elif current is not None:
                        current[3].append(line)
                    elif _MARKS.sub("", line).strip():
                        yield ParseFailure(
                            self.label, f"line {lineno}", "text before the first message"
                        )
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise ConnectorError(f"Cannot read {self.label}: {exc}.") from exc
        if current is not None:
            item = self._message(current, occurrences, parties, conv_digest)
            if item is not None:
                yield item

    def _time(self, m: re.Match[str]) -> tuple[datetime, str]:
        """(UTC time, local time as ``YYYYMMDDhhmmss``) of a header (``ValueError`` if
        it is impossible), cached: messages of one minute share their header's time."""
        key = m.group("d1", "d2", "d3", "h", "mi", "s", "ampm", "pre")
        found = self._times.get(key)
        if found is not None:
            return found
        if len(self._times) > 4096:
            self._times.clear()
        day = self._days.get(key[:3])
        if day is None:
            day = self._days[key[:3]] = self._date(int(key[0]), int(key[1]), int(key[2]))
        year, month, mday, day_stamp = day
        hour, minute = int(key[3]), int(key[4])
        second = int(key[5]) if key[5] else 0
        marker = key[6] or key[7]
        if marker:
            if not 1 <= hour <= 12:
                raise ValueError(f"hour {hour} with {marker.strip()}")
            pm = marker in _PM or marker[0] in "pP"
            hour = (hour % 12) + (12 if pm else 0)
        local = datetime(year, month, mday, hour, minute, second)
        sent = (
            local.replace(tzinfo=UTC)
            if self.tz is UTC
            else local.replace(tzinfo=self.tz).astimezone(UTC)
        )
        found = self._times[key] = (sent, f"{day_stamp}{hour:02d}{minute:02d}{second:02d}")
        return found

    def _date(self, d1: int, d2: int, d3: int) -> tuple[int, int, int, str]:
        """(year, month, day, ``YYYYMMDD``) of a header's date in the file's order."""
        order = self.format.order
        if order == "dmy":
            day, month, year = d1, d2, d3
        elif order == "mdy":
            month, day, year = d1, d2, d3
        else:
            year, month, day = d1, d2, d3
        if year < 100:
            year += 2000
        date(year, month, day)  # raises ValueError for 31/02
        return year, month, day, f"{year:04d}{month:02d}{day:02d}"

    def _party(self, raw: str, parties: dict[str, Party | None]) -> Party | None:
        if raw in parties:
            return parties[raw]
        name = clean_line(_MARKS.sub("", raw))
        party: Party | None
        if not name or len(name) > 100 or any(q in name for q in '"“”«»'):
            party = None  # "Ana changed the subject to “Re: x”": a system line
        else:
            phone = to_e164(name, self.region) if looks_like_phone(name) else None
            party = Party("phone", phone, name) if phone else Party(CHANNEL, name, name)
        parties[raw] = party
        return party

    def _message(
        self,
        current: tuple[int, re.Match[str], str, list[str]],
        occurrences: Occurrences,
        parties: dict[str, Party | None],
        conv_digest: str,
    ) -> Item | None:
        """One message from its header match and lines (with their line ends);
        ``None`` for system lines."""
        lineno, m, line, more = current
        author_raw, colon, text = line[m.end() :].partition(": ")
        if not colon:
            rest = author_raw.rstrip("\n")
            if rest.endswith(":") and 0 < len(rest) <= 101 and more:
                author_raw, text = rest[:-1], ""
            else:
                return None  # Android system line: no author
        party = parties[author_raw] if author_raw in parties else self._party(author_raw, parties)
        if party is None:
            return None
        author_key = party.name
        marked = text[:1] in ("\u200e", "\u200f")
        body = (text + "".join(more)).strip() if more else text.strip()
        if "\u200e" in body or "\u200f" in body:
            body = body.replace("\u200e", "").lstrip("\u200f")
        if body.endswith(">"):
            body = _EDITED.sub("", body).strip()
        if len(body) <= 40 and body.rstrip(".").casefold() in _DELETED:
            return None
        attachments: list[str] = []
        key_text = body
        if body.startswith("POLL:"):
            key_text = _VOTES.sub("", body)
        elif (body[:1] == "<" or body.endswith("omitted")) and _OMITTED.match(body):
            pass
        elif "<attached:" in body:
            attachments = [a.strip() for a in _ATTACHED.findall(body)]
            caption = _ATTACHED.sub("", body).strip()
            body = caption or "\n".join(f"[attached: {a}]" for a in attachments)
        elif " (" in body and (found := _FILE_ATTACHED.match(body)):
            attachments = [found["file"].strip()]
        elif marked or (author_key == self.title and _SYSTEM.search(body)):
            return None  # iOS system line (U+200E before the text, or the group's own name)
        if not body:
            return None
        try:
            sent, stamp = self._time(m)
        except ValueError as exc:
            return ParseFailure(self.label, f"line {lineno}", f"impossible date or time: {exc}")
        n = occurrences.next(stamp, f"{author_key}\x1f{key_text}")
        key = f"{CHANNEL}:{conv_digest}:{stamp}:{digest(author_key, key_text, str(n), size=12)}"
        record = InboundRecord(
            source_key=key,
            channel=CHANNEL,
            sent_at=sent,
            author=party,
            body=clean_body(body),
            conversation=self.conversation,
            date_source="export",
            raw_ref=f"{self.label}:{lineno}",
        )
        if attachments:
            self._attach(record, attachments)
        return record

    def _attach(self, record: InboundRecord, names: list[str]) -> None:
        found: list[AttachmentRecord] = []
        for i, name in enumerate(names):
            size = self.media.size_of(name) if self.media is not None else None
            found.append(AttachmentRecord(name, content_type(name), size or 0))
            if size is not None and self.store_dir is not None and self.media is not None:
                path = self.media.store(name, self.store_dir, self.max_attachment)
                if path is not None:
                    record.extra[f"stored:{i}"] = str(path)
        record.attachments = tuple(found)


# -- finding the chats in what the user named -----------------------------------------


@dataclass
class WhatsAppOptions:
    """What the CLI passes down: how to read dates, where media may be kept."""

    date_order: str | None = None
    tz: tzinfo = UTC
    region: str = "US"
    chat: str | None = None
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    store_dir: Path | None = None
    max_attachment: int | None = None
    # [chat] agents as the pipeline matches them (case-folded; numbers also in E.164)
    # and its session gap: who is a customer, and how far a subject is looked for.
    agents: frozenset[str] = frozenset()
    session_gap: timedelta = SESSION_GAP


def _is_chat_name(name: str) -> bool:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base == "_chat.txt" or (bool(_TITLE.match(base)) and base.lower().endswith(".txt"))


class WhatsAppExport:
    """The chats in one file the user named (a ``.txt``, a zip, a zip in a zip).

    Opening checks everything that can fail as a whole (refused archive, no chat,
    undecidable dates) before a single message is imported.
    """

    def __init__(self, path: Path, options: WhatsAppOptions) -> None:
        self.path = path
        self.options = options
        self.archives: list[Archive] = []
        self.chats: list[WhatsAppChat] = []
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _chat(
        self, label: str, title: str, opener: Callable[[], IO[bytes]], media: MediaSource | None
    ) -> WhatsAppChat:
        o = self.options
        return WhatsAppChat(
            label,
            clean_line(o.chat) if o.chat else title,
            opener,
            media,
            date_order=o.date_order,
            tz=o.tz,
            region=o.region,
            store_dir=o.store_dir,
            max_attachment=o.max_attachment,
            agents=o.agents,
            session_gap=o.session_gap,
        )

    def _open(self) -> None:
        path = self.path
        if not path.exists():
            raise ConnectorError(f"{path} does not exist.")
        if path.is_dir():
            raise ConnectorError(
                f"{path} is a folder; name the chat's .txt file or the .zip WhatsApp made."
            )
        if zipfile.is_zipfile(path):
            archive = Archive(path, path.name, self.options.limits)
            self.archives.append(archive)
            self._from_archive(archive, path.name)
            if not self.chats:
                raise ConnectorError(f"No WhatsApp chat (.txt) found in {path.name}.")
            return
        title = title_from_name(path.parent.name if path.name == "_chat.txt" else path.name)
        self.chats.append(
            self._chat(str(path), title, lambda: path.open("rb"), FolderMedia(path.parent))
        )

    def _from_archive(self, archive: Archive, zip_name: str) -> None:
        texts = [n for n in archive.names() if n.lower().endswith(".txt")]
        preferred = [n for n in texts if _is_chat_name(n)]
        for name in preferred or texts:
            base = name.replace("\\", "/").rsplit("/", 1)[-1]
            title = title_from_name(zip_name if base == "_chat.txt" else base)

            def opener(a: Archive = archive, n: str = name) -> IO[bytes]:
                return a.open(n)

            try:
                self.chats.append(self._chat(f"{archive.label}!{name}", title, opener, archive))
            except NotAChat:
                if preferred:
                    raise
                # Not named like a chat and holding no chat lines: a document sent in it.
        if not self.chats:
            for name in archive.names():
                if name.lower().endswith(".zip"):
                    inner = archive.nested(name)
                    self.archives.append(inner)
                    self._from_archive(inner, name)

    def items(self) -> Iterator[Item]:
        for chat in self.chats:
            yield from chat.items()

    def close(self) -> None:
        for archive in reversed(self.archives):
            archive.close()
        self.archives.clear()
