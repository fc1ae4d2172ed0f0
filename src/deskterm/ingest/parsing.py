"""How mail is parsed for a config, and starting its parse workers early.

Kept apart from :mod:`deskterm.ingest.service` (which imports the store and
SQLAlchemy) so an import can start the workers' process first, while it still has
those imports ahead of it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskterm.connectors.mime import ParseOptions
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


def start_mail_parsers(config: Settings, paths: Sequence[Path], workers: int | None = None) -> None:
    """Get the mail parse workers going while the caller opens the store, when the
    paths look like more mail than is parsed in-process (a directory, a big file):
    their process starts and imports on another core meanwhile, a few tenths of a
    second off the import."""
    from deskterm.connectors.mailjobs import start_parsers

    def big(path: Path) -> bool:
        try:
            return path.is_dir() or path.stat().st_size > 1 << 20
        except OSError:
            return False

    if any(map(big, paths)):
        start_parsers(parse_options(config), workers)
