"""One message to parse, and where its bytes are: :class:`MailJob`, what file and
IMAP readers yield, and :class:`JobReader`, which reads a job's bytes (whole, cut at a
limit, or piece by piece) in whichever process parses it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from deskterm.connectors.mime import KEY_PIECE


@dataclass(frozen=True, slots=True)
class MailJob:
    """One message to parse: its bytes (IMAP) or where they are in a file.

    ``source``/``position`` say where it came from in a failure report (a file and a
    byte offset, a folder and a UID). ``fallback_at`` stands in for a broken Date
    header (IMAP INTERNALDATE); file jobs fall back to the mbox envelope date or the
    file's modification time.
    """

    source: str
    position: str
    data: bytes | None = None
    path: str | None = None
    offset: int = 0
    length: int = -1
    mbox: bool = False
    envelope: str = ""
    source_key: str | None = None
    raw_ref: str | None = None
    fallback_at: datetime | None = None
    fallback_source: str = "import"
    size: int = 0  # the whole message's bytes, as far as known (IMAP: RFC822.SIZE)


_ENVELOPE_DATE = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) +(?P<h>\d{1,2}):(?P<m>\d\d)(?::(?P<s>\d\d))?"
    r"(?: +[A-Za-z+\-0-9]{1,6})? +(?P<year>\d{4})"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def envelope_date(line: str) -> datetime | None:
    """The date of an mbox ``From `` line (``From a@b Fri Jul  8 12:08:34 2011``)."""
    match = _ENVELOPE_DATE.search(line)
    if not match or match["mon"] not in _MONTHS:
        return None
    try:
        return datetime(
            int(match["year"]), _MONTHS[match["mon"]], int(match["day"]),
            int(match["h"]), int(match["m"]), int(match["s"] or 0), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None


class JobReader:
    """Reads job bytes, keeping the last file open (an mbox is read piece by piece)."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._file: IO[bytes] | None = None

    def read(self, job: MailJob, limit: int | None = None) -> tuple[bytes, int]:
        """(the message's bytes, at most ``limit`` of them; its whole size)."""
        if job.data is not None:
            whole = max(job.size, len(job.data))
            cut = job.data if limit is None or len(job.data) <= limit else job.data[:limit]
            return cut, whole
        f = self._open(job)
        if job.length < 0:
            f.seek(0)
            whole = os.fstat(f.fileno()).st_size
        else:
            f.seek(job.offset)
            whole = job.length
        return f.read(whole if limit is None else min(whole, limit)), whole

    def pieces(self, job: MailJob) -> Iterator[bytes]:
        """The message's bytes a piece at a time (to hash one too big to hold)."""
        f = self._open(job)
        f.seek(0 if job.length < 0 else job.offset)
        left = job.length if job.length >= 0 else os.fstat(f.fileno()).st_size
        while left > 0:
            piece = f.read(min(KEY_PIECE, left))
            if not piece:
                return
            left -= len(piece)
            yield piece

    def _open(self, job: MailJob) -> IO[bytes]:
        assert job.path is not None
        if self._path != job.path or self._file is None:
            self.close()
            self._file = open(job.path, "rb")  # noqa: PTH123, SIM115  (hot path)
            self._path = job.path
        return self._file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._path = None
