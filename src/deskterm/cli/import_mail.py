"""``deskterm import mail``: .eml files, mbox and maildir (registered on ``import``)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deskterm.cli.common import JsonOption, fail, state
from deskterm.cli.imports import app, run_import

if TYPE_CHECKING:
    from deskterm.connectors.mime import ParseOptions
    from deskterm.settings import Settings


@app.command("mail")
def import_mail(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Mail to import: .eml files, mbox files, maildirs, or directories of them.",
            show_default=False,
        ),
    ],
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Parser processes (default: one per core)."),
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Import mail files; the kind of each path is detected. Re-running is safe:
    messages already in the store are counted as duplicates, not stored twice."""
    from deskterm.connectors.mailfile import read_mail

    for path in paths:
        if not path.exists():
            fail(f"{path} does not exist.")
    st = state(ctx)
    config, store = st.config(), st.store(create=True)
    options = parse_options(config)
    items = read_mail(paths, options, workers=workers, known=store.ingest.known_source_keys)
    with closing(items):
        run_import(ctx, items, connector="mail", json_=json_, label="Importing mail")


def parse_options(config: Settings) -> ParseOptions:
    """How mail is parsed for this config (shared by ``import mail`` and ``sync``)."""
    from deskterm.connectors.mime import ParseOptions

    return ParseOptions(
        keep_attachment_data=config.ingest.store_attachments,
        attachment_max_bytes=config.ingest.attachment_max_bytes,
        analyze_emotion=config.emotion.enabled,
        agents=frozenset(config.agent.addresses()),
    )
