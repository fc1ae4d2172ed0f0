"""The CLI through typer's CliRunner (the console is never launched)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.cli import app

runner = CliRunner()


def run(*args: str, ok: bool = True) -> tuple[str, str, int]:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr, result.exit_code


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    path = str(tmp_path / "demo.db")
    run("demo", "--db", path, "--no-open", "--tickets", "80")
    return path


def test_demo_builds_its_own_store_without_db(isolated_home: Path) -> None:
    _, err, _ = run("demo", "--no-open", "--tickets", "30")
    assert (isolated_home / "data" / "demo.db").exists()
    assert f"deskterm --db {isolated_home / 'data' / 'demo.db'}" in err  # how to open it
    assert not (isolated_home / "data" / "deskterm.db").exists()
    run("demo", "--no-open", "--tickets", "30")  # its own file is rebuilt, not refused


def test_demo_console_works_as_a_demo_agent_unless_one_is_configured() -> None:
    from deskterm.cli.demo import demo_config
    from deskterm.demo import AGENTS
    from deskterm.settings import parse_settings

    assert demo_config(parse_settings({})).agent.name == AGENTS[0]
    mine = parse_settings({"agent": {"name": "Zoe", "email": "zoe@example.com"}})
    assert demo_config(mine) is mine


def test_demo_refuses_a_store_with_tickets(demo_db: str) -> None:
    _, err, code = run("demo", "--db", demo_db, "--no-open", ok=False)
    assert code == 1 and "already holds tickets" in err


def test_tickets_list_json_has_the_contract_fields(demo_db: str) -> None:
    out, _, _ = run("--db", demo_db, "tickets", "list", "--json", "--limit", "200")
    rows = json.loads(out)
    assert len(rows) == 80
    for key in ("number", "subject", "status", "priority", "queue", "assignee", "customer",
                "channel", "updated_at"):  # fmt: skip
        assert key in rows[0]
    assert {r["status"] for r in rows} == {"new", "open", "pending", "on_hold", "solved", "closed"}
    assert {r["priority"] for r in rows} == {"low", "normal", "high", "urgent"}
    stamps = [r["updated_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_tickets_list_filters_and_formats(demo_db: str) -> None:
    out, _, _ = run("--db", demo_db, "tickets", "list", "--status", "open,new", "--json")
    assert {r["status"] for r in json.loads(out)} <= {"open", "new"}
    out, _, _ = run("--db", demo_db, "tickets", "list", "--priority", "urgent", "--csv")
    lines = out.strip().splitlines()
    assert lines[0].startswith("number,subject,status,priority")
    assert all(",urgent," in line for line in lines[1:])
    out, _, _ = run("--db", demo_db, "tickets", "list", "-q", "refund status:solved", "--json")
    assert all(r["status"] == "solved" for r in json.loads(out))
    out, _, _ = run("--db", demo_db, "tickets", "list", "--limit", "3")
    assert "3 tickets" in out


def test_tickets_show_json_and_text(demo_db: str) -> None:
    number = json.loads(run("--db", demo_db, "tickets", "list", "--json", "--status", "solved")[0])[
        0
    ]["number"]
    detail = json.loads(run("--db", demo_db, "tickets", "show", str(number), "--json")[0])
    assert detail["number"] == number
    assert detail["messages"] and detail["customer_profile"]["identities"]
    assert [h["step"] for h in detail["heard"]] == ["H", "E", "A", "R", "D"]
    text = run("--db", demo_db, "tickets", "show", str(number))[0]
    assert f"#{number}" in text and "HEARD" in text


def test_search_json(demo_db: str) -> None:
    hits = json.loads(run("--db", demo_db, "search", "account", "--json")[0])
    assert hits and all("number" in h and "excerpt" in h for h in hits)
    ids = [h["message_id"] for h in hits]
    assert ids == sorted(ids, reverse=True)


def test_db_commands(demo_db: str, tmp_path: Path) -> None:
    assert "up to date" in run("--db", demo_db, "db", "upgrade")[0]
    report = json.loads(run("--db", demo_db, "db", "check", "--json")[0])
    assert report["current"] and report["integrity"] == "ok"
    copy = tmp_path / "copy.db"
    run("--db", demo_db, "db", "backup", str(copy))
    out, _, _ = run("--db", str(copy), "tickets", "list", "--json", "--limit", "500")
    assert len(json.loads(out)) == 80
    _, err, code = run("--db", demo_db, "db", "backup", str(copy), ok=False)
    assert code == 1 and "already exists" in err


def test_db_upgrade_creates_a_fresh_store(tmp_path: Path) -> None:
    out, _, _ = run("--db", str(tmp_path / "new.db"), "db", "upgrade")
    assert "upgraded from empty" in out


def test_export_streams_every_record(demo_db: str, tmp_path: Path) -> None:
    out_file = tmp_path / "all.jsonl"
    run("--db", demo_db, "export", "--out", str(out_file))
    records = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    types = {r["type"] for r in records}
    assert {"customer", "identity", "ticket", "message", "event", "heard_step"} <= types
    assert sum(r["type"] == "ticket" for r in records) == 80


def test_env_var_selects_the_store(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKTERM_DB", demo_db)
    assert len(json.loads(run("tickets", "list", "--json")[0])) == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--db", "/no/such/dir/x.db", "tickets", "list"), "does not exist"),
        (("--db", "mysql://x/y", "tickets", "list"), "unsupported"),
        (("tickets", "show", "424242"), "no ticket #424242"),
        (("tickets", "list", "-q", "status:nope"), "not valid; use one of new, open"),
        (("tickets", "list", "--json", "--csv"), "one of --json and --csv"),
    ],
)
def test_errors_are_one_sentence_on_stderr(args: tuple[str, ...], message: str) -> None:
    run("db", "upgrade")  # the default store exists: the errors are about the arguments
    out, err, code = run(*args, ok=False)
    assert code == 1
    assert message in err
    assert err.startswith("deskterm: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_every_command_has_help() -> None:
    import typer.main

    group = typer.main.get_command(app)

    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:  # click commands
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    for path, cmd in walk(group, []):
        assert (cmd.help or "").strip(), f"deskterm {' '.join(path)} has no help"
        out, _, _ = run(*path, "--help")
        assert "Usage" in out


def _write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


def test_tickets_set_heard_and_note_follow_the_heard_policy(
    demo_db: str, isolated_home: Path, tmp_path: Path
) -> None:
    _write_config(isolated_home, '[agent]\nname = "Ana Souza"\n[heard]\nsolve_policy = "warn"\n')
    number = json.loads(run("--db", demo_db, "tickets", "list", "--json", "--status", "new")[0])[0][
        "number"
    ]
    out, _, _ = run("--db", demo_db, "tickets", "set", str(number), "--priority", "urgent",
                    "--assignee", "Ben", "--tags", "vip,refund", "--queue", "billing")  # fmt: skip
    assert "urgent" in out and "Ben" in out and "refund,vip" in out
    _, err, code = run("--db", demo_db, "tickets", "set", str(number), "--status", "solved",
                       ok=False)  # fmt: skip
    assert code == 1 and "--force" in err and "Hear" in err
    for step in ("H", "empathize", "A", "R"):
        run("--db", demo_db, "tickets", "heard", str(number), step)
    _, err, code = run("--db", demo_db, "tickets", "heard", str(number), "D", "--category",
                       "astrology", ok=False)  # fmt: skip
    assert "Root cause must be one of" in err
    run("--db", demo_db, "tickets", "heard", str(number), "D", "--category", "billing")
    detail = json.loads(
        run("--db", demo_db, "tickets", "set", str(number), "--status", "solved", "--json")[0]
    )
    assert detail["status"] == "solved" and all(h["done"] for h in detail["heard"])
    notes = tmp_path / "notes.md"
    notes.write_text("## Resolution\nRefunded.", encoding="utf-8")
    assert "version 1" in run("--db", demo_db, "tickets", "note", str(number), "-f", str(notes))[0]
    shown = json.loads(run("--db", demo_db, "tickets", "show", str(number), "--json")[0])
    assert shown["resolution_note"]["body"] == "## Resolution\nRefunded."
    assert shown["resolution_note"]["author"] == "Ana Souza"


def test_require_policy_refuses_even_with_force(demo_db: str, isolated_home: Path) -> None:
    _write_config(isolated_home, '[heard]\nsolve_policy = "require"\n')
    number = json.loads(run("--db", demo_db, "tickets", "list", "--json", "--status", "new")[0])[0][
        "number"
    ]
    _, err, code = run("--db", demo_db, "tickets", "set", str(number), "--status", "solved",
                       "--force", ok=False)  # fmt: skip
    assert code == 1 and "requires them" in err
