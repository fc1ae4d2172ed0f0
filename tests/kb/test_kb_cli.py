"""``deskterm kb`` round trips on SQLite and a real PostgreSQL: new → index → search →
show; an edited file is indexed again (by hash); a deleted one leaves the index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.cli import app

runner = CliRunner()


def run(*args: str, ok: bool = True, stdin: str | None = None) -> tuple[str, str, int]:
    result = runner.invoke(app, list(args), input=stdin)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout, result.stderr, result.exit_code


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_url"))


def kb(db: str, *args: str, ok: bool = True, stdin: str | None = None) -> tuple[str, str, int]:
    return run("--db", db, "kb", *args, ok=ok, stdin=stdin)


def test_new_index_search_show_edit_delete(db: str) -> None:
    body = "Refund the second payment."
    out, _, _ = kb(db, "new", "Refunding a duplicate charge", "--tags", "billing, Refund",
                   "--audience", "public", "--body", body, "--json")  # fmt: skip
    created = json.loads(out)
    path = Path(created["path"])
    assert path.exists() and path.name == "refunding-a-duplicate-charge.md"
    assert created["indexed"] is True
    kb(db, "new", "Password reset email missing", "--body", "Check the spam folder first.")

    found = json.loads(kb(db, "search", "refunds", "--json")[0])  # stemmed
    assert [a["title"] for a in found] == ["Refunding a duplicate charge"]
    assert found[0]["path"] == str(path) and found[0]["score"] > 0

    shown = json.loads(kb(db, "show", "refunding-a-duplicate-charge", "--json")[0])
    assert shown["tags"] == ["billing", "refund"] and shown["audience"] == "public"
    assert shown["body"] == "Refund the second payment.\n"
    assert json.loads(kb(db, "show", str(path), "--json")[0])["title"] == shown["title"]

    report = json.loads(kb(db, "index", "--json")[0])
    assert report["unchanged"] == 2 and not report["added"] + report["updated"]

    path.write_text(path.read_text().replace("second payment", "duplicate payment in full"))
    report = json.loads(kb(db, "index", "--json")[0])
    assert report["updated"] == [path.name] and report["unchanged"] == 1
    assert "in full" in json.loads(kb(db, "show", path.name, "--json")[0])["body"]
    assert json.loads(kb(db, "search", "full", "--json")[0])[0]["path"] == str(path)

    path.unlink()
    report = json.loads(kb(db, "index", "--json")[0])
    assert report["removed"] == [path.name]
    assert [a["title"] for a in json.loads(kb(db, "list", "--json")[0])] == [
        "Password reset email missing"
    ]
    assert json.loads(kb(db, "search", "refund", "--json")[0]) == []
    _, err, code = kb(db, "show", path.name, ok=False)
    assert code == 1 and err.count("\n") == 1 and "no article" in err


def test_bad_article_is_reported_and_its_last_version_kept(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    path = Path(json.loads(kb(db, "new", "Lost phone", "--body", "Use a backup code.",
                              "--json")[0])["path"])  # fmt: skip
    path.write_text("---\ntitle: Lost phone\naudience: everyone\n---\nNew text\n")
    (path.parent / "notes.md").write_text("# Shipping times\n\nFive days.\n")  # no front matter
    (path.parent / "evil\x1b[2J.md").write_text("---\ntitle: Evil \x1b[31mred\nupdated: x\n---\n")
    out, err, code = kb(db, "index")
    assert code == 0 and "audience must be internal or public" in err
    assert "updated must be a date" in err and "\x1b" not in err
    assert "1 added" in out and "2 failed" in out
    titles = {a["title"]: a for a in json.loads(kb(db, "list", "--json")[0])}
    assert set(titles) == {"Lost phone", "Shipping times"}
    assert "backup code" in json.loads(kb(db, "show", "lost-phone", "--json")[0])["body"]


def test_errors_are_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "store.db")
    monkeypatch.setenv("DESKTERM_KB", str(tmp_path / "missing"))
    for args, says in (
        (("index",), "does not exist"),
        (("new",), "Give the article a title"),
        (("new", "T", "--audience", "world"), "internal or public"),
        (("stats", "--since", "yesterday"), "must be a date"),
    ):
        _, err, code = kb(db, *args, ok=False)
        assert code == 1 and says in err and err.count("\n") == 1, err


def test_tickets_show_json_has_suggested_articles(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    run("demo", "--db", db, "--no-open", "--tickets", "40")
    shown = json.loads(run("--db", db, "tickets", "show", "1", "--json")[0])
    assert "VAT number" in shown["subject"]  # demo seed 7
    suggested = shown["suggested_articles"]
    assert suggested and set(suggested[0]) == {"title", "path", "score"}
    assert [s["score"] for s in suggested] == sorted((s["score"] for s in suggested), reverse=True)
    assert suggested[0]["title"] == "Correcting the VAT number on an invoice"
    assert Path(suggested[0]["path"]).exists()
    stats = json.loads(run("--db", db, "kb", "stats", "--json")[0])
    fcr = stats["first_contact_resolution"]
    assert stats["tickets_with_articles"] == 0 and fcr["with_article"]["solved"] == 0
    assert fcr["without_article"]["solved"] > 0 and 0 <= fcr["without_article"]["rate"] <= 1


def test_new_from_a_pipe_and_from_a_ticket_in_the_editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "demo.db")
    run("demo", "--db", db, "--no-open", "--tickets", "40")
    out = kb(db, "new", "Piped article", "--json", stdin="Text from a pipe.\n")[0]
    assert "Text from a pipe." in Path(json.loads(out)["path"]).read_text()

    solved = json.loads(run("--db", db, "tickets", "list", "--status", "solved", "--json")[0])
    number = solved[0]["number"]
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\necho "Checked by the editor." >> "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    created = json.loads(kb(db, "new", "--from-ticket", str(number), "--edit", "--json")[0])
    text = Path(created["path"]).read_text()
    assert f"ticket: {number}" in text and "## Solution" in text and "## Root cause" in text
    assert text.rstrip().endswith("Checked by the editor.")
    shown = json.loads(kb(db, "show", created["path"], "--json")[0])
    assert shown["ticket"] == number and shown["audience"] == "internal"
