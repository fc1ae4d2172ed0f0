"""``deskterm sync [ACCOUNT] [--watch]``: new mail from the configured IMAP accounts.

One run fetches what arrived since the last one (per folder, by UIDVALIDITY and UID)
and goes through the same import pipeline as mail files. ``--watch`` then keeps an
IDLE connection on every folder and imports new mail within seconds, reconnecting
with back-off when the server goes away; Ctrl-C stops it. Only one process syncs an
account at a time: another ``sync`` says which process holds it, ``--watch`` waits.
The work is done by :mod:`deskterm.ingest.service`; this module parses and prints.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from deskterm.cli.common import CliError, JsonOption, exit_interrupted, state
from deskterm.cli.imports import Progress, print_summary

if TYPE_CHECKING:
    from deskterm.ingest.state import IngestSummary


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
    from deskterm.ingest.service import sync_accounts
    from deskterm.ingest.state import IngestError
    from deskterm.ingest.watch import watch_accounts

    st = state(ctx)
    store, config = st.store(create=True), st.config()
    try:
        if not watch:
            progress = Progress("Syncing mail") if sys.stderr.isatty() and not json_ else None
            try:
                summary = sync_accounts(
                    store, config, account, workers=workers,
                    progress=progress.update if progress else None,
                )  # fmt: skip
            finally:
                if progress:
                    progress.stop()
            print_summary(summary, json_)
            if summary.interrupted:
                exit_interrupted()
            return
        watch_accounts(
            store, config, account, workers=workers,
            report=lambda name, folders, s: _report(name, folders, s, json_),
            started=None if json_ else _started,
            waiting=lambda why: typer.echo(f"waiting: {why}", err=True),
        )  # fmt: skip
    except IngestError as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:
        if not json_ and watch:
            typer.echo("stopped watching", err=True)
        elif not watch:
            raise


def _started(folders: int) -> None:
    typer.echo(f"watching {folders} folder(s); Ctrl-C stops", err=True)


def _report(account: str, folders: list[str], summary: IngestSummary, json_: bool) -> None:
    """One line (or JSON object) per round that saw mail."""
    if json_:
        record = {"account": account, "folders": folders, **summary.to_dict()}
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
        return
    stamp = datetime.now().strftime("%H:%M:%S")
    typer.echo(
        f"{stamp} {account} {', '.join(folders)}: {summary.messages_new} new, "
        f"{summary.messages_duplicate} duplicate, {summary.messages_failed} failed; tickets "
        f"{summary.tickets_created} created, {summary.tickets_updated} updated, "
        f"{summary.tickets_reopened} reopened"
    )
