"""``deskterm agents``: the agents a (team) store knows."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, state
from deskterm.cli.output import Output, from_list, list_options

app = typer.Typer(help="List and add the agents of the store.", no_args_is_help=True)


@app.command("list")
@list_options(limit=100)
def list_agents(ctx: typer.Context, *, out: Output) -> None:
    """Every agent: name, address and the queues they work."""
    rows = [
        {"name": a.name, "email": a.email, "queues": a.queues}
        for a in state(ctx).store().agents.list_agents()
    ]
    if not rows and out.fmt == "table":
        typer.echo("No agents yet: deskterm agents add NAME --email ADDRESS", err=True)
        return
    out.emit(from_list(rows), ["name", "email", "queues"], noun="agent", count=lambda: len(rows))


@app.command("add")
def add_agent(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The agent's name, as in their [agent] name.")],
    email: Annotated[str, typer.Option(help="Their address.")] = "",
    queues: Annotated[str | None, typer.Option(help="Queues they work: comma-separated.")] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Add an agent (or change the address and queues of one)."""
    agent = (
        state(ctx)
        .store(create=True)
        .agents.add_agent(name, email, None if queues is None else queues.split(","))
    )
    if json_:
        emit_json({"name": agent.name, "email": agent.email, "queues": agent.queues})
    else:
        typer.echo(f"Agent {agent.name} saved.")
