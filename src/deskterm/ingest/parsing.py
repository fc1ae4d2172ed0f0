"""How mail is parsed for a config, and starting its parse workers early.

Kept apart from :mod:`deskterm.ingest.service` (which imports the store and
SQLAlchemy) so an import can start the workers' process first, while it still has
those imports ahead of it.
"""

from __future__ import annotations

import functools
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskterm.connectors.mime import ParseOptions
    from deskterm.connectors.records import Item
    from deskterm.settings import Settings


def parse_options(config: Settings) -> ParseOptions:
    """How mail is parsed for this config (file imports and sync alike)."""
    from deskterm.connectors.mime import ParseOptions
    from deskterm.emotion import worker_features

    analyze = None
    if config.emotion.enabled:
        analyze = functools.partial(worker_features, frozenset(config.agent.addresses()))
    return ParseOptions(
        keep_attachment_data=config.ingest.store_attachments,
        attachment_max_bytes=config.ingest.attachment_max_bytes,
        max_message_bytes=config.ingest.max_message_bytes,
        analyze=analyze,
        preload=("deskterm.emotion",) if analyze else (),
    )


def start_mail(
    config: Settings,
    paths: Sequence[Path],
    workers: int | None = None,
    *,
    new_store: bool = False,
) -> StartedMail | None:
    """Get the mail parse workers going while the caller opens the store, when the
    paths look like more mail than is parsed in-process (a directory, a big file).

    For a store about to be created (nothing in it to skip) reading and parsing
    start now: the workers are given their first chunks at once, and the started
    items are returned for :func:`~deskterm.ingest.service.import_paths`. Otherwise
    only the workers' process starts: its imports run on another core meanwhile."""
    from deskterm.connectors.mailjobs import start_parsers

    def big(path: Path) -> bool:
        try:
            return path.is_dir() or path.stat().st_size > 1 << 20
        except OSError:
            return False

    if not any(map(big, paths)):
        return None
    options = parse_options(config)
    if not new_store or not all(path.exists() for path in paths):
        start_parsers(options, workers)
        return None
    from deskterm.connectors.mailfile import read_mail

    return StartedMail(read_mail(paths, options, workers=workers))


class StartedMail:
    """Mail whose parsing has begun: the first item is asked for at once, which fills
    the workers' window. Close it if it is never imported (its workers stop)."""

    def __init__(self, items: Generator[Item, None, None]) -> None:
        self._items = items
        self._first = next(items, None)

    def __iter__(self) -> StartedMail:
        return self

    def __next__(self) -> Item:
        first, self._first = self._first, None
        return first if first is not None else next(self._items)

    def close(self) -> None:
        self._items.close()
