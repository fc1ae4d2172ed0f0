"""Config file loading and its safety rule for plain passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskterm.config import ConfigError, load_config


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "none.toml")
    assert cfg.agent.name == "agent" and cfg.heard.solve_policy == "warn"


def test_sections_are_read(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, """
[agent]
name = "Ana Souza"
email = "Support@Example.com"
aliases = ["help@example.com"]
[heard]
solve_policy = "require"
[chat]
agents = ["Ana Souza", "+14155550100"]
session_gap_hours = 12
"""))  # fmt: skip
    assert cfg.agent.addresses() == {"support@example.com", "help@example.com"}
    assert cfg.heard.solve_policy == "require"
    assert cfg.chat.agents == ("Ana Souza", "+14155550100")
    assert cfg.ingest.session_gap_hours == 12.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[heard]\nsolve_policy = 'maybe'", "solve_policy"),
        ("[agent]\nname = 3", "agent.name must be a str"),
        ("[chat]\nagents = [1]", "chat.agents must be a list of strings"),
        ("agent = 'x'", r"\[agent\]"),
        ("not toml ===", "not valid TOML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_plain_password_in_a_readable_file_is_refused(tmp_path: Path) -> None:
    text = "[accounts.x]\nhost='h'\npassword='secret'\n"
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(write(tmp_path, text, 0o644))
    assert load_config(write(tmp_path, text, 0o600)).raw["accounts"]["x"]["host"] == "h"


def test_deskterm_config_pointing_nowhere_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKTERM_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config()
