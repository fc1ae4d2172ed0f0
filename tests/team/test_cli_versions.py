"""Version-checked changes from the CLI: ``--expect-version`` and ``tickets take``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.store import Store
from tests.store.helpers import tickets_for

runner = CliRunner()


def run(*args: str) -> tuple[str, str, int]:
    result = runner.invoke(app, list(args))
    return result.stdout, result.stderr, result.exit_code


def _version(db: str, number: int) -> int:
    out, _, code = run("--db", db, "tickets", "show", str(number), "--json")
    assert code == 0
    version: int = json.loads(out)["version"]
    return version


def test_expect_version_wins_once_then_conflicts_with_exit_3(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    (number,) = tickets_for(store, 1)
    store.close()
    seen = _version(db, number)
    _, err, code = run("--db", db, "tickets", "set", str(number), "--status", "pending",
                       "--priority", "urgent", "--expect-version", str(seen))  # fmt: skip
    assert code == 0, err
    _, err, code = run("--db", db, "tickets", "set", str(number), "--assignee", "Ben",
                       "--expect-version", str(seen))  # fmt: skip
    assert code == 3
    assert "changed since you opened it" in err and "priority" in err
    out, _, _ = run("--db", db, "tickets", "show", str(number), "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["priority"], shown["assignee"]) == ("pending", "urgent", None)
    # both fields were one change: one version step, two events
    assert shown["version"] == seen + 1

    note = tmp_path / "n.md"
    note.write_text("Root cause: expired card.\n")
    _, _, code = run("--db", db, "tickets", "note", str(number), "-f", str(note),
                     "--expect-version", str(seen))  # fmt: skip
    assert code == 3
    _, _, code = run("--db", db, "tickets", "heard", str(number), "H",
                     "--expect-version", str(seen + 1))  # fmt: skip
    assert code == 0


def test_take_assigns_the_most_urgent_unassigned_ticket(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    first, second, third = tickets_for(store, 3)
    store.tickets.set_priority(second, "urgent", "lead")
    store.tickets.assign(third, "Ben", "lead")
    store.close()
    out, _, code = run("--db", db, "tickets", "take", "--json")
    assert code == 0 and json.loads(out)["number"] == second
    out, _, code = run("--db", db, "tickets", "take")
    assert code == 0 and f"#{first}" in out
    _, err, code = run("--db", db, "tickets", "take")
    assert code == 1 and "no unassigned" in err


def test_agents_list_and_add(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    _, _, code = run("--db", db, "agents", "add", "Ben Okafor", "--email", "Ben@Example.com",
                     "--queues", "billing, l2")  # fmt: skip
    assert code == 0
    run("--db", db, "agents", "add", "Ana Souza")
    out, _, code = run("--db", db, "agents", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {"name": "Ana Souza", "email": "", "queues": ""},
        {"name": "Ben Okafor", "email": "ben@example.com", "queues": "billing,l2"},
    ]


def test_agents_list_has_the_shared_list_options(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    for name in ("Ana Souza", "Ben Okafor", "Chi Ng"):
        run("--db", db, "agents", "add", name)
    out, err, code = run("--db", db, "agents", "list", "--limit", "2", "--csv")
    assert code == 0
    assert out.splitlines() == ["name,email,queues", "Ana Souza,,", "Ben Okafor,,"]
    assert "2 of 3 agents shown — --limit N or --all" in err
    out, _, _ = run("--db", db, "agents", "list", "--all", "--json")
    assert [a["name"] for a in json.loads(out)] == ["Ana Souza", "Ben Okafor", "Chi Ng"]
