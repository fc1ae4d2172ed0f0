"""Where the knowledge base lives: the ``[kb]`` config keys, read in this one place.

``[kb] folder`` (or ``DESKTERM_KB``) names the articles' folder; without it, a store
file ``X.db`` keeps its articles in ``X-kb/`` beside it (so the demo store and a test
store never share articles with the real one), the default store in ``kb/`` under the
data directory, and a PostgreSQL store also there. ``[kb] base_url`` turns an article
into a public link (``base_url`` + its path without ``.md``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from deskterm import paths

if TYPE_CHECKING:
    from deskterm.config import Config


def _section(config: Config) -> dict[str, object]:
    from deskterm.config import ConfigError

    section = config.raw.get("kb", {})
    if not isinstance(section, dict):
        raise ConfigError(f"[kb] in {config.path} must be a table.")
    return section


def _string(config: Config, key: str) -> str | None:
    from deskterm.config import ConfigError

    value = _section(config).get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(f"kb.{key} in {config.path} must be a non-empty string.")
    return value


def kb_folder(config: Config, store_location: str) -> Path:
    """The articles' folder for a store (see the module docstring for the default)."""
    explicit = os.environ.get("DESKTERM_KB") or _string(config, "folder")
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


def base_url(config: Config) -> str | None:
    """Where public articles are published, for links in replies (or ``None``)."""
    return _string(config, "base_url")


def with_folder(config: Config, folder: Path) -> Config:
    """The config with ``[kb] folder`` set (the demo console uses its own articles)."""
    raw = dict(config.raw)
    raw["kb"] = {**_section(config), "folder": str(folder)}
    return replace(config, raw=raw)
