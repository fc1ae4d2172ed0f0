"""``deskterm sync [ACCOUNT] [--watch]``: new mail from the configured IMAP accounts.

One run fetches what arrived since the last one (per folder, by UIDVALIDITY and UID)
and goes through the same import pipeline as mail files. ``--watch`` then keeps an
IDLE connection on every folder and imports new mail within seconds, reconnecting
with back-off when the server goes away; Ctrl-C stops it.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from deskterm.cli.common import CliError, JsonOption, fail, state
from deskterm.cli.imports import run_import

if TYPE_CHECKING:
    from deskterm.cli.common import State
    from deskterm.connectors.imap import ImapSync
    from deskterm.connectors.mailjobs import MailJob
    from deskterm.connectors.mime import ParseOptions
    from deskterm.connectors.records import Item
    from deskterm.ingest.pipeline import IngestHook
    from deskterm.settings import AccountSettings, Settings
    from deskterm.store import Store


def sync(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Argument(
            help="The [accounts.NAME] to sync (default: every account).", show_default=False
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option("--watch", help="Keep running: IDLE on every folder, new mail in seconds."),
    ] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parser processes (default: one per core).")
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Fetch new mail from the IMAP accounts in the config file (mail is not marked
    read). Safe to run at any time: what is already stored is never doubled."""
    st = state(ctx)
    configured = st.config().accounts
    if account is not None and account not in configured:
        known = ", ".join(configured) or "none"
        fail(f"No account {account!r} in the config file (configured: {known}).")
    chosen = [configured[account]] if account else list(configured.values())
    if not chosen:
        fail("No IMAP accounts are configured: add an [accounts.NAME] table to the config file.")
    passwords = {a.name: a.password() for a in chosen}
    if watch:
        _watch(st, chosen, passwords, workers, json_)
    else:
        _once(ctx, chosen, passwords, workers, json_)


def _options(st: State) -> ParseOptions:
    from deskterm.cli.import_mail import parse_options

    return parse_options(st.config())


def _once(
    ctx: typer.Context,
    chosen: list[AccountSettings],
    passwords: dict[str, str],
    workers: int | None,
    json_: bool,
) -> None:
    from imapclient.exceptions import IMAPClientError

    from deskterm.connectors.imap import ImapError, ImapSync
    from deskterm.connectors.mailjobs import parse_in_order

    st = state(ctx)
    store = st.store(create=True)
    syncs = [ImapSync(a, passwords[a.name], store.ingest.sync_state) for a in chosen]

    def jobs() -> Iterator[MailJob | Item]:
        for one in syncs:
            yield from one.items()

    items = parse_in_order(jobs(), _options(st), workers=workers)
    try:
        with closing(items):
            run_import(ctx, items, connector="imap", json_=json_, label="Syncing mail")
    except (ImapError, IMAPClientError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        for one in syncs:
            one.close()


def _watch(
    st: State,
    chosen: list[AccountSettings],
    passwords: dict[str, str],
    workers: int | None,
    json_: bool,
) -> None:
    from imapclient.exceptions import IMAPClientError

    from deskterm.connectors.imap import FolderWatcher, ImapError, ImapSync
    from deskterm.ingest.hooks import default_hooks

    store, config = st.store(create=True), st.config()
    hooks = default_hooks(config)
    options = _options(st)
    stop = threading.Event()
    wake: queue.Queue[tuple[str, str]] = queue.Queue()
    errors: list[BaseException] = []

    def failed(exc: BaseException) -> None:
        errors.append(exc)
        wake.put(("", ""))  # wake the main loop to report it

    syncs = {
        a.name: ImapSync(a, passwords[a.name], store.ingest.sync_state, forever=True)
        for a in chosen
    }

    def notifier(name: str) -> Callable[[str], None]:
        return lambda folder: wake.put((name, folder))

    watchers = [
        FolderWatcher(a, passwords[a.name], folder, notifier(a.name), failed, stop)
        for a in chosen
        for folder in a.folders
    ]
    for watcher in watchers:
        watcher.start()
    if not json_:
        typer.echo(f"watching {len(watchers)} folder(s); Ctrl-C stops", err=True)
    try:
        while True:
            due = _next_round(wake)
            if errors:
                raise CliError(str(errors[0]))
            for name, folders in due.items():
                _round(store, config, hooks, options, syncs[name], folders, workers, json_)
    except KeyboardInterrupt:
        if not json_:
            typer.echo("stopped watching", err=True)
    except (ImapError, IMAPClientError) as exc:
        raise CliError(str(exc)) from exc
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
    json_: bool,
) -> None:
    """Sync some folders of one account; one line (or JSON object) when anything came."""
    from deskterm.connectors.mailjobs import parse_in_order
    from deskterm.ingest import Ingestor

    # A fresh pipeline each round: its caches must not outlive changes agents make.
    ingestor = Ingestor(store, config, hooks=hooks)
    items = parse_in_order(sync_.items(folders), options, workers=workers)
    with closing(items):
        summary = ingestor.run(items, connector="imap")
    if summary.interrupted:
        raise KeyboardInterrupt
    if not summary.seen:
        return
    if json_:
        record = {"account": sync_.account.name, "folders": folders, **summary.to_dict()}
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
        return
    stamp = datetime.now().strftime("%H:%M:%S")
    typer.echo(
        f"{stamp} {sync_.account.name} {', '.join(folders)}: {summary.messages_new} new, "
        f"{summary.messages_duplicate} duplicate, {summary.messages_failed} failed; tickets "
        f"{summary.tickets_created} created, {summary.tickets_updated} updated, "
        f"{summary.tickets_reopened} reopened"
    )
