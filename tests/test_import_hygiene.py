"""The core works without the TUI, ``deskterm --help`` stays light, and the layers hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CORE = [
    "deskterm.store",
    "deskterm.store.store",
    "deskterm.ingest",
    "deskterm.connectors.records",
    "deskterm.settings",
    "deskterm.query",
    "deskterm.demo",
    "deskterm.sla",
    "deskterm.emotion",
    "deskterm.triage",
    "deskterm.macros",
    "deskterm.reply",
    "deskterm.mailer",
    "deskterm.editor",
    "deskterm.ingest.hooks",
    "deskterm.kb.folder",
    "deskterm.kb.suggest",
]


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(list(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_core_modules_never_import_textual() -> None:
    loaded = modules_after("\n".join(f"import {m}" for m in CORE))
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


def test_cli_start_up_imports_no_database_or_tui() -> None:
    loaded = modules_after("import deskterm.cli")
    heavy = {
        "sqlalchemy",
        "sqlmodel",
        "pydantic",
        "textual",
        "alembic",
        "rich.console",
        "imapclient",
    }
    assert not heavy & loaded


ROOT = Path(__file__).resolve().parents[1]


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """Run the import-linter contracts of pyproject.toml over the package in ``src``."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True, no_logo=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
    )


def test_layers_hold_and_nothing_imports_in_a_circle() -> None:
    """Connectors only parse; the store knows no rules or faces; the base is below;
    services never reach the TUI; the console never imports the CLI; no cycles."""
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("store/errors.py", "from deskterm import sla"),
        ("connectors/records.py", "from deskterm.store import errors"),
        ("screens/base.py", "from deskterm import app"),
    ],
)
def test_the_contracts_catch_a_wrong_import(tmp_path: Path, module: str, line: str) -> None:
    """The check can fail: one forbidden import in a copy of the package breaks it."""
    shutil.copytree(ROOT / "src" / "deskterm", tmp_path / "deskterm")
    target = tmp_path / "deskterm" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", "utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
