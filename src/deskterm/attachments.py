"""Attachment files kept under the data directory (``[ingest] store_attachments``).

A file name from outside is never trusted as a path
(:func:`deskterm.textsafe.safe_filename`: ``../../.bashrc`` becomes ``bashrc``). Files live at
``<data dir>/attachments/<sha256[:2]>/<sha256>/<name>``, so the same file attached
to many messages is stored once, two different files with one name never clash,
and the final path is checked to be inside the directory before anything is
written. Files over ``[ingest] attachment_max_bytes`` are recorded but not kept.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from deskterm import paths
from deskterm.connectors.records import AttachmentRecord
from deskterm.textsafe import safe_filename

if TYPE_CHECKING:
    from deskterm.settings import IngestSettings


class AttachmentStore:
    """Writes attachment bytes under one root; returns where each file went."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, ingest: IngestSettings) -> AttachmentStore | None:
        """The store ``[ingest]`` asks for, or None when attachments are not kept."""
        if not ingest.store_attachments:
            return None
        return cls(paths.data_dir() / "attachments", ingest.attachment_max_bytes)

    def save(self, attachment: AttachmentRecord) -> str | None:
        """Keep ``attachment`` (if it has bytes within the limit); its absolute path."""
        data = attachment.data
        if data is None or len(data) > self.max_bytes:
            return None
        digest = hashlib.sha256(data).hexdigest()
        folder = self.root / digest[:2] / digest
        target = folder / safe_filename(attachment.filename, "attachment")
        root = self.root.resolve()
        if not target.resolve().is_relative_to(root) or target.parent.resolve() != (
            root / digest[:2] / digest
        ):
            raise ValueError(f"attachment name {attachment.filename!r} escapes the store")
        if target.is_file() and target.stat().st_size == len(data):
            return str(target)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            Path(temp).replace(target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return str(target)
