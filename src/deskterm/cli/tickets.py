"""``deskterm tickets``: list, show and change tickets from scripts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deskterm.cli.common import ExpectVersionOption, JsonOption, emit_json, fail, state
from deskterm.cli.output import Output, list_options

if TYPE_CHECKING:
    from deskterm.query import TicketFilter
    from deskterm.store import Store, TicketDetail

app = typer.Typer(help="List, show and change tickets.", no_args_is_help=True)

LIST_COLUMNS = (
    "number",
    "priority",
    "sla",
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
@list_options(limit=50)
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
    view: Annotated[
        str | None,
        typer.Option(
            help="A view, as in the console: mine, unassigned, open, pending, solved, all, "
            "sla, due (or its label, 'My unsolved'), or a saved view's name; other options "
            "narrow it."
        ),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            help="Order: activity (default), created, priority, sla, customer, reminder; "
            "a --view brings its own."
        ),
    ] = None,
    ids: Annotated[
        bool,
        typer.Option("--ids", help="Only the numbers, one a line, every match (for pipes)."),
    ] = False,
    *,
    out: Output,
) -> None:
    """Tickets, newest activity first (or in the --sort or --view order)."""
    from deskterm.query import TicketFilter, parse_query
    from deskterm.views import find_view

    typed = parse_query(query, me=state(ctx).config().agent.name) if query else TicketFilter()
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
    st = state(ctx)
    store = st.store()
    wanted = options.merged(typed)
    order = "activity"
    if view is not None:
        chosen = find_view(st.config().agent.name, view, store.views.list())
        wanted, order = chosen.filter.merged(wanted), chosen.sort
    order = _sort(sort, wanted) or order
    if ids:  # every match unless --limit was given: a pipe wants the whole set
        source = ctx.get_parameter_source("limit")
        explicit = getattr(source, "name", "") == "COMMANDLINE"
        print_ids(store, wanted, out.limit if explicit else None, order)
        return
    seen: set[int] = set()
    from deskterm.sla import status as sla_status
    from deskterm.store.types import utcnow

    now = utcnow()

    def fetch(cursor: Any, n: int) -> tuple[list[dict[str, Any]], Any]:
        page = store.queue.list_tickets(wanted, after=cursor, limit=n, sort=order)
        fresh = [row for row in page.rows if row.number not in seen]
        seen.update(row.number for row in fresh)
        tags = store.queue.tags_of([row.number for row in fresh])
        rows = []
        for row in fresh:
            clock = sla_status(row, now)
            extra = {"sla": clock.label, "sla_state": clock.state, "tags": tags.get(row.number, [])}
            rows.append({**row.to_dict(), **extra})
        if out.fmt == "csv":
            rows = [{**r, "tags": ",".join(r["tags"])} for r in rows]
        return rows, page.next if page.rows else None

    count = None if wanted.text else (lambda: store.queue.count_tickets(wanted))
    out.emit(fetch, LIST_COLUMNS, noun="ticket", count=count)


def _sort(key: str | None, wanted: TicketFilter) -> str | None:
    """The ``--sort`` asked for, checked (one sentence for a wrong one)."""
    from deskterm.vocab import SORTS

    if key is None:
        return None
    if key.lower() not in SORTS:
        fail(f"--sort must be one of {', '.join(SORTS)}, not {key!r}.")
    if wanted.text and key.lower() != "activity":
        fail("Searches for words list the newest match first; --sort orders filters only.")
    return key.lower()


def print_ids(store: Store, wanted: TicketFilter, limit: int | None, sort: str) -> None:
    """Numbers one a line, page by page, so a pipe starts at once."""
    cursor, printed, seen = None, 0, set()
    out = sys.stdout
    while limit is None or printed < limit:
        page = store.queue.list_tickets(wanted, after=cursor, limit=1000, sort=sort)
        for row in page.rows:
            if row.number not in seen and (limit is None or printed < limit):
                seen.add(row.number)
                out.write(f"{row.number}\n")
                printed += 1
        if page.next is None or not page.rows:
            break
        cursor = page.next
    out.flush()


@app.command("show")
def show(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """One ticket with its messages, customer, HEARD steps and resolution notes."""
    store = state(ctx).store()
    detail = store.tickets.get_ticket(number)
    if json_:
        from deskterm.cli.kb import suggested_articles

        emit_json(
            {**detail.to_dict(), "suggested_articles": suggested_articles(state(ctx), number)}
        )
        return
    from deskterm.cli.render import print_ticket

    print_ticket(detail)


@app.command("set")
def set_fields(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    status: Annotated[str | None, typer.Option(help="New status.")] = None,
    priority: Annotated[str | None, typer.Option(help="New priority.")] = None,
    queue: Annotated[str | None, typer.Option(help="Move to this queue.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Assign to an agent; '' unassigns.")] = None,
    tags: Annotated[str | None, typer.Option(help="Replace the tags: comma-separated.")] = None,
    emotion: Annotated[
        str | None, typer.Option(help="Correct the detected emotion (anger, neutral...).")
    ] = None,
    snooze: Annotated[
        str | None,
        typer.Option(help="Pending until then, back to open after: 'tomorrow 9:00', 'in 3d'."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Solve even with HEARD steps open (policy warn).")
    ] = False,
    expect_version: Annotated[int | None, ExpectVersionOption] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Change a ticket's status, priority, queue, assignee, tags or emotion (each change
    is logged).

    All changes are made together, or none: with --expect-version, only if nobody
    changed the ticket since that version (exit code 3 otherwise)."""
    from deskterm.heard import Verdict, check_status

    st = state(ctx)
    store, config = st.store(), st.config()
    actor = config.agent.name
    if status is not None:
        check = check_status(store, number, status, config.heard.solve_policy)
        if check.verdict is Verdict.REFUSE:
            fail(f"{check.reason}; the policy requires them before solving.")
        if check.verdict is Verdict.CONFIRM and not force:
            fail(f"{check.reason}; add --force to solve anyway.")
    if snooze is not None:
        if status is not None:
            fail("--snooze sets the status to pending; leave out --status.")
        from deskterm.snooze import WhenError, parse_when
        from deskterm.store.types import utcnow

        try:
            until = parse_when(snooze, utcnow())
        except WhenError as exc:
            fail(str(exc))
        store.snooze.snooze(number, until, actor, expected_version=expect_version)
        expect_version = None  # checked by the snooze, in its own transaction
    store.tickets.update(
        number,
        actor,
        expected_version=expect_version,
        status=status,
        priority=priority,
        queue=queue,
        assignee=assignee,
        tags=None if tags is None else [t for t in tags.split(",") if t.strip()],
        emotion=None if emotion is None else emotion.strip().lower(),
    )
    _print_state(store.tickets.get_ticket(number), json_)


