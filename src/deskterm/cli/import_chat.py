"""``deskterm import whatsapp|slack|telegram|discord|jsonl`` (registered on ``import``).

Each command opens its exports first, so everything that is wrong with a file as a
whole (a refused zip, an unknown layout, dates that need ``--date-order``) is one
clear error before anything is imported; then the one ingest pipeline takes over
(progress bar on a TTY, summary or ``--json``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deskterm.cli.common import CliError, JsonOption, state
from deskterm.cli.imports import run_import

if TYPE_CHECKING:
    from deskterm.connectors.archive import ArchiveLimits
    from deskterm.connectors.records import Item

app = typer.Typer()
TzOption = typer.Option(
    "--tz",
    help="Time zone the export's local times are in (IANA name, e.g. Europe/Berlin); "
    "default: [chat] timezone, else this machine's zone.",
)


@dataclass
class _Setup:
    """What every chat import reads from the config."""

    region: str
    tz: tzinfo
    limits: ArchiveLimits
    store_dir: Path | None
    max_attachment: int


def _setup(ctx: typer.Context, channel: str, tz_name: str | None) -> _Setup:
    from deskterm import paths
    from deskterm.connectors.archive import ArchiveLimits
    from deskterm.connectors.chatbase import ConnectorError, zone

    config = state(ctx).config()
    ingest = config.ingest
    try:
        tz = zone(tz_name or config.chat.timezone)
    except ConnectorError as exc:
        raise CliError(str(exc)) from exc
    store_dir = paths.data_dir() / "attachments" / channel if ingest.store_attachments else None
    limits = ArchiveLimits(
        max_total=ingest.archive_max_bytes,
        max_member=ingest.archive_member_max_bytes,
        max_ratio=ingest.archive_max_ratio,
    )
    return _Setup(config.chat.default_region, tz, limits, store_dir, ingest.attachment_max_bytes)


def _import(
    ctx: typer.Context,
    opener: Callable[[ExitStack], list[Callable[[], Iterator[Item]]]],
    *,
    connector: str,
    label: str,
    json_: bool,
) -> None:
    """Open every export (errors are fatal and clear), then import them in order."""
    from deskterm.connectors.chatbase import ConnectorError

    with ExitStack() as stack:
        try:
            sources = opener(stack)
        except ConnectorError as exc:
            raise CliError(str(exc)) from exc

        def items() -> Iterator[Item]:
            for source in sources:
                yield from source()

        try:
            run_import(ctx, items(), connector=connector, json_=json_, label=label)
        except ConnectorError as exc:
            raise CliError(f"{exc} Everything before it was imported.") from exc


def _closing(stack: ExitStack, thing: Any) -> Any:
    stack.callback(thing.close)
    return thing


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
    from deskterm.connectors.whatsapp import DATE_ORDERS, WhatsAppExport, WhatsAppOptions

    if date_order is not None and date_order.lower() not in DATE_ORDERS:
        raise CliError(f"--date-order must be dmy, mdy or ymd, not {date_order!r}.")
    setup = _setup(ctx, "whatsapp", tz)
    options = WhatsAppOptions(
        date_order=date_order.lower() if date_order else None,
        tz=setup.tz,
        region=setup.region,
        chat=chat,
        limits=setup.limits,
        store_dir=setup.store_dir,
        max_attachment=setup.max_attachment,
    )

    def opener(stack: ExitStack) -> list[Callable[[], Iterator[Item]]]:
        return [_closing(stack, WhatsAppExport(f, options)).items for f in files]

    _import(ctx, opener, connector="whatsapp", label="WhatsApp", json_=json_)


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
    from deskterm.connectors.slack import SlackExport

    setup = _setup(ctx, "slack", None)

    def opener(stack: ExitStack) -> list[Callable[[], Iterator[Item]]]:
        source = SlackExport(
            export, channels=channel or (), limits=setup.limits, region=setup.region
        )
        return [_closing(stack, source).items]

    _import(ctx, opener, connector="slack", label="Slack", json_=json_)


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
    from deskterm.connectors.telegram import TelegramExport

    setup = _setup(ctx, "telegram", tz)

    def opener(_stack: ExitStack) -> list[Callable[[], Iterator[Item]]]:
        return [
            TelegramExport(
                f,
                tz=setup.tz,
                region=setup.region,
                store_dir=setup.store_dir,
                max_attachment=setup.max_attachment,
            ).items
            for f in files
        ]

    _import(ctx, opener, connector="telegram", label="Telegram", json_=json_)


@app.command("discord")
def discord(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="DiscordChatExporter JSON files (one per channel).")
    ],
    json_: Annotated[bool, JsonOption] = False,
) -> None:
    """Discord channels exported by DiscordChatExporter (JSON)."""
    from deskterm.connectors.discord import DiscordExport

    def opener(_stack: ExitStack) -> list[Callable[[], Iterator[Item]]]:
        return [DiscordExport(f).items for f in files]

    _import(ctx, opener, connector="discord", label="Discord", json_=json_)


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
    from deskterm.connectors.jsonl import JsonlExport

    setup = _setup(ctx, "chat", tz or "UTC")

    def opener(_stack: ExitStack) -> list[Callable[[], Iterator[Item]]]:
        return [JsonlExport(f, tz=setup.tz, region=setup.region).items for f in files]

    _import(ctx, opener, connector="jsonl", label="JSON Lines", json_=json_)
