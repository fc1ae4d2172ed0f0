"""What every command shares: global state, opening the store, errors, output."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import typer
import typer.core

from deskterm.query import QueryError
from deskterm.store.errors import Conflict, StoreError

if TYPE_CHECKING:
    from deskterm.settings import Settings
    from deskterm.store import Store


class CliError(Exception):
    """A command cannot go on; the message is the one sentence the user sees."""


def _expected() -> tuple[type[Exception], ...]:
    """The errors that are one sentence for the user, not a bug. Evaluated only when
    something was raised, so ``deskterm --help`` never imports the settings models."""
    from deskterm.settings import ConfigError

    return (CliError, StoreError, ConfigError, QueryError)


CONFLICT_EXIT = 3
INTERRUPTED = "deskterm: interrupted."  # Ctrl-C before a command had anything to report


class DesktermGroup(typer.core.TyperGroup):
    """Turns expected errors anywhere below it into one line on stderr and exit code 1
    (3 for a version conflict), and gives every command below it a ``--db`` option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_db_option(self.commands.values())

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except Conflict as exc:  # someone else changed it: exit 3, so scripts can retry
            typer.echo(f"deskterm: {exc}", err=True)
            raise typer.Exit(CONFLICT_EXIT) from None
        except _expected() as exc:
            message = str(exc).strip() or type(exc).__name__
            typer.echo(f"deskterm: {message}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo(INTERRUPTED, err=True)
            raise typer.Exit(130) from None


def _set_db(ctx: typer.Context, _param: Any, value: str | None) -> None:
    if value is not None:
        state(ctx).db = value


def _add_db_option(commands: Iterable[Any]) -> None:
    """``--db`` after the subcommand (``deskterm tickets list --db x.db``) means the same
    as before it; the root option (and ``DESKTERM_DB``) is the default."""
    from typer._coercion import resolve_type_descriptor
    from typer.models import OptionInfo

    info = OptionInfo(param_decls=("--db",), help="Store: a file path or a database URL.")
    for command in commands:
        if isinstance(command, typer.core.TyperGroup):
            _add_db_option(command.commands.values())
        elif not any("--db" in getattr(p, "opts", ()) for p in command.params):
            command.params.append(
                typer.core.TyperOption(
                    param_decls=["db_anywhere", "--db"],
                    type_descriptor=resolve_type_descriptor(annotation=str, parameter_info=info),
                    help=info.help,
                    metavar="PATH|URL",
                    expose_value=False,
                    callback=_set_db,
                )
            )


@dataclass
class State:
    """Global options, carried in ``ctx.obj``."""

    db: str | None = None
    _store: Store | None = field(default=None, repr=False)
    _config: Settings | None = field(default=None, repr=False)
    woken: list[int] = field(default_factory=list)  # snoozed tickets reopened on open

    def store(self, *, create: bool = False) -> Store:
        """The store named by ``--db``/``DESKTERM_DB`` (default: the user's store).

        Only commands that write (``create``) make a new SQLite file: a read command
        on a mistyped path says so instead of showing an empty store."""
        if self._store is None:
            from deskterm.desk import open_store

            if not create:
                require_store(self.db)
            self._store = open_store(self.db, self.config())
            self.woken = self._store.snooze.wake()  # due reminders, whatever command runs
        return self._store

    def config(self) -> Settings:
        """The config file's settings, checked; its unknown keys are warned about once."""
        if self._config is None:
            from deskterm.settings import load_settings

            self._config = load_settings()
            for warning in self._config.warnings:
                typer.echo(f"deskterm: warning: {warning}", err=True)
        return self._config


def require_store(target: str | None) -> None:
    from deskterm.paths import resolve_target
    from deskterm.store.engine import to_url

    where = resolve_target(target)
    url = to_url(where)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    from pathlib import Path

    if not Path(url.database).exists():
        fail(
            f"There is no deskterm store at {url.database}; create one with "
            "deskterm db upgrade or deskterm import …"
        )


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def exit_interrupted() -> NoReturn:
    """Ctrl-C during an import or sync: what was committed is kept and the summary is
    printed, so leave at once with 130. A parser process stopped by the same Ctrl-C can
    leave ``concurrent.futures``' manager thread blocked on a half-written result, and
    the interpreter would wait for that thread forever at exit (seen under load)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def fail(message: str) -> NoReturn:
    raise CliError(message)


def output_format(json_: bool, csv_: bool) -> str:
    if json_ and csv_:
        fail("Choose one of --json and --csv.")
    return "json" if json_ else "csv" if csv_ else "table"


def emit_json(data: Any) -> None:
    """JSON to stdout (UTF-8, one document)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def emit_rows(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    title: str | None = None,
) -> None:
    """Rows as JSON (all keys), CSV or a table (``columns``) — the ``--json/--csv`` helper."""
    if fmt == "json":
        emit_json(list(rows))
        return
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0].keys()) if rows else columns)
        writer.writeheader()
        writer.writerows(rows)
        return
    print_table(rows, columns, title=title)


WIDE_COLUMNS = {"subject", "ticket_subject", "excerpt", "reason", "source", "name", "identities"}
MIN_WIDTHS = {
    "number": 6, "priority": 8, "status": 7, "customer": 14, "channel": 8, "assignee": 10,
    "updated_at": 16, "sent_at": 16, "at": 16, "author_name": 14, "connector": 9,
}  # fmt: skip


def print_table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    title: str | None,
    *,
    header: bool = True,
) -> None:
    """A Rich table that fits the terminal: narrow columns drop from the right first.
    Piped (stdout not a terminal), rows are printed whole for the next program."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from deskterm.textsafe import clean_line

    console = Console()
    piped = not console.is_terminal
    if piped:
        console = Console(width=100_000, no_color=True)
    shown = list(columns)

    def needed() -> int:
        return sum(MIN_WIDTHS.get(c, 12) + 3 for c in shown)

    while not piped and needed() > console.width and any(c not in WIDE_COLUMNS for c in shown[2:]):
        shown.remove([c for c in shown[2:] if c not in WIDE_COLUMNS][-1])
    table = Table(
        title=title, show_edge=False, header_style="bold", expand=not piped, show_header=header
    )
    for column in shown:
        wide = column in WIDE_COLUMNS
        width = MIN_WIDTHS.get(column, max(len(column), 10))
        table.add_column(
            column.replace("_", " "),
            overflow="ellipsis",
            no_wrap=True,
            ratio=1 if wide and not piped else None,
            width=None if wide or piped else width,
            min_width=width if piped else None,
        )
    for row in rows:
        table.add_row(*(Text(clean_line(_cell(row.get(c)))) for c in shown))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="minutes"))[:16].replace("T", " ")
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return value[:16].replace("T", " ")
    return str(value)


JsonOption = typer.Option("--json", help="Print JSON to stdout.")
ExpectVersionOption = typer.Option(
    "--expect-version",
    help="Only if the ticket is still at this version (from tickets show --json); "
    "exit code 3 if someone changed it since.",
)
CsvOption = typer.Option("--csv", help="Print CSV to stdout.")
