"""``deskterm import whatsapp|slack|telegram|discord|jsonl`` (registered on ``import``).

Each command only reads its arguments: the ingest service opens every export first
(a file refused as a whole — a refused zip, an unknown layout, dates that need
``--date-order`` — is one line on stderr and a recorded failure, and the other files
go on), then runs the one pipeline (progress bar on a TTY, summary or ``--json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deskterm.cli.common import JsonOption
from deskterm.cli.imports import run_import

app = typer.Typer()

TzOption = typer.Option(
    "--tz",
    help="Time zone the export's local times are in (IANA name, e.g. Europe/Berlin); "
    "default: [chat] timezone, else this machine's zone.",
)


@app.command("whatsapp")
def whatsapp(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Chat exports: the .txt or the .zip WhatsApp made.")
    ],
    date_order: Annotated[
        str | None,
        typer.Option(
            "--date-order",
            help="dmy, mdy or ymd, for exports whose dates fit both day/month and month/day.",
        ),
    ] = None,
    tz: Annotated[str | None, TzOption] = None,
    chat: Annotated[
        str | None,
        typer.Option(help="Name of the chat (default: from the file name, e.g. 'Ana Souza')."),
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """WhatsApp chat exports (Android and iOS, any locale), with media from the zip."""
    from deskterm.ingest.service import ChatOptions

    options = ChatOptions(date_order=date_order, tz=tz, chat=chat)
    run_import(ctx, "whatsapp", files, json_=json_, label="WhatsApp", chat=options)


@app.command("slack")
def slack(
    ctx: typer.Context,
    export: Annotated[Path, typer.Argument(help="The workspace export: its zip or its folder.")],
    channel: Annotated[
        list[str] | None,
        typer.Option(help="Import only this channel (name or id; repeat for more)."),
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """A Slack workspace export: channels, private channels, DMs and threads."""
    from deskterm.ingest.service import ChatOptions

    options = ChatOptions(channels=tuple(channel or ()))
    run_import(ctx, "slack", [export], json_=json_, label="Slack", chat=options)


@app.command("telegram")
def telegram(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Telegram Desktop JSON exports (result.json).")
    ],
    tz: Annotated[str | None, TzOption] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Telegram Desktop JSON exports: one chat or the whole account."""
    from deskterm.ingest.service import ChatOptions

    run_import(ctx, "telegram", files, json_=json_, label="Telegram", chat=ChatOptions(tz=tz))


@app.command("discord")
def discord(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="DiscordChatExporter JSON files (one per channel).")
    ],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Discord channels exported by DiscordChatExporter (JSON)."""
    run_import(ctx, "discord", files, json_=json_, label="Discord")


@app.command("jsonl")
def jsonl(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="JSON Lines files in deskterm's chat format.")
    ],
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Zone for timestamps written without an offset (default UTC)."),
    ] = None,
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Chat messages in the generic JSON Lines format (see docs/jsonl.md)."""
    from deskterm.ingest.service import ChatOptions

    run_import(ctx, "jsonl", files, json_=json_, label="JSON Lines", chat=ChatOptions(tz=tz))
