"""The ``deskterm`` command: a console by default, subcommands for scripts.

Only typer is imported at start-up; each command imports the store, the importers or
the TUI when it runs, so ``deskterm --help`` answers fast.
"""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from deskterm.cli import (
    agents,
    bulk,
    customers,
    db,
    demo,
    export,
    import_chat,
    import_mail,
    imports,
    kb,
    macros,
    reminders,
    reply,
    report,
    satisfaction,
    search,
    sla,
    sync,
    ticket_ops,
    tickets,
    triage,
    views,
)
from deskterm.cli.common import DesktermGroup, State

app = typer.Typer(
    cls=DesktermGroup,
    help="A keyboard-first support desk in the terminal. Without a command, opens the console.",
    no_args_is_help=False,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
tickets.app.add_typer(ticket_ops.app)  # merge, escalate, link: same group
tickets.app.add_typer(reminders.app)  # wake, due, new
imports.app.add_typer(import_mail.app)
imports.app.add_typer(import_chat.app)
app.add_typer(tickets.app, name="tickets")
app.add_typer(db.app, name="db")
app.add_typer(imports.app, name="import")
app.command("demo")(demo.demo)
app.command("search")(search.search)
app.command("export")(export.export)
app.command("reply")(reply.reply)
app.command("triage")(triage.triage)
app.command("sync")(sync.sync)
app.add_typer(macros.app, name="macros")
app.add_typer(sla.app, name="sla")
app.add_typer(customers.app, name="customers")
app.add_typer(agents.app, name="agents")
app.add_typer(kb.app, name="kb")
app.command("report")(report.report)
app.add_typer(satisfaction.app, name="satisfaction")
tickets.app.command("rate")(satisfaction.rate)
app.command("undo")(bulk.undo)
app.add_typer(views.app, name="views")


@app.callback()
def root(
    ctx: typer.Context,
    db_target: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="DESKTERM_DB",
            help="Store: a file path or a database URL (postgresql+psycopg://…).",
            show_envvar=True,
        ),
    ] = None,
) -> None:
    """Open the console on the store, or run a subcommand."""
    ctx.obj = State(db=db_target)
    if ctx.invoked_subcommand is None:
        from deskterm.cli.console import open_console

        open_console(ctx.obj)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        # All is about to go: spare the exit the collector's last pass over every
        # object (a quarter of a second after a big import).
        gc.freeze()
