"""``[accounts.NAME]`` tables: defaults, clear errors naming the key, password rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskterm.accounts import account, accounts
from deskterm.config import ConfigError, load_config


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_defaults_and_the_contract_keys(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    cfg = load_config(write(tmp_path, """
[accounts.support]
host = "imap.example.com"
username = "support@example.com"
password_cmd = "pass show mail/support"
cafile = "ca.pem"

[accounts.sales]
host = "mail.example.com"
port = 143
security = "starttls"
username = "sales"
password_env = "SALES_PW"
folders = ["INBOX", "Sales/Leads"]
"""))  # fmt: skip
    found = accounts(cfg)
    assert list(found) == ["support", "sales"]
    support = found["support"]
    assert (support.port, support.security, support.folders) == (993, "tls", ("INBOX",))
    assert support.cafile == ca and support.verify and not support.mark_read
    assert found["sales"].folders == ("INBOX", "Sales/Leads")
    assert account(cfg, "sales").port == 143


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('username = "u"\npassword_env = "X"', r"accounts\.a\.host is required"),
        ('host = "h"\npassword_env = "X"', r"accounts\.a\.username is required"),
        ('host = "h"\nusername = "u"\nport = "993"', r"accounts\.a\.port must be a whole number"),
        ('host = "h"\nusername = "u"\nport = 70000', r"accounts\.a\.port must be between"),
        ('host = "h"\nusername = "u"\nsecurity = "ssl"', r"accounts\.a\.security must be"),
        ('host = "h"\nusername = "u"\nsecurity = "none"', r"allow_plaintext = true"),
        ('host = "h"\nusername = "u"\nfolders = []', r"accounts\.a\.folders must be"),
        ('host = "h"\nusername = "u"\ncafile = "/no/such.pem"', r"accounts\.a\.cafile"),
        ('host = "h"\nusername = "u"\npasword_cmd = "x"', r"accounts\.a\.pasword_cmd is not"),
        ('host = "h"\nusername = "u"\npassword_env = "X"\npassword_cmd = "y"', "only one"),
        ('host = "h"\nusername = "u"\nverify = "no"', r"accounts\.a\.verify must be true or false"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    cfg = load_config(write(tmp_path, f"[accounts.a]\n{table}\n"))
    with pytest.raises(ConfigError, match=message):
        accounts(cfg)


def test_unknown_account_lists_the_configured_ones(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[accounts.a]\nhost = "h"\nusername = "u"\n'))
    with pytest.raises(ConfigError, match=r"No account 'b'.*configured: a"):
        account(cfg, "b")


def test_missing_password_is_reported_when_connecting(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[accounts.a]\nhost = "h"\nusername = "u"\n'))
    with pytest.raises(ConfigError, match=r"\[accounts\.a\] has no password"):
        account(cfg, "a").password()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_plain_password_needs_a_private_config_file(tmp_path: Path, mode: int) -> None:
    text = '[accounts.a]\nhost = "h"\nusername = "u"\npassword = "plain"\n'
    with pytest.raises(ConfigError, match="readable by others; run: chmod 600"):
        load_config(write(tmp_path, text, mode))
    cfg = load_config(write(tmp_path, text, 0o600))
    assert account(cfg, "a").password() == "plain"
    # Without a plain password the file's mode does not matter.
    safe = '[accounts.a]\nhost = "h"\nusername = "u"\npassword_env = "X"\n'
    assert accounts(load_config(write(tmp_path, safe, 0o644)))["a"].host == "h"
