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
    body: Annotated[str, typer.Option("--body", "-b", help="The first message; - reads stdin.")],
    channel: Annotated[str, typer.Option(help="phone, in_person or email.")] = "phone",
    customer: Annotated[
        str | None,
        typer.Option(help="An existing customer: #id, email, phone or another identity."),
    ] = None,
    name: Annotated[str, typer.Option(help="The customer's name.")] = "",
    email: Annotated[str | None, typer.Option(help="The customer's email.")] = None,
    phone: Annotated[str | None, typer.Option(help="The customer's phone number.")] = None,
    outbound: Annotated[
        bool,
        typer.Option(
            "--outbound",
            help="The first message is yours (an email is sent through [smtp]); "
            "by default it is what the customer said.",
        ),
    ] = False,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Open a ticket by hand (a phone call, a walk-in, an email you log or send); the
    customer is picked with --customer, or found by email or phone, or created."""
    import sys

    from deskterm.cli.common import fail
    from deskterm.cli.customers import _resolve
    from deskterm.manual import NewTicket, NotSent, open_ticket

    st = state(ctx)
    text = sys.stdin.read() if body == "-" else body
    store = st.store(create=True)
    customer_id = _resolve(ctx, customer) if customer is not None else None
    ticket = NewTicket(
        channel, subject, text, name=name, email=email, phone=phone,
        customer_id=customer_id, direction="outbound" if outbound else "inbound",
    )  # fmt: skip
    try:
        number = open_ticket(store, st.config(), ticket)
    except NotSent as exc:
        fail(str(exc))
    if json_:
        emit_json(store.tickets.get_ticket(number).to_dict())
    else:
        sent = " and sent the email" if outbound and channel == "email" else ""
        typer.echo(f"Opened #{number}{sent}.")
