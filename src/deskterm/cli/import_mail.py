"""``deskterm import mail``: .eml files, mbox and maildir (registered on ``import``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskterm.cli.common import JsonOption
from deskterm.cli.imports import run_import

app = typer.Typer()


@app.command("mail")
def import_mail(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Mail to import: .eml files, mbox files, maildirs, or directories of them.",
            show_default=False,
        ),
    ],
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Parser processes (default: one per core)."),
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Import mail files; the kind of each path is detected. Re-running is safe:
    messages already in the store are counted as duplicates, not stored twice."""
    run_import(ctx, "mail", paths, json_=json_, label="Importing mail", workers=workers)
