"""``deskterm export``: every record as JSON Lines, streamed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from deskterm.cli.common import fail, state
from deskterm.cli.output import plural


def export(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Write the whole store as JSON Lines ({"type": table, ...}) for backup or migration."""
    store = state(ctx).store()
    if out is not None and out.exists():
        fail(f"{out} already exists; choose a new file.")
    stream = out.open("x", encoding="utf-8") if out else sys.stdout
    count = 0
    try:
        for record in store.portable.export_records():
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if out:
            stream.close()
    if out:
        typer.echo(f"Exported {plural(count, 'record')} to {out}.", err=True)
