"""Mail files: ``.eml``, mbox and maildir, told apart by looking at them.

* A directory with ``cur/`` or ``new/`` is a maildir: every file in both, whatever
  the flag suffix (``:2,S`` on Unix, ``!2,S`` where ``:`` is not allowed). A maildir
  message is known by its unique name (the part before the suffix, which a mail
  client keeps when it changes flags or moves it from ``new/`` to ``cur/``), size and
  modification time, so a re-import finds it stored without reading it.
* Any other directory is searched for maildirs, mbox files and ``.eml`` files.
* A file starting with an mbox ``From `` line is an mbox (LF or CRLF line endings;
  ``>From `` quoting undone); a file starting with a header line is one message.

:func:`mail_jobs` only finds messages (for an mbox, their byte ranges) and their sizes;
the bytes are read and parsed by :mod:`deskterm.connectors.mailjobs`, in worker
processes, no more than ``ParseOptions.max_message_bytes`` of any one message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from deskterm.connectors.mailjobs import parse_in_order, skip_stored
from deskterm.connectors.mailsource import MailJob
from deskterm.connectors.mime import ParseOptions
from deskterm.connectors.records import Item, ParseFailure

# An mbox envelope line: "From sender date" with a time and a four-digit year in it, so
# an unquoted "From here on..." line in a body does not split a message.
_FROM_LINE = re.compile(rb"^From [^\r\n]*?\d{1,2}:\d\d[^\r\n]*?\d{4}[^\r\n]*\r?\n", re.MULTILINE)
_HEADER_START = re.compile(rb"^[!-9;-~]{1,100}:")


def detect(path: Path) -> str:
    """``maildir``, ``tree`` (a directory to search), ``mbox``, ``eml`` or ``unknown``."""
    if path.is_dir():
        return "maildir" if (path / "cur").is_dir() or (path / "new").is_dir() else "tree"
    with path.open("rb") as f:
        start = f.read(1024)
    if start.startswith(b"From ") and _FROM_LINE.match(start + b"\n"):
        return "mbox"
    if _HEADER_START.match(start.lstrip(b"\r\n")):
        return "eml"
    return "unknown"


def mail_jobs(paths: Iterable[Path]) -> Iterator[MailJob | ParseFailure]:
    """A job per message found under ``paths``, in a stable order."""
    for path in paths:
        try:
            kind = detect(path)
        except OSError as exc:
            yield ParseFailure(str(path), "file", f"cannot read: {exc.strerror or exc}")
            continue
        if kind == "maildir":
            yield from _maildir(path)
        elif kind == "tree":
            yield from _tree(path)
        elif kind == "mbox":
            yield from _mbox(path)
        elif kind == "eml":
            yield _eml(path)
        elif path.stat().st_size == 0:
            yield ParseFailure(str(path), "file", "empty file")
        else:
            yield ParseFailure(str(path), "file", "not a mail file (neither a message nor mbox)")


def read_mail(
    paths: Iterable[Path],
    options: ParseOptions | None = None,
    *,
    workers: int | None = None,
    known: Callable[[Sequence[str]], set[str]] | None = None,
) -> Generator[Item, None, None]:
    """Records (and failures) for every message under ``paths``, parsed on all cores.

    Each message has a stable key (its maildir name, else a hash of its bytes:
    ``mail:<sha1>``), so the same file read twice is one message; ``known`` answers
    which keys are stored already, and those are not parsed again.
    """
    jobs = skip_stored(mail_jobs(paths), known)
    return parse_in_order(jobs, options, workers=workers, ahead=True)


def _eml(path: Path) -> MailJob:
    """A job for a file holding one message (its size bounds how much is read)."""
    size = path.stat().st_size
    return MailJob(source=str(path), position="file", path=str(path), raw_ref=str(path), size=size)


def _maildir(root: Path) -> Iterator[MailJob | ParseFailure]:
    names: list[tuple[str, str]] = []
    for sub in ("cur", "new"):
        folder = root / sub
        try:
            entries = os.listdir(folder)  # noqa: PTH208  (100k names: plain strings are faster)
        except FileNotFoundError:
            continue
        except OSError as exc:
            yield ParseFailure(str(folder), "folder", f"cannot list: {exc.strerror or exc}")
            continue
        names.extend((_unique(n), os.path.join(folder, n)) for n in entries if n[:1] != ".")  # noqa: PTH118
    # Sorted by the unique part (it starts with the delivery time): the same order
    # whatever the flags, and replies mostly after what they answer.
    for unique, full in sorted(names):
        try:
            info = os.stat(full)  # noqa: PTH116
        except OSError as exc:
            yield ParseFailure(full, "file", f"cannot read: {exc.strerror or exc}")
            continue
        yield MailJob(
            source=full,
            position="file",
            path=full,
            raw_ref=full,
            source_key=f"maildir:{unique}:{info.st_size}:{int(info.st_mtime)}",
            size=info.st_size,
        )


def _unique(name: str) -> str:
    """A maildir file name without its ``:2,FLAGS`` / ``!2,FLAGS`` info suffix."""
    for sep in (":2,", "!2,"):
        if sep in name:
            return name.split(sep, 1)[0]
    return name


def _tree(root: Path) -> Iterator[MailJob | ParseFailure]:
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        maildirs = [d for d in dirnames if detect(here / d) == "maildir"]
        for name in sorted(maildirs):
            yield from _maildir(here / name)
        dirnames[:] = sorted(d for d in dirnames if d not in maildirs)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            try:
                kind = detect(path)
            except OSError as exc:
                yield ParseFailure(str(path), "file", f"cannot read: {exc.strerror or exc}")
                continue
            if kind == "mbox":
                yield from _mbox(path)
            elif kind == "eml":
                yield _eml(path)


SCAN_CHUNK = 4 * 1024 * 1024  # an mbox is scanned in blocks: memory stays flat


def _separator_size(before: bytes) -> int:
    """How many bytes before an envelope line are the blank line that belongs to it
    (``before`` holds the 4 bytes in front of the line)."""
    if before.endswith(b"\r\n\r\n"):
        return 2
    return 1 if before.endswith(b"\n\n") else 0


def _envelopes(f: BinaryIO) -> Iterator[tuple[int, int, str, bytes]]:
    """(start, end of line, line, the 4 bytes before it) of each mbox envelope line.

    An envelope line must start the file or follow an empty line, and look like one
    (``_FROM_LINE``), so a body line "From ..." that escaped quoting splits nothing.
    """
    offset = 0  # file position of buf[0]
    buf = b""
    tail = b""  # the last bytes before buf, for the blank-line check
    while True:
        chunk = f.read(SCAN_CHUNK)
        data = buf + chunk
        cut = len(data) if not chunk else data.rfind(b"\n") + 1
        region = data[:cut]
        for match in _FROM_LINE.finditer(region):
            start = match.start()
            before = (tail + region[:start])[-4:] if start < 4 else region[start - 4 : start]
            if offset + start == 0 or before.endswith((b"\n\n", b"\n\r\n")):
                line = match.group(0).decode("latin-1").strip()
                yield offset + start, offset + match.end(), line, before
        tail = (tail + region)[-4:]
        offset += cut
        buf = data[cut:]
        if not chunk:
            return


def _mbox(path: Path) -> Iterator[MailJob | ParseFailure]:
    """Byte ranges of the messages of an mbox; the separator's blank line is dropped."""

    def job(n: int, begin: int, stop: int, envelope: str) -> MailJob:
        return MailJob(
            source=str(path),
            position=f"message {n} (byte {begin})",
            path=str(path),
            offset=begin,
            length=max(0, stop - begin),
            size=max(0, stop - begin),
            mbox=True,
            envelope=envelope,
            raw_ref=f"{path}#{begin}",
        )

    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            previous: tuple[int, str] | None = None
            n = 0
            for start, end, envelope, before in _envelopes(f):
                if previous is not None:
                    n += 1
                    yield job(n, previous[0], start - _separator_size(before), *previous[1:])
                previous = (end, envelope)
            if previous is not None:
                f.seek(max(0, size - 4))
                yield job(n + 1, previous[0], size - _separator_size(f.read(4)), previous[1])
    except OSError as exc:
        yield ParseFailure(str(path), "file", f"cannot read: {exc.strerror or exc}")
