"""The core works without the TUI, and ``deskterm --help`` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

CORE = [
    "deskterm.store",
    "deskterm.store.store",
    "deskterm.ingest",
    "deskterm.connectors.records",
    "deskterm.config",
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
    heavy = {"sqlalchemy", "sqlmodel", "textual", "alembic", "rich.console", "imapclient"}
    assert not heavy & loaded
