"""``deskterm customers``: list, show and merge customers from scripts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskterm.cli.common import ExpectVersionOption, JsonOption, emit_json, fail, state
from deskterm.cli.output import Output, list_options, plural

app = typer.Typer(help="List, show and merge customers.", no_args_is_help=True)


def _resolve(ctx: typer.Context, ref: str, *, follow: bool = True) -> int:
    """A customer id from an id (``12``, ``#12``) or any identity (address, phone, id)."""
    from deskterm.ingest.service import phone_identity

    st = state(ctx)
    phone = phone_identity(ref, st.config().chat.default_region)
    return st.store().customers.find_customer(ref, (phone,) if phone else (), follow=follow)


def _resolve_any(ctx: typer.Context, ref: str) -> int:
    """Like :func:`_resolve`, and also what ``tickets list --customer`` takes: a domain
    or part of a name, as long as it names one customer."""
    from deskterm.store.errors import NotFound
    from deskterm.textsafe import clean_line

    try:
        return _resolve(ctx, ref)
    except NotFound:
        found = state(ctx).store().queue.matching_customers(ref)
        if len(found) == 1:
            return found[0][0]
        if not found:
            fail(f"No customer matches {ref!r} (by #id, name, address, domain or phone).")
        names = ", ".join(f"#{cid} {clean_line(name)}" for cid, name in found[:5])
        more = ", …" if len(found) > 5 else ""
        fail(f"{ref!r} matches several customers ({names}{more}); name one by #id or address.")


@app.command("list")
@list_options(limit=100)
def list_customers(
    ctx: typer.Context,
    search: Annotated[
        str, typer.Option("--search", "-s", help="Part of a name, organization or identity.")
    ] = "",
    after: Annotated[
        int | None, typer.Option(help="Only customers with a higher id (next page).")
    ] = None,
    *,
    out: Output,
) -> None:
    """Customers by id, with their identities and ticket counts."""
    store = state(ctx).store()

    def fetch(cursor: int | None, n: int) -> tuple[list[dict[str, Any]], int | None]:
        rows = store.customers.list_customers(search, n, after if cursor is None else cursor)
        if out.fmt != "json":
            rows = [{**r, "identities": ", ".join(r["identities"])} for r in rows]
        return rows, rows[-1]["id"] if len(rows) == n else None

    out.emit(
        fetch, ("id", "name", "organization", "tier", "tickets", "identities"), noun="customer"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    customer: Annotated[
        str,
        typer.Argument(help="#id, name, email, domain, phone or another identity (Slack id...)."),
    ],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """A customer's profile: identities on every channel and ticket history."""
    from rich.console import Console
    from rich.text import Text

    from deskterm.cli.common import print_table
    from deskterm.textsafe import clean_line, clean_text

    profile = state(ctx).store().customers.get_customer(_resolve_any(ctx, customer))
    data = profile.to_dict()
    if json_:
        emit_json(data)
        return
    c = profile.customer
    console = Console()
    header = Text(f"Customer #{c.id} ", style="bold")
    header.append(clean_line(c.name))
    console.print(header)
    lines = [
        ("organization", c.organization or "-"),
        ("tier", c.tier),
        ("tags", c.tags or "-"),
        ("first seen", str(data["first_seen"])[:16].replace("T", " ")),
        ("last CSAT", str(profile.last_csat) if profile.last_csat is not None else "-"),
    ]
    for label, value in lines:
        console.print(Text(f"{label:>12}: ") + Text(clean_line(value)))
    for ident in data["identities"]:
        console.print(Text(f"{ident['kind']:>12}: ") + Text(clean_line(ident["value"])))
    if c.notes.strip():
        console.print(Text("notes:", style="bold"))
        console.print(Text(clean_text(c.notes)))
    if profile.ratings:
        console.print(Text(f"satisfaction ({profile.rating_count}, newest first):", style="bold"))
    for r in profile.ratings:
        rated = f"{r.kind.upper():>12}: {r.score:>2} {r.at:%Y-%m-%d %H:%M} #{r.ticket} "
        console.print(Text(rated) + Text(clean_line(r.comment)))
    print_table(
        data["tickets"],
        ("number", "status", "priority", "subject", "channel", "updated_at"),
        title=plural(len(data["tickets"]), "ticket"),
    )


@app.command("set")
def set_fields(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="Customer id, or an identity.")],
    tier: Annotated[str | None, typer.Option(help="free, standard, premium, enterprise…")] = None,
    organization: Annotated[str | None, typer.Option(help="Organization; '' clears it.")] = None,
    notes: Annotated[
        str | None, typer.Option(help="Replace the notes; - reads them from stdin.")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Replace the tags: comma-separated.")] = None,
    expect_version: Annotated[int | None, ExpectVersionOption] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Edit a customer's tier, organization, notes or tags (each change is logged).

    With --expect-version, only if nobody changed the customer since (exit code 3)."""
    import sys

    st = state(ctx)
    c = st.store().customers.update(
        _resolve(ctx, customer),
        st.config().agent.name,
        expected_version=expect_version,
        tier=tier,
        organization=organization,
        notes=sys.stdin.read() if notes == "-" else notes,
        tags=None if tags is None else tags.split(","),
    )
    if json_:
        emit_json(st.store().customers.get_customer(c.id or 0).to_dict())
    else:
        org, tags_ = c.organization or "-", c.tags or "-"
        typer.echo(f"Customer #{c.id} {c.name}: tier {c.tier} · organization {org} · "
                   f"tags {tags_} · version {c.version}")  # fmt: skip


@app.command("merge")
def merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The customer merged away (id or identity).")],
    target: Annotated[str, typer.Argument(help="The customer that stays (id or identity).")],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Merge customer SOURCE into TARGET: identities, tickets and history move (logged)."""
    st = state(ctx)
    result = st.store().customers.merge_customers(
        _resolve(ctx, source, follow=False),
        _resolve(ctx, target, follow=False),
        st.config().agent.name,
    )
    if json_:
        emit_json(result.to_dict())
        return
    typer.echo(
        f"Merged customer #{result.source} into #{result.target}: "
        f"{plural(result.identities, 'identity')} and {plural(result.tickets, 'ticket')} moved."
    )
