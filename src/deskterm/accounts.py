"""IMAP accounts from the config file's ``[accounts.NAME]`` tables.

The keys are the contract of issue 3::

    [accounts.support]
    host = "imap.example.com"
    port = 993                        # default: 993 for tls, 143 otherwise
    security = "tls"                  # tls | starttls | none (needs allow_plaintext = true)
    username = "support@example.com"
    password_cmd = "pass show mail/support"   # or password_env, keyring, password
    folders = ["INBOX"]
    cafile = "/path/to/ca.pem"        # optional: trust this CA (a self-signed server)
    verify = true                     # false turns certificate checks off, loudly
    mark_read = false                 # true fetches with BODY[] and so sets \\Seen
    timeout = 30                      # seconds for connect and each read

Errors name the key (``accounts.support.port must be ...``) so a typo is found fast;
unknown keys are errors too, because a misspelt ``pasword_cmd`` would otherwise
silently mean "no password".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskterm.config import Config, ConfigError
from deskterm.credentials import SOURCES, CredentialError, password_source, resolve_password

SECURITY = ("tls", "starttls", "none")
_KEYS = {
    "host", "port", "security", "allow_plaintext", "username", "folders", "cafile",
    "verify", "mark_read", "timeout", *SOURCES,
}  # fmt: skip


@dataclass(frozen=True)
class Account:
    """One IMAP account; the password is fetched only when connecting."""

    name: str
    host: str
    username: str
    port: int = 993
    security: str = "tls"
    folders: tuple[str, ...] = ("INBOX",)
    cafile: Path | None = None
    verify: bool = True
    mark_read: bool = False
    timeout: float = 30.0
    secret: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def where(self) -> str:
        """The config table, as error messages name it."""
        return f"accounts.{self.name}"

    def password(self) -> str:
        """Resolve the password now (runs ``password_cmd``, reads the keyring...)."""
        try:
            return resolve_password(self.secret, self.where)
        except CredentialError as exc:
            raise ConfigError(str(exc)) from exc


_KINDS = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def _get(table: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = table.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{where}.{key} must be {_KINDS[kind]}, not {value!r}.")
    return value


def parse_account(name: str, table: Any, base: Path | None = None) -> Account:
    """One ``[accounts.NAME]`` table, checked; ``base`` resolves a relative ``cafile``."""
    where = f"accounts.{name}"
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table.")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]} is not a known account key.")
    host = _get(table, "host", str, "", where)
    if not host:
        raise ConfigError(f"{where}.host is required.")
    username = _get(table, "username", str, "", where)
    if not username:
        raise ConfigError(f"{where}.username is required.")
    security = _get(table, "security", str, "tls", where)
    if security not in SECURITY:
        raise ConfigError(f"{where}.security must be tls, starttls or none, not {security!r}.")
    if security == "none" and not _get(table, "allow_plaintext", bool, False, where):
        raise ConfigError(
            f"{where}.security = 'none' sends the password unencrypted; "
            "add allow_plaintext = true if you really mean it."
        )
    port = _get(table, "port", int, 993 if security == "tls" else 143, where)
    if not 0 < port < 65536:
        raise ConfigError(f"{where}.port must be between 1 and 65535, not {port}.")
    folders = table.get("folders", ["INBOX"])
    if isinstance(folders, str):
        folders = [folders]
    if (
        not isinstance(folders, list)
        or not folders
        or not all(isinstance(f, str) and f for f in folders)
    ):
        raise ConfigError(f"{where}.folders must be a non-empty list of folder names.")
    cafile = None
    if "cafile" in table:
        cafile = Path(_get(table, "cafile", str, "", where)).expanduser()
        if not cafile.is_absolute() and base is not None:
            cafile = base.parent / cafile
        if not cafile.is_file():
            raise ConfigError(f"{where}.cafile {cafile} does not exist.")
    timeout = _get(table, "timeout", float, 30.0, where)
    if timeout <= 0:
        raise ConfigError(f"{where}.timeout must be positive.")
    try:
        password_source(table, where)
    except CredentialError as exc:
        raise ConfigError(str(exc)) from exc
    return Account(
        name=name,
        host=host,
        username=username,
        port=port,
        security=security,
        folders=tuple(dict.fromkeys(folders)),
        cafile=cafile,
        verify=_get(table, "verify", bool, True, where),
        mark_read=_get(table, "mark_read", bool, False, where),
        timeout=timeout,
        secret={k: table[k] for k in (*SOURCES, "username") if k in table},
    )


def accounts(config: Config) -> dict[str, Account]:
    """Every configured account by name, in file order."""
    section = config.section("accounts")
    return {name: parse_account(name, table, config.path) for name, table in section.items()}


def account(config: Config, name: str) -> Account:
    """One account by name, with an error that lists the configured ones."""
    found = accounts(config)
    if name not in found:
        known = ", ".join(found) or "none"
        raise ConfigError(f"No account {name!r} in the config (configured: {known}).")
    return found[name]
