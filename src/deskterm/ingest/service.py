"""The way in: import files and exports, sync IMAP accounts, watch them.

The CLI (and any other face) calls these functions; they choose the connector, build
its options from the config, set up the parse workers and run the one pipeline,
returning an :class:`IngestSummary`. Errors a user can act on are
:class:`IngestError` (one sentence); a bug in our code stops the run with
:class:`IngestError` too, its traceback in the log file (:func:`crash_log`).
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskterm.ingest.parsing import StartedMail, parse_options
from deskterm.ingest.pipeline import Ingestor
from deskterm.ingest.state import IngestError, IngestHook, IngestSummary, chat_agents
from deskterm.settings import ConfigError, Settings
from deskterm.store.errors import StoreError

if TYPE_CHECKING:
    from deskterm.connectors.archive import ArchiveLimits
    from deskterm.connectors.records import Item
    from deskterm.store import Store

log = logging.getLogger(__name__)

CHAT_KINDS = ("whatsapp", "slack", "telegram", "discord", "jsonl")
KINDS = ("mail", *CHAT_KINDS)
Progress = Callable[[IngestSummary], None]


@dataclass(frozen=True)
class ChatOptions:
    """Command-line choices of the chat imports (each kind reads the ones it has)."""

    date_order: str | None = None
    tz: str | None = None
    chat: str | None = None
    channels: tuple[str, ...] = ()


def crash_log() -> Path:
    """Where an unexpected error's traceback is written."""
    from deskterm import paths

    return paths.data_dir() / "deskterm.log"


def phone_identity(text: str, region: str) -> str | None:
    """``text`` as a stored phone identity (E.164), when it reads as a phone number."""
    from deskterm.connectors.phones import to_e164

    return to_e164(text, region)


def run_items(
    store: Store,
    config: Settings,
    items: Iterable[Item],
    *,
    connector: str,
    progress: Progress | None = None,
    hooks: Sequence[IngestHook] | None = None,
    source_errors: tuple[type[Exception], ...] = (),
    bulk: bool = False,
) -> IngestSummary:
    """Feed connector items through the pipeline (with the configured hooks).

    ``source_errors`` are the connector's own errors (a server that went away), which
    the caller reports; any other exception is a bug (see :func:`_internal`).
    ``bulk`` (a load of files, not a live sync) writes bigger batches, short ones only
    while another writer is seen (``pacing.Contention``)."""
    if hooks is None:
        from deskterm.ingest.hooks import default_hooks

        hooks = default_hooks(config)
    ingestor = Ingestor(store, config, hooks=hooks, progress=progress, bulk=bulk)
    try:
        return ingestor.run(items, connector=connector)
    except (IngestError, StoreError, ConfigError):
        raise
    except source_errors:
        raise
    except Exception as exc:
        raise _internal(exc) from exc


def _internal(exc: Exception) -> IngestError:
    """A bug, not bad input: log the traceback and stop with one sentence."""
    where = crash_log()
    text = "".join(traceback.format_exception(exc))
    log.error("import stopped by an internal error\n%s", text)
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        with where.open("a", encoding="utf-8") as f:
            f.write(f"--- {datetime.now().isoformat(timespec='seconds')} import stopped\n{text}")
    except OSError:
        pass  # the sentence below still names the error
    notes = "; ".join(getattr(exc, "__notes__", ()))
    return IngestError(
        f"The import stopped on an internal error ({type(exc).__name__}: {exc}"
        f"{'; ' + notes if notes else ''}); everything before it is saved, "
        f"and the traceback is in {where}."
    )


# -- files and exports -----------------------------------------------------------------


def import_paths(
    store: Store,
    config: Settings,
    kind: str,
    paths: Sequence[Path],
    *,
    workers: int | None = None,
    chat: ChatOptions = ChatOptions(),
    progress: Progress | None = None,
    refused: Callable[[str], None] | None = None,
    started: StartedMail | None = None,
) -> IngestSummary:
    """Import mail files (``kind="mail"``) or chat exports of one kind.

    A file that cannot be read as a whole (a refused archive, an unknown layout) is
    recorded as a failure and reported through ``refused``; the other files go on.
    ``started`` is the mail of ``paths`` already being parsed for a new store
    (:func:`~deskterm.ingest.parsing.start_mail`).
    """
    if kind == "mail":
        return _import_mail(store, config, paths, workers, progress, started)
    if kind not in CHAT_KINDS:
        raise IngestError(f"Unknown import kind {kind!r}: one of {', '.join(KINDS)}.")
    openers = _chat_openers(config, kind, paths, chat)
    with ExitStack() as stack:
        items = _chat_items(stack, kind, openers, refused or (lambda _reason: None))
        return run_items(store, config, items, connector=kind, progress=progress, bulk=True)


def _import_mail(
    store: Store,
    config: Settings,
    paths: Sequence[Path],
    workers: int | None,
    progress: Progress | None,
    started: StartedMail | None,
) -> IngestSummary:
    from deskterm.connectors.mailfile import read_mail

    for path in paths:
        if not path.exists():
            raise IngestError(f"{path} does not exist.")
    items: StartedMail | Generator[Item, None, None]
    if started is not None:
        items = started
    else:
        known = store.ingest.known_source_keys
        items = read_mail(paths, parse_options(config), workers=workers, known=known)
    with closing(items):
        return run_items(store, config, items, connector="mail", progress=progress, bulk=True)


@dataclass
class _ChatSetup:
    """What every chat import reads from the config."""

    region: str
    tz: Any
    limits: ArchiveLimits
    store_dir: Path | None
    max_attachment: int


