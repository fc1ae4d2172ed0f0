"""``deskterm views``: the built-in queue views and the views agents saved, together."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskterm.cli.common import CsvOption, JsonOption, emit_rows, output_format, state

app = typer.Typer(help="List, add and remove named queue views.", no_args_is_help=True)


def all_views(ctx: typer.Context, counts: bool) -> list[dict[str, Any]]:
    """Built-in views first (keys 1–8 in the console), then saved ones (9, 0)."""
    from deskterm.query import format_query, parse_query
    from deskterm.views import saved_views

    st = state(ctx)
    store = st.store()
    rows: list[dict[str, Any]] = [
        {"key": str(n), "name": v.label, "query": format_query(v.filter), "kind": "built-in",
         "sort": v.sort}
        for n, v in enumerate(saved_views(st.config().agent.name), 1)
    ]  # fmt: skip
    for n, view in enumerate(store.views.list()):
        key = "90"[n] if n < 2 else ""
        rows.append({"key": key, "name": view.name, "query": view.query, "kind": "saved",
                     "sort": view.sort, "owner": view.owner})  # fmt: skip
    if counts:
        for row in rows:
            f = parse_query(row["query"])
            row["tickets"] = None if f.text else store.queue.count_tickets(f)
    return rows


@app.command("list")
def list_views(
    ctx: typer.Context,
    counts: Annotated[bool, typer.Option("--counts", help="Count each view's tickets.")] = False,
    json_: Annotated[bool, JsonOption] = False,
    csv_: Annotated[bool, CsvOption] = False,
) -> None:
    """Every view with its key in the console and its query."""
    columns = ("key", "name", "kind", "query", "sort", *(("tickets",) if counts else ()))
    emit_rows(all_views(ctx, counts), columns, output_format(json_, csv_), title="Views")


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The view's name, as the view bar shows it.")],
    query: Annotated[str, typer.Argument(help='A query: "status:open tag:vip".')],
    sort: Annotated[
        str, typer.Option(help="Order: activity, created, priority, sla, customer, reminder.")
    ] = "activity",
) -> None:
    """Save a query as a named view (a view of that name is replaced)."""
    st = state(ctx)
    view = st.store(create=True).views.add(name, query, st.config().agent.name, sort=sort)
    typer.echo(f"Saved view {view.name!r}: {view.query}")


@app.command("remove")
def remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The view's name.")]
) -> None:
    """Remove a saved view (built-in views stay)."""
    state(ctx).store().views.remove(name)
    typer.echo(f"Removed view {name!r}.")
