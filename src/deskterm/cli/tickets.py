"""``deskterm tickets``: list, show and change tickets from scripts."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import CsvOption, JsonOption, emit_json, emit_rows, output_format, state

app = typer.Typer(help="List, show and change tickets.", no_args_is_help=True)

LIST_COLUMNS = (
    "number",
    "priority",
    "status",
    "customer",
    "subject",
    "channel",
    "assignee",
    "updated_at",
)


def _values(option: list[str] | None) -> tuple[str, ...]:
    """Repeated options and comma-separated values both work: --status new,open."""
    return tuple(v.strip() for item in option or () for v in item.split(",") if v.strip())


@app.command("list")
def list_tickets(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None, typer.Option(help="new, open, pending, on_hold, solved, closed.")
    ] = None,
    priority: Annotated[list[str] | None, typer.Option(help="low, normal, high, urgent.")] = None,
    queue: Annotated[list[str] | None, typer.Option(help="Queue (department).")] = None,
    assignee: Annotated[
        list[str] | None, typer.Option(help="Agent name; 'none' for unassigned.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Tag (repeat: all must match).")] = None,
    customer: Annotated[
        list[str] | None, typer.Option(help="Name, address, domain, phone or #id.")
    ] = None,
    channel: Annotated[
        list[str] | None, typer.Option(help="email, whatsapp, slack, telegram, discord, chat.")
    ] = None,
    sla: Annotated[str | None, typer.Option(help="breached or at-risk.")] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help='Query language: status:open from:acme.com "words".'),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many tickets.")] = 50,
    json_: Annotated[bool, JsonOption] = False,
    csv_: Annotated[bool, CsvOption] = False,
) -> None:
    """Tickets, newest activity first."""
    from deskterm.query import TicketFilter, parse_query

    fmt = output_format(json_, csv_)
    typed = parse_query(query) if query else TicketFilter()
    options = parse_query(
        " ".join(
            f"{key}:{','.join(values)}"
            for key, values in (
                ("status", _values(status)),
                ("priority", _values(priority)),
                ("channel", _values(channel)),
                ("sla", (sla,) if sla else ()),
            )
            if values
        )
    )
    from dataclasses import replace

    options = replace(
        options,
        queue=_values(queue),
        assignee=tuple("none" if a.lower() == "none" else a for a in _values(assignee)),
        tags=tuple(t.lower() for t in _values(tag)),
        customer=_values(customer),
    )
    store = state(ctx).store()
    wanted = options.merged(typed)
    rows: list[dict[str, object]] = []
    seen: set[int] = set()
    cursor = None
    while len(rows) < limit:
        page = store.list_tickets(wanted, after=cursor, limit=min(limit - len(rows), 500))
        for row in page.rows:
            if row.number not in seen:
                seen.add(row.number)
                rows.append(row.to_dict())
        if page.next is None or not page.rows:
            break
        cursor = page.next
    emit_rows(rows, LIST_COLUMNS, fmt, title=f"{len(rows)} tickets")


@app.command("show")
def show(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """One ticket with its messages, customer, HEARD steps and resolution notes."""
    store = state(ctx).store()
    detail = store.get_ticket(number)
    if json_:
        emit_json(detail.to_dict())
        return
    from deskterm.cli.render import print_ticket

    print_ticket(detail)