def _chat_setup(config: Settings, channel: str, tz_name: str | None) -> _ChatSetup:
    from deskterm import paths
    from deskterm.connectors.archive import ArchiveLimits
    from deskterm.connectors.chatbase import ConnectorError, zone

    try:
        tz = zone(tz_name or config.chat.timezone)
    except ConnectorError as exc:
        raise IngestError(str(exc)) from exc
    store_dir = (
        paths.data_dir() / "attachments" / channel if config.ingest.store_attachments else None
    )
    ingest = config.ingest
    limits = ArchiveLimits(
        max_total=ingest.archive_max_bytes,
        max_member=ingest.archive_member_max_bytes,
        max_ratio=ingest.archive_max_ratio,
    )
    return _ChatSetup(
        config.chat.default_region,
        tz,
        limits,
        store_dir,
        config.ingest.attachment_max_bytes,
    )


# (file, a function opening it: returns the export object with ``items()``)
_Opener = tuple[Path, Callable[[], Any]]


def _chat_openers(
    config: Settings, kind: str, files: Sequence[Path], options: ChatOptions
) -> list[_Opener]:
    if kind == "whatsapp":
        from deskterm.connectors.whatsapp import DATE_ORDERS, WhatsAppExport, WhatsAppOptions

        order = options.date_order.lower() if options.date_order else None
        if order is not None and order not in DATE_ORDERS:
            raise IngestError(f"--date-order must be dmy, mdy or ymd, not {options.date_order!r}.")
        setup = _chat_setup(config, "whatsapp", options.tz)
        wa = WhatsAppOptions(
            date_order=order, tz=setup.tz, region=setup.region, chat=options.chat,
            limits=setup.limits, store_dir=setup.store_dir, max_attachment=setup.max_attachment,
            agents=frozenset(chat_agents(config)),
            session_gap=timedelta(hours=config.chat.session_gap_hours),
        )  # fmt: skip
        return [(f, functools.partial(WhatsAppExport, f, wa)) for f in files]
    if kind == "slack":
        from deskterm.connectors.slack import SlackExport

        setup = _chat_setup(config, "slack", None)
        return [
            (f, functools.partial(SlackExport, f, channels=options.channels,
                                  limits=setup.limits, region=setup.region))
            for f in files
        ]  # fmt: skip
    if kind == "telegram":
        from deskterm.connectors.telegram import TelegramExport

        setup = _chat_setup(config, "telegram", options.tz)
        return [
            (f, functools.partial(TelegramExport, f, tz=setup.tz, region=setup.region,
                                  store_dir=setup.store_dir, max_attachment=setup.max_attachment))
            for f in files
        ]  # fmt: skip
    if kind == "discord":
        from deskterm.connectors.discord import DiscordExport

        return [(f, functools.partial(DiscordExport, f)) for f in files]
    from deskterm.connectors.jsonl import JsonlExport

    setup = _chat_setup(config, "chat", options.tz or "UTC")
    return [(f, functools.partial(JsonlExport, f, tz=setup.tz, region=setup.region)) for f in files]


def _chat_items(
    stack: ExitStack, kind: str, openers: list[_Opener], refused: Callable[[str], None]
) -> Iterator[Item]:
    """Open every export first (so a file refused as a whole is reported before the
    long import starts), then yield their items; a refused file becomes a failure."""
    from deskterm.connectors.chatbase import ConnectorError
    from deskterm.connectors.records import ParseFailure

    opened: list[tuple[Path, Any]] = []
    failed: list[ParseFailure] = []
    for path, opener in openers:
        try:
            source = opener()
        except ConnectorError as exc:
            refused(str(exc))
            failed.append(ParseFailure(str(path), "file", str(exc)[:300]))
            continue
        if hasattr(source, "close"):
            stack.callback(source.close)
        opened.append((path, source))

    def items() -> Iterator[Item]:
        yield from failed
        for path, source in opened:
            try:
                yield from source.items()
            except ConnectorError as exc:
                reason = f"{exc} Everything before it in this file was imported."
                refused(reason)
                yield ParseFailure(str(path), "file", reason[:300])

    return items()


# -- IMAP --------------------------------------------------------------------------------


def sync_accounts(
    store: Store,
    config: Settings,
    account: str | None = None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Fetch what arrived since the last sync in one account, or in every account."""
    from imapclient.exceptions import IMAPClientError

    from deskterm.connectors.imap import ImapError, ImapSync
    from deskterm.connectors.mailjobs import parse_in_order
    from deskterm.ingest.leases import account_leases

    chosen = chosen_accounts(config, account)
    passwords = {a.name: a.password() for a in chosen}
    with account_leases(store, [a.name for a in chosen]):
        syncs = [
            ImapSync(
                a,
                passwords[a.name],
                store.ingest.sync_state,
                max_message_bytes=config.ingest.max_message_bytes,
            )
            for a in chosen
        ]

        def jobs() -> Iterator[Any]:
            for one in syncs:
                yield from one.items()

        items = parse_in_order(jobs(), parse_options(config), workers=workers)
        try:
            with closing(items):
                return run_items(
                    store, config, items, connector="imap", progress=progress,
                    source_errors=(ImapError, IMAPClientError),
                )  # fmt: skip
        except (ImapError, IMAPClientError) as exc:
            raise IngestError(str(exc)) from exc
        finally:
            for one in syncs:
                one.close()


def chosen_accounts(config: Settings, account: str | None) -> list[Any]:
    configured = config.accounts
    if account is not None and account not in configured:
        known = ", ".join(configured) or "none"
        raise IngestError(f"No account {account!r} in the config file (configured: {known}).")
    chosen = [configured[account]] if account else list(configured.values())
    if not chosen:
        raise IngestError(
            "No IMAP accounts are configured: add an [accounts.NAME] table to the config file."
        )
    return chosen
