"""``deskterm tickets wake`` and ``tickets due``: snoozed tickets from scripts (a cron
job can run ``tickets wake``; every other command wakes due tickets too)."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, emit_rows, state
from deskterm.cli.tickets import app


@app.command("wake")
def wake(ctx: typer.Context, json_: Annotated[bool, JsonOption] = False) -> None:
    """Reopen snoozed tickets whose reminder is due (each with an event)."""
    numbers = state(ctx).store().snooze.wake()  # opening the store already woke them
    if json_:
        emit_json({"woken": numbers})
    else:
        typer.echo(f"{len(numbers)} snoozed tickets due now." if numbers else "Nothing is due.")


@app.command("due")
def due(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 200,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Snoozed tickets, soonest reminder first."""
    rows = [r.to_dict() for r in state(ctx).store().snooze.due(limit)]
    columns = ("number", "remind_at", "customer", "subject", "assignee")
    emit_rows(rows, columns, "json" if json_ else "table", title=f"{len(rows)} snoozed")
