"""The CLI's shared behaviour: ``--db`` anywhere, no store made by a typo, list
commands' ``--limit/--all/--json/--csv`` and what they say when they cut the list."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from deskterm.cli import app
from tests.test_cli import demo_db, run

__all__ = ["demo_db"]  # the fixture, shared with the other CLI tests
LONG = "A subject long enough that an eighty column table would have to cut it short"


def _leaves(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):
        return [
            leaf for name, sub in command.commands.items() for leaf in _leaves(sub, (*path, name))
        ]
    return [(path, command)]


def test_every_command_accepts_db_after_its_name() -> None:
    import typer.main

    leaves = _leaves(typer.main.get_command(app))
    assert len(leaves) > 25
    for path, command in leaves:
        assert any("--db" in getattr(p, "opts", ()) for p in command.params), path


@pytest.mark.parametrize(
    "args",
    [
        ("tickets", "list", "--json"),
        ("customers", "list", "--json"),
        ("search", "refund", "--json"),
        ("import", "failures", "--json"),
        ("sla", "status", "1", "--json"),
        ("db", "check", "--json"),
    ],
)
def test_db_after_the_subcommand_wins_over_the_environment(
    args: tuple[str, ...], demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKTERM_DB", str(tmp_path / "typo.db"))
    _, err, code = run(*args, ok=False)
    assert code == 1 and "There is no deskterm store at" in err  # the environment is honoured
    out, _, _ = run(*args, "--db", demo_db)
    assert json.loads(out) is not None
    # The same before the subcommand (countdowns aside: the clock may pass an hour).
    assert _timeless(json.loads(run("--db", demo_db, *args)[0])) == _timeless(json.loads(out))


def _timeless(value: Any) -> Any:
    """``value`` without the fields that are relative to now (SLA countdowns, ages)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in ("sla", "age", "remaining")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


