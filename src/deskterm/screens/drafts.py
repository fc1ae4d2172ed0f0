"""Unsaved resolution-note drafts, kept in files so they survive a closed terminal.

The notes editor writes the draft here a moment after every change (before the store
autosave, which waits for a pause in typing) and removes it once the store holds the
same text. A draft left behind by a crash or a killed terminal is offered again the
next time the ticket is opened. One small JSON file per ticket and store, replaced
atomically so a half-written draft never replaces a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from deskterm import paths


@dataclass(frozen=True)
class Draft:
    """Text typed into a ticket's notes and the note version it was based on."""

    ticket: int
    body: str
    base_version: int
    written_at: datetime


class DraftBox:
    """The draft files of one store (stores never share drafts: ticket numbers clash)."""

    def __init__(self, store_location: str, root: Path | None = None) -> None:
        key = hashlib.sha256(store_location.encode()).hexdigest()[:16]
        self.directory = (root or paths.data_dir() / "drafts") / key

    def path(self, ticket: int) -> Path:
        return self.directory / f"ticket-{ticket}.json"

    def write(self, draft: Draft) -> None:
        """Replace the ticket's draft (write to a temp file, fsync, rename)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(draft.ticket)
        tmp = target.with_suffix(".tmp")
        data = {
            "ticket": draft.ticket,
            "body": draft.body,
            "base_version": draft.base_version,
            "written_at": draft.written_at.isoformat(),
        }
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target)

    def read(self, ticket: int) -> Draft | None:
        """The ticket's draft, or ``None``; an unreadable file counts as no draft."""
        try:
            data = json.loads(self.path(ticket).read_text(encoding="utf-8"))
            return Draft(
                ticket=int(data["ticket"]),
                body=str(data["body"]),
                base_version=int(data["base_version"]),
                written_at=datetime.fromisoformat(data["written_at"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A torn or foreign file: moving it aside keeps it for a human to look at.
            self.path(ticket).replace(self.path(ticket).with_suffix(".bad"))
            return None

    def discard(self, ticket: int, body: str | None = None) -> None:
        """Remove the draft; with ``body``, only if the draft still holds that text."""
        if body is not None:
            current = self.read(ticket)
            if current is None or current.body != body:
                return
        self.path(ticket).unlink(missing_ok=True)
