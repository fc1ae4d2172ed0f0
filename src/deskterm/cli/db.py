"""``deskterm db``: schema upgrades, checks and backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, fail, require_store, state
from deskterm.cli.output import plural

app = typer.Typer(help="Upgrade, check and back up the store.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Create the store or bring its schema to this version of deskterm."""
    from deskterm.store import engine as engine_mod
    from deskterm.store import schema

    engine = engine_mod.make_engine(state(ctx).db)
    try:
        old, new = schema.upgrade(engine)
    finally:
        engine.dispose()
    where = engine_mod.describe(engine)
    if old == new:
        typer.echo(f"{where} is up to date (schema {new}).")
    else:
        typer.echo(f"{where} upgraded from {old or 'empty'} to schema {new}.")


@app.command()
def check(ctx: typer.Context, json_: Annotated[bool, JsonOption] = False) -> None:
    """Check the store opens, its schema is current, the engine's integrity check passes
    and the counters agree with the rows they count (message_count, tag sort keys);
    print where the store and the config file are."""
    from deskterm.store import engine as engine_mod
    from deskterm.store import schema
    from deskterm.store.base import Database
    from deskterm.store.checks import Checks

    require_store(state(ctx).db)
    engine = engine_mod.make_engine(state(ctx).db)
    try:
        revision = schema.check(engine)
        integrity, wrong = "ok", 0
        examples: list[dict[str, object]] = []
        if revision == schema.HEAD:
            checks = Checks(Database(engine))
            integrity = checks.integrity()
            wrong, examples = checks.counter_mismatches()
    finally:
        engine.dispose()
    from deskterm.paths import config_file

    report = {
        "store": engine_mod.describe(engine),
        "config": str(config_file()),
        "schema": revision,
        "expected": schema.HEAD,
        "current": revision == schema.HEAD,
        "integrity": integrity,
        "counter_mismatches": wrong,
        "mismatches": examples,
    }
    if json_:
        emit_json(report)
    else:
        counters = "counters ok" if not wrong else f"{wrong} counter mismatches"
        typer.echo(
            f"{report['store']}: schema {revision or 'none'} "
            f"({'current' if report['current'] else 'needs: deskterm db upgrade'}), "
            f"integrity {integrity}, {counters}."
        )
        for m in examples:
            typer.echo(f"  #{m['ticket']} {m['what']}: stored {m['stored']}, actual {m['actual']}")
        missing = "" if config_file().exists() else " (none yet: the defaults apply)"
        typer.echo(f"config: {report['config']}{missing}")
    if not report["current"] or integrity != "ok" or wrong:
        raise typer.Exit(1)


@app.command()
def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="New file to write the copy to.")],
) -> None:
    """Write a consistent copy of an SQLite store (safe while deskterm runs)."""
    store = state(ctx).store()
    if path.resolve() == Path(store.location).resolve():
        fail("The backup must go to a different file than the store.")
    store.portable.backup(path)
    typer.echo(f"Backed up {store.location} to {path}.")


@app.command("copy")
def copy_store(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The new store: a file path or database URL.")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Copy the store into a new, empty one (SQLite to PostgreSQL and back), streamed;
    the row counts of both sides are compared at the end."""
    from deskterm.store import Store

    source = state(ctx).store()
    target = Store.open(to)
    try:
        copied = source.portable.copy_to(target.db)
    finally:
        target.close()
    if json_:
        emit_json({"from": source.location, "to": target.location, "rows": copied})
    else:
        total = sum(copied.values())
        typer.echo(
            f"Copied {plural(total, 'row')} from {source.location} to {target.location}; "
            "counts match."
        )
