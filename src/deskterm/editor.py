"""Editing text in the agent's own editor (``$VISUAL``/``$EDITOR``).

The console suspends itself around :func:`edit_text` (``with app.suspend():``); the
CLI calls it directly. The text goes through a private temporary file that is
removed afterwards.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

FALLBACKS = ("sensible-editor", "nano", "vi")


class EditorError(Exception):
    """No editor could be run, or it failed; the message says which and why."""


def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR`` (both may carry arguments), else a common editor."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return shlex.split(value)
    for candidate in FALLBACKS:
        found = shutil.which(candidate)
        if found:
            return [found]
    raise EditorError("No editor found: set $EDITOR (for example: export EDITOR=nano).")


def edit_text(text: str, *, suffix: str = ".txt") -> str:
    """Open ``text`` in the editor and return what was saved (trailing blank lines
    dropped). Raises :class:`EditorError` if the editor cannot start or fails."""
    command = editor_command()
    handle, name = tempfile.mkstemp(prefix="deskterm-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        try:
            done = subprocess.run([*command, str(path)], check=False)
        except OSError as exc:
            raise EditorError(f"Cannot run the editor {command[0]}: {exc.strerror}.") from exc
        if done.returncode != 0:
            raise EditorError(
                f"The editor {Path(command[0]).name} exited with status {done.returncode}; "
                "the text was not used."
            )
        return path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    finally:
        path.unlink(missing_ok=True)
