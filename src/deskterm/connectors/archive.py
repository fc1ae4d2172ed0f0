"""Reading zip archives from strangers without letting them write or explode.

Chat exports arrive as zips (WhatsApp's chat + media, Slack's workspace export), and
a zip can lie: a member named ``../../.bashrc`` (zip-slip), a 40 KB file that inflates
to petabytes (a zip bomb), or a zip nested in a zip nested in a zip. This module:

* refuses an archive with any member whose name is absolute or climbs out with
  ``..``, before reading anything;
* refuses declared sizes over the total and per-member limits, and members that
  compress better than any real text or media does, and stops a member that inflates
  beyond what it declared;
* reads members in memory or as streams; it writes a member to disk only through
  :meth:`Archive.extract`, inside a directory the caller names (under the data dir),
  with a sanitized file name;
* skips macOS metadata (``__MACOSX/``, ``._*``) and opens nested zips with the same
  limits, sharing one budget.
"""

from __future__ import annotations

import io
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol, cast

from deskterm.connectors.chatbase import ConnectorError
from deskterm.textsafe import safe_filename

_MIB = 1024 * 1024
_GIB = 1024 * _MIB


class ArchiveError(ConnectorError):
    """The archive is refused as a whole (unsafe names, zip bomb, not a zip)."""


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive may unpack to (the caller fills them from ``[ingest]``).

    ``max_ratio`` applies to members over ``ratio_floor`` bytes: text compresses about
    10:1 and media barely at all, while a zip bomb's members inflate 1000:1.
    """

    max_total: int = 8 * _GIB
    max_member: int = 2 * _GIB
    max_ratio: int = 200
    ratio_floor: int = _MIB
    max_members: int = 1_000_000
    max_depth: int = 3
    spool_in_memory: int = 64 * _MIB


@dataclass
class _Budget:
    """Bytes an archive and every archive nested in it may still unpack to."""

    left: int


def _human(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _unsafe(name: str) -> bool:
    """Whether a member name could land outside the directory it is unpacked into."""
    if "\x00" in name:
        return True
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        return True
    return any(part == ".." for part in normalized.split("/"))


def _skipped(name: str) -> bool:
    """macOS resource forks and folder entries carry no content we want."""
    path = PurePosixPath(name.replace("\\", "/"))
    return (
        name.endswith("/")
        or "__MACOSX" in path.parts
        or path.name.startswith("._")
        or path.name in (".DS_Store", "")
    )


class _LimitedReader(io.RawIOBase):
    """A member stream that stops when a member inflates beyond what it declared."""

    def __init__(self, raw: IO[bytes], limit: int, what: str) -> None:
        self._raw = raw
        self._left = limit
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise ArchiveError(
                f"Refusing {self._what}: it inflates beyond its declared size (a zip bomb?)."
            )
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class Member:
    """One usable member: its path inside the archive and declared sizes."""

    name: str
    size: int
    compressed: int
    info: zipfile.ZipInfo = field(repr=False)

    @property
    def basename(self) -> str:
        return self.name.replace("\\", "/").rsplit("/", 1)[-1]


class Archive:
    """A zip, checked as a whole when opened, then read member by member.

    ``label`` names it in messages (``chat.zip`` or ``chat.zip!inner.zip``).
    """

    def __init__(
        self,
        source: Path | IO[bytes],
        label: str,
        limits: ArchiveLimits | None = None,
        *,
        _budget: _Budget | None = None,
        _depth: int = 0,
    ) -> None:
        self.label = label
        self.limits = limits or ArchiveLimits()
        self._depth = _depth
        self._budget = _budget or _Budget(self.limits.max_total)
        self._spools: list[IO[bytes]] = []
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
            raise ArchiveError(
                f"Cannot open {label}: it is not a readable zip file ({exc})."
            ) from exc
        try:
            self.members = self._check()
        except BaseException:
            self._zip.close()
            raise

    def _check(self) -> dict[str, Member]:
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_members:
            raise ArchiveError(
                f"Refusing {self.label}: it holds {len(infos)} files, "
                f"over the limit of {limits.max_members}."
            )
        total = 0
        members: dict[str, Member] = {}
        for info in infos:
            if _unsafe(info.filename):
                raise ArchiveError(
                    f"Refusing {self.label}: member {info.filename!r} points outside the "
                    "archive (zip-slip)."
                )
            if _skipped(info.filename) or stat.S_ISLNK(info.external_attr >> 16):
                continue
            if info.file_size > limits.max_member:
                raise ArchiveError(
                    f"Refusing {self.label}: member {info.filename!r} unpacks to "
                    f"{_human(info.file_size)}, over the per-file limit of "
                    f"{_human(limits.max_member)} (a zip bomb?)."
                )
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size // max(info.compress_size, 1)
                raise ArchiveError(
                    f"Refusing {self.label}: member {info.filename!r} compresses {ratio}:1, "
                    "which only zip bombs do."
                )
            total += info.file_size
            members[info.filename] = Member(info.filename, info.file_size, info.compress_size, info)
        if total > self._budget.left:
            raise ArchiveError(
                f"Refusing {self.label}: it unpacks to {_human(total)}, over the limit of "
                f"{_human(self.limits.max_total)} (a zip bomb?)."
            )
        self._budget.left -= total
        return members

    # -- reading -----------------------------------------------------------------------

    def names(self) -> list[str]:
        return list(self.members)

    def find(self, basename: str) -> Member | None:
        """The member whose file name (any folder) is ``basename``, if there is one."""
        if not hasattr(self, "_by_base"):
            self._by_base: dict[str, Member] = {}
            for member in self.members.values():
                self._by_base.setdefault(member.basename, member)
        return self._by_base.get(basename)

    def open(self, name: str) -> IO[bytes]:
        """A binary stream of one member, stopped if it inflates past its size."""
        member = self.members[name]
        what = f"{self.label}!{name}"
        try:
            raw = self._zip.open(member.info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise ArchiveError(f"Cannot read {what}: {exc}.") from exc
        return io.BufferedReader(_LimitedReader(raw, member.size, what), 256 * 1024)

    def read(self, name: str) -> bytes:
        """One member's bytes, in memory (its declared size passed the limits; a
        member that inflates past it fails its size or CRC check)."""
        member = self.members[name]
        try:
            with self._zip.open(member.info) as stream:
                data = stream.read(member.size + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
            raise ArchiveError(f"Cannot read {self.label}!{name}: {exc}.") from exc
        if len(data) > member.size:
            raise ArchiveError(
                f"Refusing {self.label}!{name}: it inflates beyond its declared size (a zip bomb?)."
            )
        return data

    def nested(self, name: str) -> Archive:
        """Open a zip stored inside this one, under the same limits and budget.

        A small inner zip is read in memory; a large one is spooled to a temporary
        file that is deleted when this archive closes.
        """
        if self._depth + 1 >= self.limits.max_depth:
            raise ArchiveError(
                f"Refusing {self.label}!{name}: zips nested more than "
                f"{self.limits.max_depth} deep (a zip bomb?)."
            )
        member = self.members[name]
        spool = tempfile.SpooledTemporaryFile(max_size=self.limits.spool_in_memory)  # noqa: SIM115  (closed by close())
        self._spools.append(spool)
        with self.open(name) as stream:
            try:
                while chunk := stream.read(1024 * 1024):
                    spool.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ArchiveError(f"Cannot read {self.label}!{name}: {exc}.") from exc
        spool.seek(0)
        self._budget.left += member.size  # its bytes are counted again as the inner members
        return Archive(
            spool,
            f"{self.label}!{name}",
            self.limits,
            _budget=self._budget,
            _depth=self._depth + 1,
        )

    def size_of(self, name: str) -> int | None:
        member = self.members.get(name) or self.find(name)
        return member.size if member is not None else None

    def store(self, name: str, dest_dir: Path, max_bytes: int | None = None) -> Path | None:
        """Write one member (by path or file name) into ``dest_dir`` under a sanitized
        name; the path, or ``None`` when it is missing or over ``max_bytes``.

        An existing file with the same name and size is taken to be the same file (a
        re-import); a different one gets a numbered name. The result is always inside
        ``dest_dir``.
        """
        member = self.members.get(name) or self.find(name)
        if member is None or (max_bytes is not None and member.size > max_bytes):
            return None
        with self.open(member.name) as stream:
            return _write_into(dest_dir, member.basename, member.size, stream, self.label)

    def close(self) -> None:
        self._zip.close()
        for spool in self._spools:
            spool.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def text_stream(raw: IO[bytes]) -> io.TextIOWrapper:
    """Decode a byte stream as text: UTF-8 (BOM or not) or UTF-16 with a BOM; bytes
    that do not decode become U+FFFD instead of stopping the import. Line endings
    (CRLF, LF, CR, mixed) are all read as line breaks."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    head = buffered.peek(4)[:4]
    encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    return io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline=None)


