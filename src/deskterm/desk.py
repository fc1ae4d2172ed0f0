"""Opening the desk: the one way the CLI, the console and the tests get a store whose
rules (the SLA policy) are the configured ones.

The store knows no rules (it is below the services); this factory hands them in.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskterm.settings import Settings
    from deskterm.store import Store


def open_store(
    target: str | os.PathLike[str] | None = None,
    config: Settings | None = None,
    *,
    upgrade: bool = True,
) -> Store:
    """Open the store at ``target`` (default: the user's) with the SLA policy of
    ``config`` (default: the user's config file).

    A broken config raises :class:`~deskterm.settings.ConfigError`."""
    from deskterm.settings import load_settings
    from deskterm.sla import SlaPolicy
    from deskterm.store import Store

    policy = SlaPolicy.from_settings((config if config is not None else load_settings()).sla)
    return Store.open(target, upgrade=upgrade, sla_policy=policy)
