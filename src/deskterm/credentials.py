"""Secrets for IMAP accounts and SMTP, read from where the user keeps them.

Any config table (``[accounts.NAME]``, ``[smtp]``) names exactly one source:

* ``password_cmd = "pass show mail/support"``: a shell command whose first output
  line is the password (like mbsync's ``PassCmd``). It gets :data:`COMMAND_TIMEOUT`
  seconds (a password manager's passphrase prompt fits in that; a command stuck on a
  dead network mount must not hang a sync). Its error output is never shown or
  logged: a failing ``echo "$PW" | broken-tool`` may print the secret there;
* ``password_env = "VAR"``: an environment variable;
* ``keyring = true``: the system keyring, service ``deskterm`` and user the table's
  name (``keyring set deskterm accounts.support``); ``keyring = "SERVICE"`` looks up
  ``SERVICE`` with the table's ``username`` instead;
* ``password = "..."``: plain text, accepted with a warning (and only in a config file
  nobody else can read, which :func:`deskterm.settings.load_settings` enforces).

The password is resolved when a connection needs it, never stored.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

SOURCES = ("password_cmd", "password_env", "keyring", "password")
KEYRING_SERVICE = "deskterm"
COMMAND_TIMEOUT = 30.0  # seconds for password_cmd, passphrase prompt included


class CredentialError(Exception):
    """No usable password; the message names the config key and what to do."""


def password_source(table: Mapping[str, Any], where: str) -> str | None:
    """Which key of ``table`` holds the password (``None`` if none does).

    More than one source is an error: guessing which wins would surprise someone.
    """
    present = [
        key for key in SOURCES if key in table and not (key == "keyring" and table[key] is False)
    ]
    if len(present) > 1:
        raise CredentialError(
            f"[{where}] sets {' and '.join(present)}; keep only one password source."
        )
    return present[0] if present else None


def resolve_password(
    table: Mapping[str, Any], where: str, *, timeout: float = COMMAND_TIMEOUT
) -> str:
    """The password ``table`` (the config table named ``where``) points at;
    ``password_cmd`` is stopped after ``timeout`` seconds."""
    source = password_source(table, where)
    if source is None:
        raise CredentialError(
            f"[{where}] has no password: set password_cmd, password_env or keyring = true."
        )
    value = table[source]
    if source == "password_cmd":
        return _from_command(_string(value, where, source), where, timeout)
    if source == "password_env":
        name = _string(value, where, source)
        secret = os.environ.get(name)
        if secret is None:
            raise CredentialError(f"{where}.password_env names ${name}, which is not set.")
        return secret
    if source == "keyring":
        return _from_keyring(value, table, where)
    log.warning(
        "%s.password is plain text in the config file; prefer password_cmd, "
        "password_env or keyring = true.",
        where,
    )
    return _string(value, where, source)


def _string(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise CredentialError(f"{where}.{key} must be a non-empty string.")
    return value


def _from_command(command: str, where: str, timeout: float) -> str:
    """Run ``command`` in its own session, so that on timeout the shell and everything
    it started (a pipeline, a retry loop) are killed together, and so that it can
    never stop on a read from the terminal (prompts belong to agents such as
    gpg-agent's pinentry, which have their own session anyway)."""
    try:
        proc = subprocess.Popen(
            command,
            shell=True,  # the user's own config, run like mbsync's PassCmd
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # may hold the secret: never read, never shown
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise CredentialError(f"{where}.password_cmd could not run: {exc.strerror}.") from exc
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_session(proc)
        raise CredentialError(
            f"{where}.password_cmd did not finish within {timeout:g} s and was stopped; "
            "check that the command runs without asking on the terminal."
        ) from exc
    if proc.returncode != 0:
        status = (
            f"killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"exit status {proc.returncode}"
        )
        raise CredentialError(
            f"{where}.password_cmd failed ({status}); run it in a shell to see why "
            "(its error output is not shown here, as it may contain the password)."
        )
    lines = out.splitlines()
    if not lines or not lines[0]:
        raise CredentialError(f"{where}.password_cmd printed no password.")
    return lines[0]


def _kill_session(proc: subprocess.Popen[str]) -> None:
    """Kill the command's whole process group and reap it; a grandchild holding the
    output pipe open would otherwise keep us waiting."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.stdout is not None:
        proc.stdout.close()
    proc.wait()


def _from_keyring(value: Any, table: Mapping[str, Any], where: str) -> str:
    if value is True:
        service, user = KEYRING_SERVICE, where
    elif isinstance(value, str) and value:
        service = value
        user = _string(table.get("username"), where, "username")
    else:
        raise CredentialError(f"{where}.keyring must be true or a keyring service name.")
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError as exc:
        raise CredentialError(
            f"{where}.keyring needs the keyring package: pip install 'deskterm[keyring]'."
        ) from exc
    try:
        secret = keyring.get_password(service, user)
    except KeyringError as exc:
        raise CredentialError(f"{where}.keyring: the system keyring failed: {exc}.") from exc
    if secret is None:
        raise CredentialError(
            f"{where}.keyring: no password stored; run: keyring set {service} {user}"
        )
    return str(secret)
