"""`deskterm search` and `tickets list -q` read one grammar and fail the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.store import Store
from tests.store.helpers import ingest, mail

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, isolated_home: Path) -> str:
    path = tmp_path / "store.db"
    store = Store.open(path)
    ingest(
        store,
        mail("a@x.org", "Invoice wrong", "my invoice is wrong", minutes=1),
        mail("b@x.org", "Refund", "refund please, it is broken", minutes=2),
        mail("c@x.org", "Refund again", "refund, don't wait", minutes=3),
    )
    store.tickets.assign(store.queue.list_tickets().rows[0].number, "Ana Souza", "test")
    store.close()
    (isolated_home / "config").mkdir()
    (isolated_home / "config" / "config.toml").write_text('[agent]\nname = "Ana Souza"\n')
    return str(path)


def subjects(db: str, *args: str) -> set[str]:
    result = runner.invoke(app, ["--db", db, *args, "--json"])
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    return {r.get("ticket_subject") or r["subject"] for r in rows}


def test_search_and_list_read_the_same_grammar(db: str) -> None:
    for query, expected in [
        ("invoic*", {"Invoice wrong"}),
        ("refund -broken", {"Refund again"}),
        ("invoice OR broken", {"Invoice wrong", "Refund"}),
        ("don't", {"Refund again"}),
    ]:
        assert subjects(db, "search", query) == expected
        assert subjects(db, "tickets", "list", "-q", query) == expected


def test_assignee_me_is_the_configured_agent(db: str) -> None:
    assert subjects(db, "tickets", "list", "-q", "assignee:me") == {"Refund again"}


@pytest.mark.parametrize(
    ("query", "message"),
    [('"never arrived', "Unbalanced quote"), ("x OR -broken", "OR cannot join")],
)
def test_a_bad_query_is_one_sentence_in_both_commands(db: str, query: str, message: str) -> None:
    for command in (["search", query], ["tickets", "list", "-q", query]):
        result = runner.invoke(app, ["--db", db, *command])
        assert result.exit_code == 1
        assert result.stderr.startswith("deskterm: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
