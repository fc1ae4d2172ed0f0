"""``deskterm tickets update`` and ``deskterm undo``: the console's marks and bulk
actions for scripts and pipes (``tickets list --ids -q … | tickets update - …``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from deskterm.cli.common import CONFLICT_EXIT, JsonOption, emit_json, fail, state
from deskterm.cli.tickets import app

if TYPE_CHECKING:
    from deskterm.store.bulk_ops import BulkResult

SETTABLE = ("status", "priority", "queue", "assignee")


def read_numbers(words: list[str]) -> list[int]:
    """Ticket numbers from arguments; ``-`` reads more from stdin (any whitespace,
    ``#12`` or ``12``)."""
    numbers: list[int] = []
    for word in words:
        items = sys.stdin.read().split() if word == "-" else [word]
        for item in items:
            text = item.strip().lstrip("#").rstrip(",")
            if not text.isdigit():
                fail(f"{item!r} is not a ticket number.")
            numbers.append(int(text))
    return list(dict.fromkeys(numbers))


def parse_sets(sets: list[str]) -> dict[str, str]:
    """``status=solved`` pairs as a dict, refusing unknown fields."""
    values: dict[str, str] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in SETTABLE:
            fail(f"--set takes FIELD=VALUE with FIELD one of {', '.join(SETTABLE)}; not {item!r}.")
        values[key] = value.strip()
    return values


def report(result: BulkResult, json_: bool) -> None:
    """The outcome on stdout (or as JSON), conflicts on stderr; exit 3 if any."""
    if json_:
        emit_json(result.to_dict())
    else:
        n = result.changed
        done = result.label if result.label.startswith("Undid") else (
            f"{'Would set' if result.dry_run else 'Set'} {result.label} on {n:,} "
            f"ticket{'' if n == 1 else 's'}")  # fmt: skip
        typer.echo(f"{done} ({result.matched:,} matched, {result.events:,} events).")
    for number, why in result.conflicts:
        typer.echo(f"deskterm: #{number} not changed: {why}.", err=True)
    if result.conflicts:
        raise typer.Exit(CONFLICT_EXIT)


@app.command("update")
def update(
    ctx: typer.Context,
    numbers: Annotated[
        list[str] | None, typer.Argument(help="Ticket numbers; - reads them from stdin.")
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Every ticket matching this filter.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE: status, priority, queue or assignee (repeat)."),
    ] = None,
    add_tag: Annotated[list[str] | None, typer.Option(help="Add this tag (repeat).")] = None,
    remove_tag: Annotated[list[str] | None, typer.Option(help="Remove this tag (repeat).")] = None,
    assign: Annotated[
        str | None, typer.Option("--assign", help="Assign to this agent; '' unassigns.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change; change nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Solve even with HEARD steps open (policy warn).")
    ] = False,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Change many tickets at once, as one action that 'deskterm undo' takes back.

    Tickets that cannot be changed are named on stderr and the exit code is 3."""
    from deskterm.query import parse_query
    from deskterm.store.bulk_ops import Changes, Selection

    if bool(numbers) == bool(query):
        fail("Give ticket numbers (or - for stdin) or --query, not both or neither.")
    values = parse_sets(set_ or [])
    if assign is not None:
        values["assignee"] = assign
    changes = Changes(
        status=values.get("status"),
        priority=values.get("priority"),
        queue=values.get("queue"),
        assignee=values.get("assignee"),
        add_tags=tuple(add_tag or ()),
        remove_tags=tuple(remove_tag or ()),
    )
    if query:
        selection = Selection(query=parse_query(query))
    else:
        wanted = read_numbers(numbers or [])
        if not wanted:
            fail("No ticket numbers were given.")
        selection = Selection(numbers=dict.fromkeys(wanted))
    st = state(ctx)
    policy = st.config().heard.solve_policy  # "require" always, "warn" unless --force
    result = st.store().bulk_ops.apply(
        selection,
        changes,
        st.config().agent.name,
        dry_run=dry_run,
        heard_required=policy == "require" or (policy == "warn" and not force),
    )
    report(result, json_)


def undo(ctx: typer.Context, json_: Annotated[bool, JsonOption] = False) -> None:
    """Undo my last action (a bulk update, a single change or a merge) from the event
    log; tickets changed since are named on stderr (exit code 3)."""
    st = state(ctx)
    report(st.store().undo.undo(st.config().agent.name), json_)
