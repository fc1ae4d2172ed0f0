"""``tickets update``, ``tickets list --ids`` and ``undo`` from the command line, the
pipe through real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.query import parse_query
from deskterm.store import Store
from tests.store.helpers import tickets_for

runner = CliRunner()
SRC = str(Path(__file__).resolve().parents[1] / "src")


def run(*args: str, stdin: str | None = None) -> tuple[str, str, int]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.stdout, result.stderr, result.exit_code


def deskterm(*args: str) -> list[str]:
    return [sys.executable, "-c", "from deskterm.cli import main; main()", *args]


def test_list_ids_piped_into_update_then_undo(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    numbers = tickets_for(store, 9)
    for n in numbers[:6]:
        store.tickets.set_priority(n, "high", "ana")
    store.close()
    env = {**os.environ, "PYTHONPATH": SRC}
    lister = subprocess.Popen(
        deskterm("--db", db, "tickets", "list", "--ids", "-q", "priority:high"),
        stdout=subprocess.PIPE,
        env=env,
    )
    updater = subprocess.run(
        deskterm(
            "--db",
            db,
            "tickets",
            "update",
            "-",
            "--set",
            "status=pending",
            "--add-tag",
            "callback",
            "--json",
        ),
        stdin=lister.stdout,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert lister.stdout is not None
    lister.stdout.close()
    assert lister.wait() == 0
    assert updater.returncode == 0, updater.stderr
    result = json.loads(updater.stdout)
    assert (result["matched"], result["changed"], result["events"]) == (6, 6, 12)
    store = Store.open(db)
    assert store.queue.count_tickets(parse_query("status:pending tag:callback")) == 6
    store.close()

    out, err, code = run("--db", db, "undo")
    assert code == 0, err
    assert out.startswith("Undid: status → pending, +callback on 6 tickets")
    store = Store.open(db)
    assert store.queue.count_tickets(parse_query("status:pending")) == 0
    store.close()


def test_query_dry_run_conflicts_and_bad_input(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    store = Store.open(db)
    numbers = tickets_for(store, 4)
    store.close()
    out, err, code = run("--db", db, "tickets", "update", "-q", "status:new",
                         "--set", "priority=urgent", "--dry-run")  # fmt: skip
    assert code == 0, err
    assert out.startswith("Would set priority → urgent on 4 tickets")
    out, err, code = run("--db", db, "tickets", "update", str(numbers[0]), "9999",
                         "--assign", "Ben", "--json")  # fmt: skip
    assert code == 3
    assert json.loads(out)["changed"] == 1
    assert err.strip() == "deskterm: #9999 not changed: no such ticket."
    _, err, code = run("--db", db, "tickets", "update", "1", "--set", "colour=red")
    assert code == 1 and err.count("\n") == 1 and "--set takes FIELD=VALUE" in err
    _, err, code = run("--db", db, "tickets", "update", "-", "--set", "status=open", stdin="1 x")
    assert code == 1 and "'x' is not a ticket number." in err
    _, err, code = run("--db", db, "tickets", "update", "1", "--set", "status=done")
    assert code == 1 and "Status must be one of" in err
    out, _, code = run("--db", db, "tickets", "list", "--ids")
    newest_first = [numbers[0], *reversed(numbers[1:])]  # the first was just assigned
    assert code == 0 and out.split() == [str(n) for n in newest_first]
    _, err, code = run("--db", db, "undo")
    assert code == 0
    _, err, code = run("--db", db, "undo")
    assert code == 1 and err.strip() == "deskterm: There is nothing to undo."
