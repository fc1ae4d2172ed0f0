"""Passwords come from a command, the environment or the keyring; plain text warns."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from deskterm import credentials
from deskterm.credentials import CredentialError, password_source, resolve_password


def test_password_cmd_first_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "pw.py"
    script.write_text("print('s3cret with spaces  ')\nprint('second line')\n")
    cmd = f"{sys.executable} {script}"
    assert resolve_password({"password_cmd": cmd}, "accounts.a") == "s3cret with spaces  "


def test_password_cmd_failure_names_the_key_but_never_echoes_stderr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A broken pipeline can print the secret on stderr; it must not reach our messages.
    command = "echo 'gpg: decrypt of hunter2-secret failed' >&2; exit 3"
    with caplog.at_level(logging.DEBUG), pytest.raises(CredentialError) as err:
        resolve_password({"password_cmd": command}, "accounts.a")
    assert "accounts.a.password_cmd failed (exit status 3)" in str(err.value)
    assert "hunter2" not in str(err.value)
    assert "hunter2" not in caplog.text
    with pytest.raises(CredentialError, match="printed no password"):
        resolve_password({"password_cmd": "true"}, "accounts.a")


def test_password_cmd_times_out_with_everything_it_started(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The sleep is a grandchild holding stdout open: killing the shell alone would
    # leave us waiting for it.
    marker = tmp_path / "still-running"
    command = f"(sleep 20; touch {marker}) | cat"
    started = time.monotonic()
    with pytest.raises(CredentialError) as err:
        resolve_password({"password_cmd": command}, "accounts.a", timeout=0.5)
    assert time.monotonic() - started < 5
    assert str(err.value).startswith(
        "accounts.a.password_cmd did not finish within 0.5 s and was stopped"
    )
    assert credentials.COMMAND_TIMEOUT == 30.0


def test_password_cmd_cannot_read_the_terminal() -> None:
    # stdin is closed, so a command that prompts fails at once instead of hanging.
    with pytest.raises(CredentialError, match="printed no password"):
        resolve_password({"password_cmd": 'read -r pw; echo "$pw"'}, "accounts.a", timeout=5)


def test_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DT_TEST_PW", "from-env")
    assert resolve_password({"password_env": "DT_TEST_PW"}, "smtp") == "from-env"
    monkeypatch.delenv("DT_TEST_PW")
    with pytest.raises(CredentialError, match=r"smtp\.password_env names \$DT_TEST_PW"):
        resolve_password({"password_env": "DT_TEST_PW"}, "smtp")


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's own is untyped
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def test_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("deskterm", "accounts.support", "k1")
    memory_keyring.set_password("mail", "ana@example.com", "k2")
    assert resolve_password({"keyring": True}, "accounts.support") == "k1"
    table = {"keyring": "mail", "username": "ana@example.com"}
    assert resolve_password(table, "accounts.other") == "k2"
    with pytest.raises(CredentialError, match=r"keyring set deskterm accounts\.none"):
        resolve_password({"keyring": True}, "accounts.none")


def test_plain_password_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert resolve_password({"password": "plain"}, "accounts.a") == "plain"
    assert "accounts.a.password is plain text" in caplog.text


def test_missing_or_ambiguous_source() -> None:
    with pytest.raises(CredentialError, match=r"\[accounts\.a\] has no password"):
        resolve_password({"host": "x"}, "accounts.a")
    with pytest.raises(CredentialError, match="password_env and password"):
        password_source({"password_env": "X", "password": "y"}, "accounts.a")
    assert password_source({"keyring": False, "password_env": "X"}, "a") == "password_env"
