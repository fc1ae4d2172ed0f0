"""One sync per account at a time, across processes: a lease in the store.

The process syncing an account holds the lease ``sync:<account>`` and renews it from a
background thread; another ``sync`` of the same account is told who holds it, and
``sync --watch`` waits until it is free. A killed holder's lease lapses after
:data:`TTL`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskterm.store import Store
    from deskterm.store.leases import Holder

log = logging.getLogger(__name__)
TTL = timedelta(seconds=60)
WAIT_POLL = 2.0  # seconds between tries while waiting for a lease


def holder_name() -> str:
    """This process, as another process is told about it."""
    return f"process {os.getpid()} on {socket.gethostname()}"


def describe(account: str, held: Holder) -> str:
    until = held.expires_at.astimezone().strftime("%H:%M:%S")
    return (
        f"Account {account!r} is being synced by {held.holder} "
        f"(lease renewed until {until}); try again when it is done."
    )


@contextmanager
def account_leases(
    store: Store, accounts: Sequence[str], *, waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the sync lease of every account for the block.

    Without ``waiting`` a lease someone else holds raises
    :class:`~deskterm.ingest.service.IngestError` naming them; with it, ``waiting`` gets
    that sentence once and the call waits for the lease.
    """
    from deskterm.ingest.state import IngestError

    me = holder_name()
    names = [f"sync:{a}" for a in accounts]
    taken: list[str] = []
    stop = threading.Event()
    try:
        for account, name in zip(accounts, names, strict=True):
            told = False
            while (held := store.leases.acquire(name, me, TTL)) is not None:
                if waiting is None:
                    raise IngestError(describe(account, held))
                if not told:
                    waiting(describe(account, held))
                    told = True
                time.sleep(WAIT_POLL)
            taken.append(name)
        keeper = threading.Thread(
            target=_renew, args=(store, taken, me, stop), name="lease-keeper", daemon=True
        )
        keeper.start()
        yield
    finally:
        stop.set()
        for name in taken:
            store.leases.release(name, me)


def _renew(store: Store, names: list[str], me: str, stop: threading.Event) -> None:
    from deskterm.store.errors import StoreError

    while not stop.wait(TTL.total_seconds() / 3):
        for name in names:
            try:
                store.leases.renew(name, me, TTL)
            except StoreError as exc:  # a busy store: the next round, well before it lapses
                log.warning("lease %s not renewed this time: %s", name, exc)
