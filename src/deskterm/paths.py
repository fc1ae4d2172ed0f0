"""Where deskterm keeps its files.

Environment variables override the platform directories so tests (and people with
unusual setups) never touch the real store: ``DESKTERM_HOME`` moves both data and
config, ``DESKTERM_CONFIG`` points at one config file, ``DESKTERM_DB`` at one store.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "deskterm"


def data_dir() -> Path:
    """The directory for the default store, attachments and demo stores."""
    home = os.environ.get("DESKTERM_HOME")
    if home:
        return Path(home) / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """The directory holding ``config.toml`` and ``macros/``."""
    home = os.environ.get("DESKTERM_HOME")
    if home:
        return Path(home) / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    """The config file: ``DESKTERM_CONFIG`` or ``config.toml`` in the config dir."""
    explicit = os.environ.get("DESKTERM_CONFIG")
    return Path(explicit) if explicit else config_dir() / "config.toml"


def default_store() -> Path:
    """The agent's real store, used when neither ``--db`` nor ``DESKTERM_DB`` is given."""
    return data_dir() / "deskterm.db"


def resolve_target(target: str | os.PathLike[str] | None) -> str:
    """The store location: the argument, else ``DESKTERM_DB``, else the default path."""
    if target is not None and str(target) != "":
        return str(target)
    env = os.environ.get("DESKTERM_DB")
    if env:
        return env
    default = default_store()
    default.parent.mkdir(parents=True, exist_ok=True)
    return str(default)


def is_new_store(target: str | os.PathLike[str] | None) -> bool:
    """Whether ``target`` names an SQLite file that does not exist yet: a store about
    to be created, which holds nothing (told apart without loading SQLAlchemy)."""
    where = resolve_target(target)
    return "://" not in where and not Path(where).expanduser().exists()


def demo_store() -> Path:
    """The demo store: kept apart from the real one so a demo never overwrites work."""
    return data_dir() / "demo.db"
