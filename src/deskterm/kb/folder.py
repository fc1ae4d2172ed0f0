"""Keeping the store's article index in step with the articles' folder.

Only files whose content hash changed are parsed and written again; files gone from
the folder leave the index. A file that cannot be read or parsed is reported and its
last good version stays indexed: nothing is lost because of one bad edit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskterm.kb.articles import ArticleError, KbError, content_hash, parse_article, slugify
from deskterm.textsafe import clean_line

if TYPE_CHECKING:
    from deskterm.store import Store
    from deskterm.store.kb import ArticleRecord

MAX_ARTICLE_BYTES = 1024 * 1024


@dataclass
class SyncReport:
    """What one pass over the folder changed in the index."""

    folder: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged"
        )
        return text + (f", {len(self.failed)} failed" if self.failed else "")


def article_files(folder: Path) -> list[Path]:
    """Every ``*.md`` under the folder, hidden directories (``.git``) skipped."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in sorted(files) if name.endswith(".md"))
    return found


def _record(path: Path, rel: str, data: bytes, digest: str) -> ArticleRecord:
    from deskterm.store.kb import ArticleRecord

    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleError(f"{path}: larger than 1 MB, not an article.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(f"{path}: not UTF-8 text (byte {exc.start}).") from exc
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
    fallback = Path(rel).stem.replace("-", " ").replace("_", " ").capitalize()
    article = parse_article(text, str(path), fallback_title=fallback, fallback_updated=mtime)
    return ArticleRecord(
        path=rel,
        title=article.title,
        tags=article.tags,
        audience=article.audience,
        updated=article.updated,
        url=article.url,
        ticket_id=article.ticket,
        body=article.body,
        content_hash=digest,
    )


def sync_folder(store: Store, folder: Path) -> SyncReport:
    """Index new and changed articles, drop deleted ones; returns what changed."""
    if not folder.is_dir():
        raise KbError(
            f"The knowledge-base folder {folder} does not exist; create it, or set "
            "[kb] folder in the config."
        )
    report = SyncReport(str(folder))  # failure reasons are cleaned: file names are outside text
    indexed = store.kb.hashes()
    seen: set[str] = set()
    changed: list[ArticleRecord] = []
    for path in article_files(folder):
        rel = path.relative_to(folder).as_posix()
        seen.add(rel)
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.failed.append({"path": rel, "reason": clean_line(f"{path}: {exc.strerror}.")})
            continue
        digest = content_hash(data)
        if indexed.get(rel) == digest:
            report.unchanged += 1
            continue
        try:
            changed.append(_record(path, rel, data, digest))
        except ArticleError as exc:
            report.failed.append({"path": rel, "reason": clean_line(str(exc))})
            continue
        (report.updated if rel in indexed else report.added).append(rel)
    report.removed = sorted(set(indexed) - seen)
    store.kb.apply(changed, report.removed)
    return report


def write_article(folder: Path, stem: str, text: str) -> Path:
    """Write a new article file ``<stem>.md`` (``-2``, ``-3``… if taken; never over
    an existing file)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = slugify(stem)
    for n in range(1, 1000):
        path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
        try:
            with path.open("x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:
            continue
        except OSError as exc:
            raise KbError(f"Cannot write the article {path}: {exc.strerror}.") from exc
        return path
    raise KbError(f"Too many articles named {stem}.md in {folder}.")
