"""``deskterm tickets wake``, ``tickets due`` and ``tickets new``: reminders, and tickets
opened by hand (a cron job can run ``tickets wake``; every other command wakes due
tickets too)."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, emit_rows, state

app = typer.Typer()  # joined to ``deskterm tickets`` in cli/__init__.py


@app.command("wake")
def wake(ctx: typer.Context, json_: Annotated[bool, JsonOption] = False) -> None:
    """Reopen snoozed tickets whose reminder is due (each with an event)."""
    st = state(ctx)
    numbers = [*st.store().snooze.wake(), *st.woken]  # opening the store wakes them first
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


@app.command("new")
def new(
    ctx: typer.Context,
    subject: Annotated[str, typer.Option("--subject", "-s", help="What it is about.")],
    body: Annotated[
        str, typer.Option("--body", "-b", help="What the customer said; - reads stdin.")
    ],
    channel: Annotated[str, typer.Option(help="phone, in_person or email.")] = "phone",
    name: Annotated[str, typer.Option(help="The customer's name.")] = "",
    email: Annotated[str | None, typer.Option(help="The customer's email.")] = None,
    phone: Annotated[str | None, typer.Option(help="The customer's phone number.")] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Open a ticket by hand (a phone call, a walk-in, an email you log); the customer
    is found by email or phone, or created."""
    import sys

    from deskterm.manual import NewTicket, open_ticket

    st = state(ctx)
    text = sys.stdin.read() if body == "-" else body
    ticket = NewTicket(channel, subject, text, name=name, email=email, phone=phone)
    number = open_ticket(st.store(create=True), st.config(), ticket)
    if json_:
        emit_json(st.store().tickets.get_ticket(number).to_dict())
    else:
        typer.echo(f"Opened #{number}.")
