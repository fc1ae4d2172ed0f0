"""Where the knowledge base lives: ``[kb]`` of the settings, turned into a folder.

``[kb] folder`` (or ``DESKTERM_KB``) names the articles' folder; without it, a store
file ``X.db`` keeps its articles in ``X-kb/`` beside it (so the demo store and a test
store never share articles with the real one), the default store in ``kb/`` under the
data directory, and a PostgreSQL store also there. ``[kb] base_url`` turns an article
into a public link (``base_url`` + its path without ``.md``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from deskterm import paths

if TYPE_CHECKING:
    from deskterm.settings import Settings


def kb_folder(config: Settings, store_location: str) -> Path:
    """The articles' folder for a store (see the module docstring for the default)."""
    explicit = os.environ.get("DESKTERM_KB") or config.kb.folder
    if explicit:
        return Path(explicit).expanduser().absolute()
    return default_folder(store_location)


def default_folder(store_location: str) -> Path:
    """The folder a store uses when none is configured (the demo always uses it)."""
    if "://" in store_location:
        return paths.data_dir() / "kb"
    store = Path(store_location).expanduser().absolute()
    if store == paths.default_store().absolute():
        return store.parent / "kb"
    return store.with_name(f"{store.stem}-kb")


def base_url(config: Settings) -> str | None:
    """Where public articles are published, for links in replies (or ``None``)."""
    return config.kb.base_url


def with_folder(config: Settings, folder: Path) -> Settings:
    """The settings with ``[kb] folder`` set (the demo console uses its own articles)."""
    return config.model_copy(update={"kb": config.kb.model_copy(update={"folder": str(folder)})})
