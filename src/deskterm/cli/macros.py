"""``deskterm macros``: the canned responses in the config's ``macros/`` folder."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, state
from deskterm.cli.output import Output, from_list, list_options

app = typer.Typer(help="Canned responses (macros).", no_args_is_help=True)


@app.command("list")
@list_options(limit=100)
def list_macros(ctx: typer.Context, *, out: Output) -> None:
    """Every macro, with the status, priority and tags it sets."""
    from deskterm.macros import load_macros, macros_dir

    config = state(ctx).config()
    macros = load_macros(config)
    if not macros and out.fmt == "table":
        typer.echo(f"No macros yet: add Markdown files to {macros_dir(config)}.", err=True)
        return
    if out.fmt == "json":
        rows = [m.to_dict() for m in macros]
    else:
        rows = [
            {
                "name": m.name,
                "key": m.key or "",
                "title": m.title,
                "sets": ", ".join(
                    [v for v in (m.status, m.priority) if v] + [f"+{t}" for t in m.tags]
                ),
                "channels": ", ".join(m.channels),
            }
            for m in macros
        ]
    out.emit(
        from_list(rows),
        ["name", "key", "title", "sets", "channels"],
        noun="macro",
        count=lambda: len(rows),
    )


@app.command("show")
def show_macro(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Macro name (the file name without .md).")],
    ticket: Annotated[
        int | None, typer.Option(help="Fill in the placeholders for this ticket.")
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """A macro's text, raw or rendered for a ticket."""
    from deskterm.macros import find_macro, load_macros, render_for

    st = state(ctx)
    config = st.config()
    macro = find_macro(load_macros(config), name)
    text = render_for(st.store(), config, ticket, macro) if ticket is not None else macro.body
    if json_:
        emit_json({**macro.to_dict(), "text": text})
        return
    typer.echo(text, nl=False)
