"""The config file: read once into typed settings, one sentence per bad value, warnings
for unknown keys, and the safety rule for plain passwords."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.settings import ConfigError, load_settings, parse_settings

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_settings(tmp_path / "none.toml")
    assert cfg.agent.name == "agent" and cfg.heard.solve_policy == "warn"
    assert cfg.path is None and cfg.warnings == () and cfg.rules == () and cfg.smtp is None


def test_sections_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, """
[agent]
name = "Ana Souza"
email = "Support@Example.com"
aliases = ["help@example.com"]
[heard]
solve_policy = "require"
[chat]
agents = ["Ana Souza", "+14155550100"]
default_region = "pt"
session_gap_hours = 12
[ingest]
default_queue = "inbox"
archive_max_ratio = 50
[emotion]
enabled = false
""")  # fmt: skip
    cfg = load_settings(path)
    assert cfg.path == path
    assert cfg.agent.addresses() == {"support@example.com", "help@example.com"}
    assert cfg.heard.solve_policy == "require"
    assert cfg.chat.agents == ("Ana Souza", "+14155550100")
    assert (cfg.chat.default_region, cfg.chat.session_gap_hours) == ("PT", 12.0)
    assert (cfg.ingest.default_queue, cfg.ingest.archive_max_ratio) == ("inbox", 50)
    assert cfg.ingest.batch_size == 500 and not cfg.emotion.enabled


# One bad value per table: the sentence names the file, the table, the key and what was
# expected, and shows what it got.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[agent]\nname = 3", "[agent] name: expected a string, got 3."),
        ("[agent]\nemail = 'support'", "[agent] email: expected an email address, got 'support'."),
        (
            "[accounts.support]\nhost = 'h'\nusername = 'u'\nport = 0",
            "[accounts.support] port: expected a port number from 1 to 65535, got 0.",
        ),
        ("[smtp]\nhost = 'h'\ntimeout = 'slow'", "[smtp] timeout: expected a number, got 'slow'."),
        ("[chat]\nagents = [1]", "[chat] agents: expected a string, got 1."),
        (
            "[chat]\ntimezone = 'Europe/Berln'",
            "[chat] timezone: expected a time zone name such as 'Europe/Berlin', got "
            "'Europe/Berln'.",
        ),
        (
            "[heard]\nsolve_policy = 'maybe'",
            "[heard] solve_policy: expected 'off', 'warn' or 'require', got 'maybe'.",
        ),
        ("[heard]\nroot_causes = []", "[heard] root_causes: expected a non-empty list"),
        ("[ingest]\nbatch_size = -5", "[ingest] batch_size: expected a whole number above 0"),
        ("[ingest]\nstore_attachments = 1", "[ingest] store_attachments: expected true or false"),
        ("[emotion]\nenabled = 'no'", "[emotion] enabled: expected true or false, got 'no'."),
        (
            "[sla.targets.urgent]\nfirst_response = 'soon'",
            "[sla.targets.urgent] first_response: expected a duration like '4h', '30m' or "
            "'1d 4h' (or 'none'), got 'soon'.",
        ),
        ("[sla]\nat_risk = 2", "[sla] at_risk: expected a fraction from 0 to below 1"),
        (
            "[[rules]]\nname = 'VIP'\nset = { raise_priority = 'asap' }",
            "[[rules]] #1 ('VIP') set.raise_priority: expected one of low, normal, high, "
            "urgent, got 'asap'.",
        ),
        ("agent = 'x'", "[agent]: expected a table, got 'x'."),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_sentence_naming_file_table_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    said = str(caught.value)
    assert said.startswith(f"{path} {message}")
    assert "\n" not in said and said.endswith(".")


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("[agent]\nemial = 'a@b.c'", "unknown key [agent] emial — did you mean email?"),
        ("[emotoin]\nenabled = false", "unknown table [emotoin] — did you mean emotion?"),
        ("[ingest]\nbatch_sise = 5", "unknown key [ingest] batch_sise — did you mean batch_size?"),
        (
            "[sla.business_hours]\ntimezon = 'UTC'",
            "unknown key [sla.business_hours] timezon — did you mean timezone?",
        ),
        ("[chat]\nzzz = 1", "unknown key [chat] zzz (known: agents, default_region, timezone,"),
    ],
)  # fmt: skip
def test_an_unknown_key_warns_with_the_nearest_known_key(
    tmp_path: Path, text: str, warning: str
) -> None:
    path = write(tmp_path, text)
    (found,) = load_settings(path).warnings
    assert found.startswith(f"{path}: {warning}")


def test_keys_from_the_file_are_shown_without_escape_sequences() -> None:
    cfg = parse_settings({"agent": {"\x1b[31mred": 1}})
    assert cfg.warnings == ("config: unknown key [agent] red (known: name, email, aliases)",)
    with pytest.raises(ConfigError) as caught:
        parse_settings({"sla": {"tiers": {"\x1b]0;title\x07vip": {"business_hours": 3}}}})
    assert "\x1b" not in str(caught.value) and "[sla.tiers." in str(caught.value)


def test_the_cli_prints_warnings_to_stderr_and_goes_on(tmp_path: Path, isolated_home: Path) -> None:
    from deskterm.cli import app

    (isolated_home / "config").mkdir()
    path = write(isolated_home / "config", "[agent]\nname = 'Ana'\nemial = 'ana@example.com'\n")
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "s.db"), "macros", "list"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("unknown key") == 1
    assert f"deskterm: warning: {path}: unknown key [agent] emial — did you mean email?" in (
        result.stderr
    )


def test_a_broken_table_stops_an_import_before_anything_is_stored(
    tmp_path: Path, isolated_home: Path
) -> None:
    from deskterm.cli import app
    from deskterm.store import Store

    (isolated_home / "config").mkdir()
    write(isolated_home / "config", "[sla.business_hours]\nhours = '9-5'\n")
    mail = tmp_path / "one.eml"
    mail.write_bytes(b"From: a@example.com\r\nSubject: hi\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n")
    db = tmp_path / "s.db"
    result = CliRunner().invoke(app, ["--db", str(db), "import", "mail", str(mail)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"deskterm: {isolated_home / 'config' / 'config.toml'} [sla.business_hours] hours: "
        "expected hours like '09:00-17:00', got '9-5'."
    ]
    assert Store.open(str(db)).queue.count_tickets() == 0


def _toml_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", markdown.read_text(encoding="utf-8"), re.S)


def test_the_readme_example_loads_without_warnings() -> None:
    (example,) = _toml_blocks(ROOT / "README.md")
    cfg = parse_settings(tomllib.loads(example))
    assert cfg.warnings == ()
    assert cfg.accounts["support"].folders == ("INBOX",)
    assert cfg.smtp is not None and cfg.smtp.port == 587
    assert [r.name for r in cfg.rules] == ["Invoices go to billing"]


def test_the_workflow_and_chat_examples_load_without_warnings() -> None:
    for doc in ("workflow.md", "chat.md"):
        for block in _toml_blocks(ROOT / "docs" / doc):
            assert parse_settings(tomllib.loads(block)).warnings == (), block


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml ===", "not valid TOML"),
        ("[[rules]]\nname = 'A'\n[[rules]]\nname = 'A'", "#2 ('A') name: another rule"),
    ],
)
def test_whole_file_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(write(tmp_path, text))


def test_plain_password_in_a_readable_file_is_refused(tmp_path: Path) -> None:
    text = "[accounts.x]\nhost='h'\nusername='u'\npassword='secret'\n"
    with pytest.raises(ConfigError, match="chmod 600"):
        load_settings(write(tmp_path, text, 0o644))
    assert load_settings(write(tmp_path, text, 0o600)).accounts["x"].host == "h"


def test_deskterm_config_pointing_nowhere_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKTERM_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
