"""``deskterm import``: mail files and chat exports into the store.

Every importer goes through :func:`run_import`, which calls the ingest service
(:mod:`deskterm.ingest.service`), shows a progress bar on a TTY and prints the
summary (or ``--json``).
The mail and chat commands live in ``import_mail.py`` and ``import_chat.py``.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from deskterm.cli.common import INTERRUPTED, CliError, emit_json, exit_interrupted, state
from deskterm.cli.output import Output, list_options

if TYPE_CHECKING:
    from deskterm.ingest.service import ChatOptions
    from deskterm.ingest.state import IngestSummary

app = typer.Typer(help="Import mail files and chat exports.", no_args_is_help=True)


def run_import(
    ctx: typer.Context,
    kind: str,
    paths: Sequence[Path],
    *,
    json_: bool,
    label: str,
    workers: int | None = None,
    chat: ChatOptions | None = None,
) -> IngestSummary:
    """Import through the ingest service and report the result: the summary, each
    refused file on stderr, exit 130 when interrupted, 1 when every item failed."""
    from deskterm.ingest.parsing import start_mail
    from deskterm.paths import is_new_store

    st = state(ctx)
    config = st.config()
    with ExitStack() as stack:
        stack.enter_context(_ctrl_c_leaves_at_once())
        started = None
        if kind == "mail":  # first: the workers parse (or import) while we open the store
            started = start_mail(config, paths, workers, new_store=is_new_store(st.db))
            if started:  # closed even if never imported (the store would not open)
                stack.callback(started.close)
        from deskterm.ingest.service import ChatOptions, import_paths
        from deskterm.ingest.state import IngestError
        from deskterm.textsafe import clean_line

        store = st.store(create=True)
        # What is loaded and opened by now lives until exit: keep it out of the
        # collector's passes (a long import makes many of them).
        gc.freeze()
        refusals: list[str] = []

        def refused(reason: str) -> None:
            refusals.append(reason)
            typer.echo(f"deskterm: {clean_line(reason)}", err=True)

        progress = Progress(label) if sys.stderr.isatty() and not json_ else None
        try:
            summary = import_paths(
                store, config, kind, paths, workers=workers, chat=chat or ChatOptions(),
                progress=progress.update if progress else None, refused=refused,
                started=started,
            )  # fmt: skip
        except IngestError as exc:
            raise CliError(str(exc)) from exc
        finally:
            if progress:
                progress.stop()
    print_summary(summary, json_)
    if summary.interrupted:
        exit_interrupted()
    if summary.messages_failed and not summary.messages_new + summary.messages_duplicate:
        if not refusals:
            typer.echo(
                f"deskterm: Nothing was imported: all {summary.messages_failed} items failed "
                "(see: deskterm import failures).",
                err=True,
            )
        raise typer.Exit(1)
    return summary


@contextmanager
def _ctrl_c_leaves_at_once() -> Iterator[None]:
    """Ctrl-C outside the import loop (which keeps what it committed and reports it):
    parse workers may be running already, so leave at once (see exit_interrupted),
    after the workers were told to stop."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        exit_interrupted()


def print_summary(summary: IngestSummary, json_: bool) -> None:
    if json_:
        emit_json(summary.to_dict())
        return
    lines = [
        f"messages: {summary.messages_new} new, {summary.messages_duplicate} duplicate, "
        f"{summary.messages_failed} failed",
        f"tickets: {summary.tickets_created} created, {summary.tickets_updated} updated, "
        f"{summary.tickets_reopened} reopened",
        f"customers: {summary.customers_created} created",
    ]
    if summary.failures:
        lines.append("see: deskterm import failures")
    if summary.interrupted:
        lines.append("interrupted: everything above is saved; run the same command to resume")
    typer.echo("\n".join(lines))


class Progress:
    """A Rich progress line counting messages, updated as each batch commits."""

    def __init__(self, label: str) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None, counts="")
        self._progress.start()

    def update(self, summary: IngestSummary) -> None:
        counts = (
            f"{summary.messages_new} new · {summary.messages_duplicate} dup · "
            f"{summary.messages_failed} failed"
        )
        self._progress.update(self._task, completed=summary.seen, counts=counts)

    def stop(self) -> None:
        self._progress.stop()


@app.command("failures")
@list_options(limit=100)
def failures(ctx: typer.Context, *, out: Output) -> None:
    """Items that could not be imported: where they were and why."""
    from datetime import datetime

    store = state(ctx).store()

    def fetch(before: Any, n: int) -> tuple[list[dict[str, Any]], Any]:
        rows = store.ingest.import_failures(n, before)
        last = (datetime.fromisoformat(rows[-1]["at"]), rows[-1]["id"]) if rows else None
        return rows, last if len(rows) == n else None

    out.emit(fetch, ("at", "connector", "source", "position", "reason"), noun="import failure")
