"""Composing in $EDITOR: a real editor process (a small script) edits the text."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.connectors.records import InboundRecord, Party
from deskterm.editor import EditorError, edit_text
from deskterm.store import Store
from tests.store.helpers import T0, ingest


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An "editor" that uppercases the first line and appends a signature."""
    script = tmp_path / "fake_editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "lines = p.read_text(encoding='utf-8').splitlines() or ['']\n"
        "lines[0] = lines[0].upper()\n"
        "p.write_text('\\n'.join(lines) + '\\n-- edited\\n\\n\\n', encoding='utf-8')\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    return script


def test_edit_text_round_trips_through_the_editor(
    editor: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert edit_text("hello there\nsecond line") == "HELLO THERE\nsecond line\n-- edited\n"
    assert list(scratch.iterdir()) == []  # the temporary file is gone


def test_a_failing_editor_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISUAL", f"{sys.executable} -c 'raise SystemExit(3)'")
    with pytest.raises(EditorError, match="exited with status 3"):
        edit_text("x")
    monkeypatch.setenv("VISUAL", "/nonexistent/editor")
    with pytest.raises(EditorError, match="Cannot run the editor /nonexistent/editor"):
        edit_text("x")


def test_cli_reply_edit(store: Store, db_path: Path, editor: Path, isolated_home: Path) -> None:
    from deskterm.cli import app

    ingest(
        store,
        InboundRecord(
            source_key="telegram:1",
            channel="telegram",
            sent_at=T0,
            author=Party("telegram", "42", "Bo"),
            body="hi",
            conversation="tg:42",
        ),
    )
    (isolated_home / "config").mkdir()
    (isolated_home / "config" / "config.toml").write_text(
        '[agent]\nname = "Ana"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["--db", str(db_path), "reply", "1", "--edit", "--json"])
    assert result.exit_code == 0, result.stderr
    out = store.tickets.get_ticket(1).messages[-1]
    assert (out.direction, out.delivered, out.body) == ("outbound", False, "-- edited\n")