@app.command("heard")
def heard_step(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    step: Annotated[str, typer.Argument(help="H, E, A, R or D (or its name).")],
    undo: Annotated[bool, typer.Option("--undo", help="Mark the step not done.")] = False,
    category: Annotated[str | None, typer.Option(help="Diagnose: the root-cause category.")] = None,
    note: Annotated[str | None, typer.Option(help="A note on the step.")] = None,
    expect_version: Annotated[int | None, ExpectVersionOption] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Mark a HEARD step done (or not); Diagnose takes a root-cause category."""
    from deskterm.vocab import HEARD_NAMES

    st = state(ctx)
    config = st.config()
    names = {name.lower(): key for key, name in HEARD_NAMES.items()}
    key = names.get(step.lower(), step.upper())
    if category is not None and category not in config.heard.root_causes:
        fail(f"Root cause must be one of: {', '.join(config.heard.root_causes)}.")
    st.store().tickets.set_heard(
        number,
        key,
        not undo,
        config.agent.name,
        note=note,
        category=category,
        expected_version=expect_version,
    )
    _print_state(st.store().tickets.get_ticket(number), json_)


@app.command("note")
def resolution_note(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    file: Annotated[
        str, typer.Option("--file", "-f", help="Markdown file with the notes; - for stdin.")
    ],
    internal: Annotated[
        bool, typer.Option("--internal", help="Add an internal note to the conversation instead.")
    ] = False,
    expect_version: Annotated[int | None, ExpectVersionOption] = None,
) -> None:
    """Save a new version of the resolution notes (or add an internal note)."""
    import sys
    from pathlib import Path

    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    st = state(ctx)
    actor = st.config().agent.name
    if internal:
        st.store().tickets.add_internal_note(number, text, actor)
        typer.echo(f"Internal note added to #{number}.")
    else:
        version = st.store().tickets.save_note(number, text, actor, expected_version=expect_version)
        typer.echo(f"Saved resolution notes of #{number} as version {version.version}.")


@app.command("take")
def take(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Only tickets matching this filter.")
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Assign the most urgent unassigned new or open ticket to me (never one another agent
    takes at the same moment)."""
    from deskterm.query import parse_query

    st = state(ctx)
    agent = st.config().agent.name
    number = st.store().claims.take_next(agent, parse_query(query, me=agent) if query else None)
    if number is None:
        fail("There is no unassigned new or open ticket to take.")
    if json_:
        emit_json(st.store().tickets.get_ticket(number).to_dict())
    else:
        typer.echo(f"Took #{number} for {agent}.")


def _print_state(detail: TicketDetail, json_: bool) -> None:
    if json_:
        emit_json(detail.to_dict())
        return
    t = detail.ticket
    done = "".join(s for s in "HEARD" if s in detail.heard and detail.heard[s].done) or "-"
    typer.echo(
        f"#{t.id} {t.status} · {t.priority} · queue {t.queue} · assignee {t.assignee or '-'} · "
        f"tags {','.join(detail.tags) or '-'} · HEARD {done}"
    )
