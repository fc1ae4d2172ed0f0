"""``sync --watch``: IDLE on every folder, new mail imported within seconds.

One thread per folder keeps an IDLE connection and wakes the main loop; the loop
gathers the folders with news and syncs them through a fresh pipeline each round
(its caches must not outlive changes agents make). The accounts' sync leases are
held throughout.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Any

from deskterm.ingest.state import IngestError, IngestHook, IngestSummary

# Called after each round that saw mail: (account, folders, summary).
RoundReport = Callable[[str, list[str], IngestSummary], None]

if TYPE_CHECKING:
    from deskterm.connectors.imap import ImapSync
    from deskterm.connectors.mime import ParseOptions
    from deskterm.settings import Settings
    from deskterm.store import Store


def watch(
    store: Store,
    config: Settings,
    chosen: list[Any],
    passwords: dict[str, str],
    *,
    report: RoundReport,
    workers: int | None,
    started: Callable[[int], None] | None,
    waiting: Callable[[str], None] | None,
) -> None:
    """Watch until Ctrl-C; IMAP errors end it as an ``IngestError``."""
    from imapclient.exceptions import IMAPClientError

    from deskterm.connectors.imap import FolderWatcher, ImapError, ImapSync
    from deskterm.ingest.hooks import default_hooks
    from deskterm.ingest.leases import account_leases
    from deskterm.ingest.parsing import parse_options

    hooks = default_hooks(config)
    options = parse_options(config)
    stop = threading.Event()
    wake: queue.Queue[tuple[str, str]] = queue.Queue()
    errors: list[BaseException] = []

    def failed(exc: BaseException) -> None:
        errors.append(exc)
        wake.put(("", ""))  # wake the main loop to report it

    def notifier(name: str) -> Callable[[str], None]:
        return lambda folder: wake.put((name, folder))

    with account_leases(store, [a.name for a in chosen], waiting=waiting or (lambda _m: None)):
        syncs = {
            a.name: ImapSync(
                a,
                passwords[a.name],
                store.ingest.sync_state,
                forever=True,
                max_message_bytes=config.ingest.max_message_bytes,
            )
            for a in chosen
        }
        watchers = [
            FolderWatcher(a, passwords[a.name], folder, notifier(a.name), failed, stop)
            for a in chosen
            for folder in a.folders
        ]
        for watcher in watchers:
            watcher.start()
        if started is not None:
            started(len(watchers))
        try:
            while True:
                due = _next_round(wake)
                if errors:
                    raise IngestError(str(errors[0]))
                for name, folders in due.items():
                    summary = _round(store, config, hooks, options, syncs[name], folders, workers)
                    if summary.seen:
                        report(name, folders, summary)
        except (ImapError, IMAPClientError) as exc:
            raise IngestError(str(exc)) from exc
        finally:
            stop.set()
            for watcher in watchers:
                watcher.join(timeout=5)
            for one in syncs.values():
                one.close()


def _next_round(wake: queue.Queue[tuple[str, str]]) -> dict[str, list[str]]:
    """Wait for a folder with news, then gather whatever else arrives right after."""
    due: dict[str, list[str]] = {}
    first = wake.get()  # blocks; Ctrl-C still interrupts it
    items = [first]
    while True:
        try:
            items.append(wake.get(timeout=0.3))
        except queue.Empty:
            break
    for name, folder in items:
        if name and folder not in due.setdefault(name, []):
            due[name].append(folder)
    return {k: v for k, v in due.items() if v}


def _round(
    store: Store,
    config: Settings,
    hooks: list[IngestHook],
    options: ParseOptions,
    sync_: ImapSync,
    folders: list[str],
    workers: int | None,
) -> IngestSummary:
    """Sync some folders of one account through a fresh pipeline."""
    from imapclient.exceptions import IMAPClientError

    from deskterm.connectors.imap import ImapError
    from deskterm.connectors.mailjobs import parse_in_order
    from deskterm.ingest.service import run_items

    items = parse_in_order(sync_.items(folders), options, workers=workers)
    with closing(items):
        summary = run_items(
            store, config, items, connector="imap", hooks=hooks,
            source_errors=(ImapError, IMAPClientError),
        )  # fmt: skip
    if summary.interrupted:
        raise KeyboardInterrupt
    return summary


def watch_accounts(
    store: Store,
    config: Settings,
    account: str | None,
    *,
    report: RoundReport,
    workers: int | None = None,
    started: Callable[[int], None] | None = None,
    waiting: Callable[[str], None] | None = None,
) -> None:
    """Keep an IDLE connection on every folder and import new mail within seconds,
    until Ctrl-C (``KeyboardInterrupt``). ``started`` gets the number of folders
    watched; ``waiting`` says why the watch waits for another process first."""
    from deskterm.ingest.service import chosen_accounts

    chosen = chosen_accounts(config, account)
    passwords = {a.name: a.password() for a in chosen}
    watch(store, config, chosen, passwords, report=report, workers=workers,
          started=started, waiting=waiting)  # fmt: skip
