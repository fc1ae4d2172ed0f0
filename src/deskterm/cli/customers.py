"""``deskterm customers``: list, show and merge customers from scripts."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deskterm.cli.common import ExpectVersionOption, JsonOption, emit_json, emit_rows, state

app = typer.Typer(help="List, show and merge customers.", no_args_is_help=True)


def _resolve(ctx: typer.Context, ref: str, *, follow: bool = True) -> int:
    """A customer id from an id (``12``, ``#12``) or any identity (address, phone, id)."""
    from deskterm.ingest.service import phone_identity

    st = state(ctx)
    phone = phone_identity(ref, st.config().chat.default_region)
    return st.store().customers.find_customer(ref, (phone,) if phone else (), follow=follow)


@app.command("list")
def list_customers(
    ctx: typer.Context,
    search: Annotated[
        str, typer.Option("--search", "-s", help="Part of a name, organization or identity.")
    ] = "",
    limit: Annotated[int, typer.Option(min=1, help="At most this many customers.")] = 100,
    after: Annotated[
        int | None, typer.Option(help="Only customers with a higher id (next page).")
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Customers by id, with their identities and ticket counts."""
    rows = state(ctx).store().customers.list_customers(search, limit, after)
    shown: list[dict[str, Any]] = [
        {**r, "identities": r["identities"] if json_ else ", ".join(r["identities"])} for r in rows
    ]
    emit_rows(
        shown,
        ("id", "name", "organization", "tier", "tickets", "identities"),
        "json" if json_ else "table",
        title=f"{len(rows)} customers",
    )


@app.command("show")
def show(
    ctx: typer.Context,
    customer: Annotated[
        str, typer.Argument(help="Customer id, or an identity: email, phone, Slack id...")
    ],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """A customer's profile: identities on every channel and ticket history."""
    from rich.console import Console
    from rich.text import Text

    from deskterm.cli.common import print_table
    from deskterm.textsafe import clean_line

    profile = state(ctx).store().customers.get_customer(_resolve(ctx, customer))
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
        console.print(Text(c.notes))
    print_table(
        data["tickets"],
        ("number", "status", "priority", "subject", "channel", "updated_at"),
        title=f"{len(data['tickets'])} tickets",
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
        f"{result.identities} identities and {result.tickets} tickets moved."
    )
