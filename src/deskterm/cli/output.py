"""The options and output every list command shares: ``--json/--csv/--limit/--all``.

A list command takes ``out: Output`` and is decorated with :func:`list_options`; it
hands :meth:`Output.emit` a function that fetches one page after a cursor. Rows are
written page by page (``--all`` never holds the whole list), and when ``--limit`` cut
the list, stderr says how many there were.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from deskterm.cli.common import CsvOption, JsonOption, output_format, print_table

Row = dict[str, Any]
Fetch = Callable[[Any, int], tuple[list[Row], Any]]
"""``fetch(cursor, n)``: up to ``n`` rows after ``cursor`` (``None``: from the start),
and the cursor of the next page (``None`` at the end)."""

PAGE = 500
F = TypeVar("F", bound=Callable[..., Any])
IRREGULAR = {"match": "matches", "identity": "identities", "entry": "entries"}


def plural(count: int, noun: str) -> str:
    """``1 ticket``, ``2 tickets``, ``1 match``, ``3 matches``."""
    if count == 1:
        return f"{count:,} {noun}"
    head, _, last = noun.rpartition(" ")
    many = IRREGULAR.get(last, last + "s")
    return f"{count:,} {head + ' ' if head else ''}{many}"


@dataclass(frozen=True)
class Output:
    """What the user asked for: a format and at most ``limit`` rows (``None``: all)."""

    fmt: str
    limit: int | None

    def emit(
        self,
        fetch: Fetch,
        columns: Sequence[str],
        *,
        noun: str,
        count: Callable[[], int | None] | None = None,
    ) -> int:
        """Write the rows ``fetch`` pages through; return how many were shown."""
        sink = _Sink(self.fmt, columns)
        shown, cursor, more = 0, None, False
        while True:
            want = PAGE if self.limit is None else min(PAGE, self.limit - shown + 1)
            rows, cursor = fetch(cursor, want)
            if self.limit is not None and shown + len(rows) > self.limit:
                rows, more = rows[: self.limit - shown], True
            sink.write(rows, last=more or cursor is None)
            shown += len(rows)
            if more or cursor is None:
                break
        sink.close(plural(shown, noun) if self.limit is not None else None)
        if more:
            total = count() if count else None
            what = (
                f"{shown:,} of {plural(total, noun)} shown"
                if total is not None and total > shown
                else f"{plural(shown, noun)} shown; there are more"
            )
            typer.echo(f"{what} — --limit N or --all", err=True)
        return shown


def from_list(rows: Sequence[Row]) -> Fetch:
    """A :data:`Fetch` over rows already in memory (short lists: agents, macros)."""

    def fetch(cursor: int | None, n: int) -> tuple[list[Row], int | None]:
        start = cursor or 0
        end = start + n
        return list(rows[start:end]), end if end < len(rows) else None

    return fetch


class _Sink:
    """Rows out as they come: one JSON array, CSV with one header, or tables."""

    def __init__(self, fmt: str, columns: Sequence[str]) -> None:
        self.fmt, self.columns = fmt, columns
        self.started = False
        self.buffer: list[Row] = []
        self.csv: csv.DictWriter[str] | None = None

    def write(self, rows: list[Row], *, last: bool) -> None:
        if self.fmt == "json":
            for row in rows:
                sys.stdout.write(",\n" if self.started else "[\n")
                sys.stdout.write(json.dumps(row, ensure_ascii=False, indent=2, default=str))
                self.started = True
        elif self.fmt == "csv":
            for row in rows:
                if self.csv is None:
                    self.csv = csv.DictWriter(sys.stdout, fieldnames=list(row.keys()))
                    self.csv.writeheader()
                self.csv.writerow(row)
        else:
            self.buffer.extend(rows)
            if len(self.buffer) >= PAGE and not last:  # --all: a table per page
                print_table(self.buffer, self.columns, title=None, header=not self.started)
                self.started, self.buffer = True, []
        sys.stdout.flush()

    def close(self, title: str | None) -> None:
        if self.fmt == "json":
            sys.stdout.write("\n]\n" if self.started else "[]\n")
        elif self.fmt == "csv":
            if self.csv is None:
                csv.writer(sys.stdout).writerow(self.columns)
        elif self.buffer or not self.started:
            print_table(self.buffer, self.columns, title=title, header=not self.started)


def list_options(limit: int = 50) -> Callable[[F], F]:
    """Give a list command ``--limit`` (default ``limit``), ``--all``, ``--json`` and
    ``--csv``, passed to it as one ``out: Output``."""

    def decorate(func: F) -> F:
        sig = inspect.signature(func, eval_str=True)
        keyword = inspect.Parameter.KEYWORD_ONLY
        added = [
            inspect.Parameter(
                "limit",
                keyword,
                default=limit,
                annotation=Annotated[int, typer.Option(min=1, help="Show at most this many.")],
            ),
            inspect.Parameter(
                "all_",
                keyword,
                default=False,
                annotation=Annotated[
                    bool, typer.Option("--all", help="Show every one, page by page.")
                ],
            ),
            inspect.Parameter(
                "json_", keyword, default=False, annotation=Annotated[bool, JsonOption]
            ),
            inspect.Parameter(
                "csv_", keyword, default=False, annotation=Annotated[bool, CsvOption]
            ),
        ]
        params = [p for p in sig.parameters.values() if p.name != "out"] + added

        @functools.wraps(func)
        def wrapper(*args: Any, limit: int, all_: bool, json_: bool, csv_: bool, **kw: Any) -> Any:
            out = Output(output_format(json_, csv_), None if all_ else limit)
            return func(*args, out=out, **kw)

        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper  # type: ignore[return-value]

    return decorate
