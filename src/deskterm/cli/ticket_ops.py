"""``deskterm tickets merge|escalate|link``: the ticket operations of the service workflow.

Added to the ``tickets`` group in ``cli/__init__.py``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, fail, state
from deskterm.cli.output import plural

app = typer.Typer()


@app.command("merge")
def merge(
    ctx: typer.Context,
    source: Annotated[int, typer.Argument(help="The ticket to merge away.")],
    into: Annotated[int, typer.Argument(help="The ticket that keeps everything.")],
    note: Annotated[str, typer.Option(help="Why (kept in the event log).")] = "",
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Merge SOURCE into INTO: messages and tags move, SOURCE is closed and links to INTO."""
    st = state(ctx)
    store = st.store()
    moved = len(store.tickets.get_ticket(source).messages)
    target = store.workflow.merge_tickets(source, into, st.config().agent.name, note=note)
    if json_:
        emit_json({"merged": source, "into": into, "messages_moved": moved,
                   "message_count": target.message_count})  # fmt: skip
        return
    typer.echo(
        f"Merged #{source} into #{into}: {plural(moved, 'message')} moved; #{source} is closed."
    )


@app.command("escalate")
def escalate(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    note: Annotated[str, typer.Option(help="Why it is escalated (required).")],
    queue: Annotated[str | None, typer.Option(help="Move to this queue.")] = None,
    priority: Annotated[str | None, typer.Option(help="New priority.")] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Escalate: move to another queue and/or priority, with a note saying why."""
    if queue is None and priority is None:
        fail("Escalate needs --queue, --priority or both.")
    st = state(ctx)
    ticket = st.store().workflow.escalate(
        number, note, st.config().agent.name, queue=queue, priority=priority
    )
    if json_:
        emit_json({"number": number, "queue": ticket.queue, "priority": ticket.priority,
                   "note": note})  # fmt: skip
        return
    typer.echo(f"Escalated #{number}: queue {ticket.queue}, priority {ticket.priority}.")


@app.command("link")
def link(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    other: Annotated[int, typer.Argument(help="The related ticket.")],
    remove: Annotated[bool, typer.Option("--remove", help="Remove the link instead.")] = False,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Link two related tickets (or remove the link with --remove)."""
    st = state(ctx)
    store, actor = st.store(), st.config().agent.name
    if remove:
        changed = store.workflow.unlink_tickets(number, other, actor)
        message = f"Unlinked #{number} and #{other}." if changed else "They were not linked."
    else:
        changed = store.workflow.link_tickets(number, other, actor)
        message = f"Linked #{number} and #{other}." if changed else "They were linked already."
    if json_:
        emit_json({"number": number, "other": other, "linked": not remove, "changed": changed})
        return
    typer.echo(message)
