"""``deskterm tickets rate`` and ``deskterm satisfaction import``: CSAT, CES and NPS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskterm.cli.common import JsonOption, emit_json, fail, state

app = typer.Typer(help="Satisfaction scores (CSAT, CES, NPS).", no_args_is_help=True)


def rate(
    ctx: typer.Context,
    number: Annotated[int, typer.Argument(help="Ticket number.")],
    csat: Annotated[int | None, typer.Option(help="Customer satisfaction, 1-5.")] = None,
    ces: Annotated[int | None, typer.Option(help="Customer effort, 1-7.")] = None,
    nps: Annotated[int | None, typer.Option(help="Likelihood to recommend, 0-10.")] = None,
    comment: Annotated[str, typer.Option(help="What the customer said.")] = "",
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Record the customer's satisfaction with a ticket (logged as an event)."""
    scores = {k: v for k, v in (("csat", csat), ("ces", ces), ("nps", nps)) if v is not None}
    if not scores:
        fail("Give a score: --csat 1-5, --ces 1-7 or --nps 0-10.")
    from deskterm.store.satisfaction import check_score

    for kind, score in scores.items():
        check_score(kind, score)  # all or nothing: check every score before recording one
    st = state(ctx)
    store, actor = st.store(), st.config().agent.name
    for kind, score in scores.items():
        store.satisfaction.rate(number, kind, score, actor, comment=comment)
    if json_:
        emit_json({"ticket": number, **scores, "comment": comment or None})
    else:
        said = ", ".join(f"{k.upper()} {v}" for k, v in scores.items())
        typer.echo(f"Recorded {said} on #{number}.")


@app.command("import")
def import_file(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="CSV with ticket or email, kind, score, date, comment.")
    ],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Import survey results from CSV; bad rows are reported by line, the rest imported."""
    from deskterm.satisfaction import import_csv

    if not path.is_file():
        fail(f"{path} is not a file.")
    st = state(ctx)
    try:
        result = import_csv(st.store(create=True), path, st.config().agent.name)
    except (ValueError, OSError) as exc:
        fail(str(exc) if isinstance(exc, ValueError) else f"Cannot read {path}: {exc.strerror}.")
    if json_:
        emit_json(result.to_dict())
    else:
        from deskterm.textsafe import clean_line

        for line, reason in result.failed:
            typer.echo(f"{path.name}:{line}: {clean_line(reason)}", err=True)
        typer.echo(
            f"Imported {result.imported}, {result.duplicates} already there, "
            f"{len(result.failed)} failed."
        )
