"""Satisfaction survey results from a CSV file (``deskterm satisfaction import``).

Columns (a header row names them; order is free, unknown columns are ignored):
``ticket`` (number, ``#`` allowed) or ``email`` (the customer's address), ``kind``
(``csat``, ``ces`` or ``nps``), ``score``, ``date`` (ISO date or date-time; UTC unless
it carries an offset) and an optional ``comment``. A bad row is reported by its line
number and skipped; the others are imported. A row already imported (same ticket,
kind, score and time) is counted as a duplicate, so importing a file twice adds nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deskterm.store import Store
    from deskterm.store.satisfaction import Response

COLUMNS = ("ticket", "email", "kind", "score", "date", "comment")


@dataclass
class ImportResult:
    """What an import did: counts and each bad row's line number and reason."""

    imported: int = 0
    duplicates: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "failed": [{"line": line, "reason": why} for line, why in self.failed],
        }


def parse_when(value: str) -> datetime:
    """An ISO date or date-time; naive values are UTC."""
    when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_row(row: dict[str, str]) -> Response:
    """One CSV row as a response, or ``ValueError`` with the reason."""
    from deskterm.store.satisfaction import Response, check_score

    get = {k: (row.get(k) or "").strip() for k in COLUMNS}
    ticket, email = get["ticket"].lstrip("#"), get["email"]
    if not ticket and not email:
        raise ValueError("neither a ticket number nor a customer email")
    if ticket and not ticket.isdigit():
        raise ValueError(f"ticket {get['ticket']!r} is not a number")
    kind = get["kind"].lower()
    try:
        score = int(get["score"])
    except ValueError:
        raise ValueError(f"score {get['score']!r} is not a whole number") from None
    try:
        when = parse_when(get["date"])
    except ValueError:
        raise ValueError(f"date {get['date']!r} is not an ISO date like 2026-11-02") from None
    check_score(kind, score)
    return Response(
        kind, score, when, int(ticket) if ticket else None, email or None, get["comment"]
    )


def import_csv(store: Store, path: Path, actor: str) -> ImportResult:
    """Import every good row of ``path``; see the module docstring for the columns."""
    from deskterm.store.errors import StoreError

    result = ImportResult()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = {(name or "").strip().lower() for name in reader.fieldnames or ()}
        missing = {"kind", "score", "date"} - header
        if missing or not header & {"ticket", "email"}:
            need = ", ".join(sorted(missing)) or "ticket or email"
            raise ValueError(
                f"{path.name}: the header row lacks {need} (columns: {', '.join(COLUMNS)})."
            )
        for raw in reader:
            line = reader.line_num
            row = {(k or "").strip().lower(): v for k, v in raw.items() if isinstance(v, str)}
            try:
                added = store.satisfaction.import_response(parse_row(row), actor)
            except (ValueError, StoreError) as exc:
                result.failed.append((line, str(exc).rstrip(".")))
                continue
            if added:
                result.imported += 1
            else:
                result.duplicates += 1
    return result
