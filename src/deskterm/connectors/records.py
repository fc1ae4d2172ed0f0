"""The plain records every connector yields and the ingest pipeline consumes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Party:
    """Someone who wrote or received a message, as one identity.

    ``kind``/``value`` are the normalized identity (``("email", "ana@acme.com")``,
    ``("phone", "+14155550100")``, ``("slack", "U024BE7LH")``). ``links`` are other
    identities known to belong to the same person (a Slack profile's email), so the
    pipeline can attach them to one customer.
    """

    kind: str
    value: str
    name: str = ""
    links: tuple[tuple[str, str], ...] = ()
    organization: str | None = None


@dataclass(frozen=True)
class AttachmentRecord:
    """A file that came with a message; ``data`` only when the connector read it."""

    filename: str
    content_type: str = "application/octet-stream"
    size: int = 0
    data: bytes | None = None


@dataclass
class InboundRecord:
    """One message from any source, already decoded to plain, clean text.

    ``source_key`` is stable across runs (``imap:acct:uidvalidity:uid``,
    ``mail:<Message-ID>``, ``whatsapp:<hash>``): importing it twice stores it once.
    ``conversation`` groups chat messages (a WhatsApp chat, a Slack channel or thread);
    mail leaves it ``None`` and is threaded by its headers. ``direction`` may be left
    ``None`` for the pipeline to decide from the configured agents.
    """

    source_key: str
    channel: str
    sent_at: datetime
    author: Party
    body: str
    subject: str = ""
    direction: str | None = None
    conversation: str | None = None
    conversation_title: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    recipients: tuple[Party, ...] = ()
    attachments: tuple[AttachmentRecord, ...] = ()
    date_source: str = "header"
    raw_ref: str | None = None
    content_hash: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Text analysis done in a parse worker (emotion features), so the single writer
    # process does not have to; None when not done.
    analysis: object | None = None


# Left out of the hash: whitespace (what str.split() splits on), control characters
# and U+FFFD. ASCII ones are bytes < 0x21 and 0x7F; the others, in UTF-8: C1 controls
# and no-break space (U+0080-U+00A0), U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
# U+205F, U+3000 and U+FFFD (a test checks this against every code point).
_ASCII_DROP = bytes([*range(0x21), 0x7F])
_UNICODE_DROP = re.compile(
    rb"\xc2[\x80-\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80|\xef\xbf\xbd"
)


def content_hash(record: InboundRecord) -> str:
    """A hash of what a message says, blind to transport noise.

    The same mail fetched over IMAP and read from an mbox differs in line endings,
    and Dovecot turns NUL bytes into 0x80; whitespace, control characters and
    replacement characters are therefore left out. (Case folding maps character by
    character and never makes or unmakes those, so it can come first.)
    """
    text = "\x1f".join((record.author.value, record.subject, record.body))
    if not text.isascii():  # ASCII is NFC already
        text = unicodedata.normalize("NFC", text)
    data = text.casefold().encode("utf-8", "surrogatepass").translate(None, _ASCII_DROP)
    if not data.isascii():
        data = _UNICODE_DROP.sub(b"", data)
    return hashlib.sha1(data).hexdigest()


class ParseError(Exception):
    """One item (a line, a message) that a connector cannot read; the text is the
    one-line reason. The connector that raises it turns it into a
    :class:`ParseFailure` where it knows the file and position, and reads on."""


@dataclass(frozen=True)
class ParseFailure:
    """An item the connector could not read: where it was and why (one line)."""

    source: str
    position: str
    reason: str


@dataclass(frozen=True)
class SyncCheckpoint:
    """IMAP progress, committed in the same transaction as the records before it."""

    account: str
    folder: str
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class AlreadyStored:
    """A message the connector found stored before (by its source key) and did not
    read again; the pipeline only counts it as a duplicate."""

    source_key: str


Item = InboundRecord | ParseFailure | SyncCheckpoint | AlreadyStored
