"""A private Dovecot for the whole session, and a fresh folder and config per test."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import unavailable

AGENT = '[agent]\nname = "Ana Souza"\nemail = "support@example.com"\n'


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Any]:
    """A running Dovecot (skips, or fails with DESKTERM_REQUIRE_SERVERS=1, without it)."""
    from tests.servers import dovecot

    # Not under pytest's temp tree: every pytest run resets that to mode 0700, and
    # Dovecot's unprivileged processes must be able to reach their files.
    base = Path(tempfile.mkdtemp(prefix="deskterm-dovecot-"))
    try:
        server = dovecot.start(base)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        unavailable(f"Dovecot: {exc}")
        return
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Imap:
    """One test's view of the server: its own folder, and a config pointing at it."""

    server: Any
    folder: str
    config: Path

    def configure(self, **account: Any) -> None:
        """(Re)write the config with this folder's account; keys override defaults."""
        account.setdefault("folders", [self.folder])
        self.config.write_text(AGENT + self.server.account_toml(**account))

    def append(self, raw: bytes) -> int:
        return int(self.server.append(raw, self.folder))

    def client(self) -> Any:
        return self.server.client()


@pytest.fixture
def imap(dovecot_server: Any, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Imap:
    if dovecot_server.proc is None or dovecot_server.proc.poll() is not None:
        dovecot_server.start()  # an earlier test killed it
    folder = f"T{uuid.uuid4().hex[:10]}"
    with dovecot_server.client() as client:
        client.create_folder(folder)
    monkeypatch.setenv("DESKTERM_TEST_IMAP_PASSWORD", dovecot_server.password)
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    handle = Imap(dovecot_server, folder, config)
    handle.configure()
    return handle
