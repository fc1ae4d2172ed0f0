"""``deskterm db copy``: a solo SQLite store onto PostgreSQL and back, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.demo import DemoBuilder
from deskterm.store import Store
from tests.conftest import ANCHOR
from tests.store.helpers import ingest, mail

runner = CliRunner()


def _snapshot(target: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    store = Store.open(target)
    try:
        tickets = [r.to_dict() for r in store.queue.list_tickets(limit=500).rows]
        hits = store.queue.search_messages("refund", limit=20)
        return tickets, hits
    finally:
        store.close()


def test_copy_sqlite_to_postgres_and_back(tmp_path: Path, pg_url: str) -> None:
    solo = str(tmp_path / "solo.db")
    store = Store.open(solo)
    DemoBuilder(store, tickets=120, seed=5, anchor=ANCHOR).build()
    a, b = (r.number for r in store.queue.list_tickets(limit=2).rows)
    store.workflow.merge_tickets(b, a, "lead", note="same order")  # a link to a later row
    store.close()

    result = runner.invoke(app, ["--db", solo, "db", "copy", "--to", pg_url, "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert rows["ticket"] == 120 and rows["message"] > 120
    assert _snapshot(pg_url) == _snapshot(solo)

    back = str(tmp_path / "back.db")
    result = runner.invoke(app, ["--db", pg_url, "db", "copy", "--to", back])
    assert result.exit_code == 0, result.stderr
    assert "counts match" in result.stdout
    assert _snapshot(back) == _snapshot(solo)

    again = Store.open(pg_url)  # new rows continue after the copied ids
    summary = ingest(again, mail("new@example.org", "After the move"))
    assert summary.tickets_created == 1 and summary.customers_created == 1
    assert again.tickets.get_ticket(121).ticket.subject == "After the move"
    again.close()

    result = runner.invoke(app, ["--db", solo, "db", "copy", "--to", pg_url])
    assert result.exit_code == 1 and "not empty" in result.stderr