@pytest.mark.parametrize(
    "args",
    [
        ("tickets", "list"),
        ("tickets", "show", "1"),
        ("search", "word"),
        ("customers", "list"),
        ("export",),
        ("db", "check"),
        ("import", "failures"),
    ],
)
def test_read_commands_on_a_missing_store_say_so_and_create_nothing(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    typo = tmp_path / "sotre.db"
    out, err, code = run(*args, "--db", str(typo), ok=False)
    assert code == 1 and out == ""
    assert err == (
        f"deskterm: There is no deskterm store at {typo}; create one with "
        "deskterm db upgrade or deskterm import …\n"
    )
    assert not typo.exists()


def test_write_commands_still_create_the_store(tmp_path: Path) -> None:
    fresh = tmp_path / "new.db"
    run("db", "upgrade", "--db", str(fresh))
    assert fresh.exists()
    mail = tmp_path / "one.eml"
    mail.write_text("From: a@example.com\nSubject: Hi\nMessage-ID: <1@x>\n\nHello\n")
    other = tmp_path / "imported.db"
    run("import", "mail", str(mail), "--db", str(other))
    assert "1 ticket" in run("tickets", "list", "--db", str(other))[0]


def test_a_cut_list_says_how_many_there_are_on_stderr(demo_db: str) -> None:
    out, err, _ = run("tickets", "list", "--db", demo_db, "--limit", "5", "--json")
    assert len(json.loads(out)) == 5
    assert err == "5 of 80 tickets shown — --limit N or --all\n"
    out, err, _ = run("tickets", "list", "--db", demo_db, "--all", "--json")
    assert len(json.loads(out)) == 80 and err == ""
    out, err, _ = run("tickets", "list", "--db", demo_db, "--limit", "80", "--csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 80 and err == ""
    _, err, _ = run("customers", "list", "--db", demo_db, "--limit", "3")
    assert err == "3 customers shown; there are more — --limit N or --all\n"
    out, err, _ = run("search", "order", "--db", demo_db, "--limit", "1", "--json")
    total = len(json.loads(run("search", "order", "--db", demo_db, "--all", "--json")[0]))
    assert total > 1 and err == f"1 of {total} matches shown — --limit N or --all\n"


def test_all_streams_page_by_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--all`` asks for pages and writes each before fetching the next."""
    from deskterm.cli import output

    sink = io.StringIO()
    monkeypatch.setattr(sys, "stdout", sink)
    asked: list[int] = []

    def fetch(cursor: int | None, n: int) -> tuple[list[dict[str, Any]], int | None]:
        start = cursor or 0
        asked.append(n)
        assert sink.getvalue().count('"number"') == start  # earlier pages are already out
        rows = [{"number": i} for i in range(start, min(start + n, 1234))]
        return rows, start + n if start + n < 1234 else None

    shown = output.Output("json", None).emit(fetch, ("number",), noun="ticket")
    assert shown == 1234 and max(asked) == output.PAGE and len(asked) == 3
    assert [r["number"] for r in json.loads(sink.getvalue())] == list(range(1234))


def test_tickets_list_json_and_csv_include_tags(demo_db: str) -> None:
    rows = json.loads(run("tickets", "list", "--db", demo_db, "--all", "--json")[0])
    tagged = [r for r in rows if r["tags"]]
    assert tagged and all(isinstance(r["tags"], list) for r in rows)
    shown = json.loads(
        run("tickets", "show", str(tagged[0]["number"]), "--db", demo_db, "--json")[0]
    )
    assert tagged[0]["tags"] == sorted(shown["tags"])
    out = run("tickets", "list", "--db", demo_db, "--all", "--csv")[0]
    by_number = {r["number"]: r["tags"] for r in csv.DictReader(io.StringIO(out))}
    assert by_number[str(tagged[0]["number"])] == ",".join(tagged[0]["tags"])


def test_counts_are_pluralised_and_piped_tables_keep_whole_rows(demo_db: str) -> None:
    newest = json.loads(run("tickets", "list", "--db", demo_db, "--limit", "1", "--json")[0])
    with sqlite3.connect(demo_db) as conn:
        conn.execute("UPDATE ticket SET subject = ? WHERE id = ?", (LONG, newest[0]["number"]))
    out = run("tickets", "list", "--db", demo_db, "--limit", "1")[0]
    assert out.split("\n")[0].strip() == "1 ticket"
    assert LONG in out and "updated at" in out  # not cut at 80 columns, no column dropped
    assert "2 tickets" in run("tickets", "list", "--db", demo_db, "--limit", "2")[0]


@pytest.mark.parametrize("how", ["name", "email", "domain", "phone", "#id"])
def test_customers_show_takes_what_tickets_list_customer_takes(demo_db: str, how: str) -> None:
    customers = json.loads(run("customers", "list", "--db", demo_db, "--all", "--json")[0])
    names = [c["name"] for c in customers]
    one = next(c for c in customers if names.count(c["name"]) == 1 and len(c["identities"]) > 1)
    emails = [i.split(":", 1)[1] for i in one["identities"] if i.startswith("email:")]
    phones = [i.split(":", 1)[1] for i in one["identities"] if i.startswith("phone:")]
    ref = {
        "name": one["name"],
        "email": emails[0] if emails else f"#{one['id']}",
        "domain": f"#{one['id']}",
        "phone": phones[0] if phones else f"#{one['id']}",
        "#id": f"#{one['id']}",
    }[how]
    if how == "domain":  # a domain that names exactly one customer, as --customer reads it
        domain = "solo-customer.example"
        with sqlite3.connect(demo_db) as conn:
            conn.execute(
                "UPDATE identity SET value = ?, domain = ? "
                "WHERE customer_id = ? AND kind = 'email'",
                (f"x@{domain}", domain, one["id"]),
            )
        ref = domain
    profile = json.loads(run("customers", "show", ref, "--db", demo_db, "--json")[0])
    assert profile["id"] == one["id"]
    listed = json.loads(run("tickets", "list", "--db", demo_db, "--customer", ref, "--json")[0])
    assert {t["customer_id"] for t in listed} == {one["id"]}


def test_customers_show_names_the_choices_when_several_match(demo_db: str) -> None:
    _, err, code = run("customers", "show", "a", "--db", demo_db, ok=False)
    assert code == 1 and "matches several customers (#" in err and "name one by" in err
    _, err, code = run("customers", "show", "nobody-at-all", "--db", demo_db, ok=False)
    assert code == 1 and err.startswith("deskterm: No customer matches 'nobody-at-all'")
