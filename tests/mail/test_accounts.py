"""``[accounts.NAME]`` tables: defaults, clear errors naming the key, password rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deskterm.settings import ConfigError, load_settings


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_defaults_and_the_contract_keys(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    cfg = load_settings(write(tmp_path, """
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
    found = cfg.accounts
    assert list(found) == ["support", "sales"]
    support = found["support"]
    assert (support.port, support.security, support.folders) == (993, "tls", ("INBOX",))
    assert support.cafile == ca and support.verify and not support.mark_read
    assert found["sales"].folders == ("INBOX", "Sales/Leads")
    assert found["sales"].port == 143 and found["sales"].where == "accounts.sales"


HU = 'host = "h"\nusername = "u"\n'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('username = "u"\npassword_env = "X"', r"host: required, but missing\.$"),
        ('host = "h"\npassword_env = "X"', r"username: required, but missing\.$"),
        (HU + 'port = "993"', r"port: expected a whole number, got '993'\.$"),
        (HU + "port = 70000", r"port: expected a port number from 1 to 65535, got 70000\.$"),
        (HU + 'security = "ssl"', r"security: expected 'tls', 'starttls' or 'none', got 'ssl'"),
        (HU + 'security = "none"', r"security: 'none' sends .* add allow_plaintext = true"),
        (HU + "folders = []", r"folders: expected a non-empty list"),
        (HU + 'cafile = "/no/such.pem"', r"cafile: expected an existing file, got '/no/such\.pem'"),
        (HU + 'password_env = "X"\npassword_cmd = "y"', r"password_env: sets .* keep only one"),
        (HU + 'verify = "no"', r"verify: expected true or false, got 'no'\.$"),
        (HU + "timeout = 0", r"timeout: expected a number above 0, got 0\.$"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    path = write(tmp_path, f"[accounts.a]\n{table}\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path} [accounts.a] ") + message):
        load_settings(path)


def test_a_relative_cafile_is_found_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    path = write(tmp_path, '[accounts.a]\nhost = "h"\nusername = "u"\ncafile = "ca.pem"\n')
    assert load_settings(path).accounts["a"].cafile == tmp_path / "ca.pem"
    path.write_text('[accounts.a]\nhost = "h"\nusername = "u"\ncafile = "no.pem"\n')
    with pytest.raises(ConfigError, match=f"looked at {tmp_path / 'no.pem'}"):
        load_settings(path)


def test_a_misspelt_password_key_warns_and_connecting_says_why(tmp_path: Path) -> None:
    text = '[accounts.a]\nhost = "h"\nusername = "u"\npasword_cmd = "x"\n'
    cfg = load_settings(write(tmp_path, text))
    assert cfg.warnings == (
        f"{tmp_path / 'config.toml'}: unknown key [accounts.a] pasword_cmd — did you mean "
        "password_cmd?",
    )
    with pytest.raises(ConfigError, match=r"\[accounts\.a\] has no password"):
        cfg.accounts["a"].password()


def test_missing_password_is_reported_when_connecting(tmp_path: Path) -> None:
    cfg = load_settings(write(tmp_path, '[accounts.a]\nhost = "h"\nusername = "u"\n'))
    with pytest.raises(ConfigError, match=r"\[accounts\.a\] has no password"):
        cfg.accounts["a"].password()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_plain_password_needs_a_private_config_file(tmp_path: Path, mode: int) -> None:
    text = '[accounts.a]\nhost = "h"\nusername = "u"\npassword = "plain"\n'
    with pytest.raises(ConfigError, match="readable by others; run: chmod 600"):
        load_settings(write(tmp_path, text, mode))
    cfg = load_settings(write(tmp_path, text, 0o600))
    assert cfg.accounts["a"].password() == "plain"
    # Without a plain password the file's mode does not matter.
    safe = '[accounts.a]\nhost = "h"\nusername = "u"\npassword_env = "X"\n'
    assert load_settings(write(tmp_path, safe, 0o644)).accounts["a"].host == "h"
