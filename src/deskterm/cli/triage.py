"""``deskterm triage``: re-run the triage rules over stored tickets."""

from __future__ import annotations

from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, emit_rows, state
from deskterm.cli.output import plural


def triage(
    ctx: typer.Context,
    filters: Annotated[
        list[str] | None,
        typer.Argument(
            help="Which tickets, in the query language (status:open queue:general ...); "
            "without status: only open tickets."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Show what would change; change nothing.")
    ] = False,
    show_rules: Annotated[
        bool, typer.Option("--rules", help="List the rules (checking them) and stop.")
    ] = False,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Apply the [[rules]] of the config to stored tickets, as ingest does for new mail.

    Each ticket's inbound messages are replayed oldest first; every rule that changes
    something is written to the ticket's event log.
    """
    from dataclasses import replace

    from deskterm.query import parse_query
    from deskterm.triage import rerun, rules_from
    from deskterm.vocab import OPEN_STATUSES

    st = state(ctx)
    rules = rules_from(st.config().rules)
    if show_rules:
        rows = [
            {
                "rule": r.name,
                "when": ", ".join(f"{k}={v!r}" for k, v in r.settings.when.written().items()),
                "set": ", ".join(
                    f"{k}={v!r}" for k, v in r.actions.model_dump(exclude_unset=True).items()
                ),
                "stop": r.stop,
            }
            for r in rules
        ]
        emit_rows(rows, ("rule", "when", "set"), "json" if json_ else "table",
                  title=plural(len(rows), "rule"))  # fmt: skip
        return
    wanted = parse_query(" ".join(filters or ()), me=st.config().agent.name)
    if not wanted.status:
        wanted = replace(wanted, status=OPEN_STATUSES)
    if wanted.text:
        typer.echo("deskterm: triage filters by fields only; words are ignored.", err=True)
        wanted = replace(wanted, text="")
    if not rules:
        typer.echo("deskterm: no [[rules]] in the config; nothing to do.", err=True)
    plans = rerun(st.store(), rules, wanted, dry_run=dry_run) if rules else []
    rows = [p.to_dict() for p in plans]
    if json_:
        emit_json({"dry_run": dry_run, "changed": len(rows), "tickets": rows})
        return
    table = []
    for p in plans:
        item = p.to_dict()
        changes = [f"{k} {old or '-'} → {new}" for k, (old, new) in item["changes"].items()]
        if item["tags_added"]:
            changes.append(f"tags +{','.join(item['tags_added'])}")
        table.append(
            {
                "number": p.number,
                "subject": p.subject,
                "rules": ", ".join(dict.fromkeys(a.rule for a in p.applied)),
                "changes": "; ".join(changes),
            }
        )
    verb = "would change" if dry_run else "changed"
    emit_rows(table, ("number", "changes", "rules", "subject"), "table",
              title=f"{plural(len(table), 'ticket')} {verb}")  # fmt: skip