class MediaSource(Protocol):
    """Where the files a chat mentions can be found: a zip, or the export's folder."""

    def size_of(self, name: str) -> int | None:
        """The size of the file ``name`` refers to, or ``None`` if it is not there."""
        ...

    def store(self, name: str, dest_dir: Path, max_bytes: int | None) -> Path | None:
        """Copy the file into ``dest_dir`` (sanitized name); ``None`` if too big."""
        ...


class FolderMedia:
    """Media beside an unpacked export; names are resolved inside ``root`` only."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, name: str) -> Path | None:
        if _unsafe(name):
            return None
        path = (self.root / name.replace("\\", "/")).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def size_of(self, name: str) -> int | None:
        path = self._path(name)
        return path.stat().st_size if path is not None else None

    def store(self, name: str, dest_dir: Path, max_bytes: int | None) -> Path | None:
        path = self._path(name)
        if path is None:
            return None
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            return None
        with path.open("rb") as stream:
            return _write_into(dest_dir, path.name, size, stream, str(path))


def _write_into(dest_dir: Path, name: str, size: int, stream: IO[bytes], what: str) -> Path:
    """Copy ``stream`` to a sanitized, unused name in ``dest_dir`` (or reuse an equal one)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    root = dest_dir.resolve()
    base = safe_filename(name)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    for n in range(1000):
        candidate = base if n == 0 else f"{stem}-{n}{dot}{ext}"
        path = (root / candidate).resolve()
        if path.parent != root:
            raise ArchiveError(f"Refusing to write {name!r} outside {root}.")
        if path.exists():
            if path.stat().st_size == size:
                return path
            continue
        tmp = path.with_name(f".{candidate}.part")
        try:
            with tmp.open("wb") as out:
                while chunk := stream.read(1024 * 1024):
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError) as exc:
            tmp.unlink(missing_ok=True)
            raise ArchiveError(f"Cannot read {what}: {exc}.") from exc
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(path)
        return path
    raise ArchiveError(f"Too many files named {base} in {root}.")
