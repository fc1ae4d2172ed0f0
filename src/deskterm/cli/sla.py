"""``deskterm sla``: SLA clocks at a glance, and recomputing them after a policy change."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, emit_rows, state
from deskterm.cli.output import plural

app = typer.Typer(
    help="SLA clocks: status and recomputing after a policy change.", no_args_is_help=True
)


@app.command("status")
def sla_status(
    ctx: typer.Context,
    number: Annotated[int | None, typer.Argument(help="A ticket (default: every ticket).")] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """How many tickets are breached or at risk; with a number, that ticket's clocks."""
    from deskterm import sla
    from deskterm.store.types import utcnow

    store = state(ctx).store()
    if number is None:
        counts = store.sla.sla_counts()
        if json_:
            emit_json(counts)
        else:
            typer.echo(f"breached: {counts['breached']}, at risk: {counts['at-risk']}")
        return
    t = store.tickets.get_ticket(number).ticket
    now = utcnow()
    current = sla.status(t, now)
    row = {
        "number": number,
        "state": current.state,
        "clock": current.clock,
        "due": current.due.isoformat() if current.due else None,
        "remaining": current.label,
        "first_response_due": t.sla_first_response_due,
        "first_response_at": t.first_response_at,
        "resolution_due": t.sla_resolution_due,
        "paused_since": t.sla_paused_at,
    }
    if json_:
        emit_json({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()})
        return
    emit_rows([row], ("number", "state", "clock", "remaining", "first_response_due",
                      "resolution_due"), "table")  # fmt: skip


@app.command("recompute")
def recompute(
    ctx: typer.Context,
    filters: Annotated[
        list[str] | None,
        typer.Argument(help="Which tickets, in the query language (default: open tickets)."),
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Recompute due times from the current [sla] policy (after editing it)."""
    from dataclasses import replace

    from deskterm.query import parse_query
    from deskterm.vocab import OPEN_STATUSES

    st = state(ctx)
    store = st.store()
    wanted = parse_query(" ".join(filters or ()), me=st.config().agent.name)
    if not wanted.status:
        wanted = replace(wanted, status=OPEN_STATUSES)
    changed = store.sla.recompute_sla(replace(wanted, text=""))
    if json_:
        emit_json({"changed": changed})
    else:
        typer.echo(f"SLA due times updated on {plural(changed, 'ticket')}.")
