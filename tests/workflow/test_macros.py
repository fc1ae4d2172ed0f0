"""Macros: front matter, placeholders, errors naming the file, the picker, the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.macros import (
    PLACEHOLDERS,
    Context,
    MacroError,
    apply_actions,
    find_macro,
    load_macros,
    parse_macro,
    render,
    search,
)
from deskterm.settings import Settings, parse_settings
from deskterm.store import Store
from tests.store.helpers import ingest, mail

REFUND = """+++
title = "Refund issued"
key = "r"
status = "pending"
priority = "low"
tags = ["refund", "Billing"]
+++
Hi {customer.first_name},

the refund for ticket #{ticket.number} ("{ticket.subject}") is on its way.
Literal braces: {{not a placeholder}}.

{agent.name}
"""


@pytest.fixture
def macros_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "macros"
    folder.mkdir(parents=True)
    (folder / "refund-issued.md").write_text(REFUND, encoding="utf-8")
    (folder / "password-reset.md").write_text(
        "Hello {customer.name}, use the reset link on the login page.\n", encoding="utf-8"
    )
    (folder / "notes.txt").write_text("not a macro", encoding="utf-8")
    return folder


@pytest.fixture
def config(macros_dir: Path) -> Settings:
    path = macros_dir.parent / "config.toml"
    path.write_text('[agent]\nname = "Ana Agent"\nemail = "ana@example.com"\n', encoding="utf-8")
    return parse_settings({"agent": {"name": "Ana Agent", "email": "ana@example.com"}}, path)


def test_loads_every_markdown_file_beside_the_config(config: Settings) -> None:
    macros = load_macros(config)
    assert [m.name for m in macros] == ["password-reset", "refund-issued"]
    refund = macros[1]
    assert (refund.title, refund.key, refund.status, refund.priority) == (
        "Refund issued", "r", "pending", "low",
    )  # fmt: skip
    assert refund.tags == ("refund", "billing")
    assert macros[0].title == "Password reset" and macros[0].status is None


def test_render_fills_placeholders_for_a_ticket(store: Store, config: Settings) -> None:
    ingest(store, mail("maria@acme.com", "Charged twice", "help", name="María José Pérez"))
    detail = store.tickets.get_ticket(1)
    context = Context.for_ticket(detail, "Ana Agent", "ana@example.com", datetime.now(UTC))
    text = render(find_macro(load_macros(config), "refund"), context)
    assert text == (
        "Hi María,\n\n"
        'the refund for ticket #1 ("Charged twice") is on its way.\n'
        "Literal braces: {not a placeholder}.\n\n"
        "Ana Agent\n"
    )
    assert set(context.values) == set(PLACEHOLDERS)
    assert context.values["customer.last_name"] == "Pérez"
    assert context.values["customer.email"] == "maria@acme.com"


def test_a_nameless_customer_is_greeted_generically(store: Store) -> None:
    ingest(store, mail("x9@acme.com", "Hi", "help", name="x9@acme.com"))
    context = Context.for_ticket(store.tickets.get_ticket(1), "Ana", "", datetime.now(UTC))
    assert context.values["customer.first_name"] == "there"
    assert context.values["customer.name"] == "x9@acme.com"


def test_actions_set_status_priority_and_add_tags(store: Store, config: Settings) -> None:
    ingest(store, mail())
    store.tickets.set_tags(1, ["vip"], "ana")
    done = apply_actions(store, 1, find_macro(load_macros(config), "refund-issued"), "ana")
    detail = store.tickets.get_ticket(1)
    assert (detail.ticket.status, detail.ticket.priority) == ("pending", "low")
    assert detail.tags == ["billing", "refund", "vip"]
    assert done == ["priority low", "tags refund,billing", "status pending"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {customer.nickname}", r"bad\.md: unknown placeholder \{customer\.nickname\}"),
        ("+++\ntitle = 3\n+++\nHi", r"bad\.md: title must be a string"),
        ('+++\nstatus = "done"\n+++\nHi', r"bad\.md: status must be one of"),
        ('+++\ncolour = "red"\n+++\nHi', r"bad\.md: unknown front matter key 'colour'"),
        ('+++\ntitle = "x"\nHi', r"bad\.md: the front matter opened with \+\+\+ is never closed"),
        ("+++\ntitle = \n+++\nHi", r"bad\.md: the front matter is not valid TOML"),
        ('+++\ntitle = "x"\n+++\n\n', r"bad\.md: the macro has no text"),
        ('+++\nkey = "ab"\n+++\nHi', r"bad\.md: key must be a single character"),
    ],
)
def test_broken_macros_name_the_file(
    macros_dir: Path, config: Settings, text: str, message: str
) -> None:
    (macros_dir / "bad.md").write_text(text, encoding="utf-8")
    with pytest.raises(MacroError, match=message):
        load_macros(config)


def test_shortcut_keys_are_unique(macros_dir: Path, config: Settings) -> None:
    (macros_dir / "resend.md").write_text('+++\nkey = "r"\n+++\nResent.\n', encoding="utf-8")
    with pytest.raises(MacroError, match="key 'r' is already used by macro 'refund-issued'"):
        load_macros(config)


def test_find_and_fuzzy_search(config: Settings) -> None:
    macros = load_macros(config)
    assert find_macro(macros, "Password-Reset").name == "password-reset"
    assert find_macro(macros, "pass").name == "password-reset"
    with pytest.raises(MacroError, match="no macro 'zzz'; macros: password-reset, refund-issued"):
        find_macro(macros, "zzz")
    assert [m.name for m in search(macros, "rfnd")] == ["refund-issued"]
    assert [m.name for m in search(macros, "refnud")] == ["refund-issued"]  # a typo
    assert [m.name for m in search(macros, "PASSWORD reset")] == ["password-reset"]
    assert search(macros, "zzz") == []
    with pytest.raises(MacroError, match=r"no macro 'refnd'; .* Did you mean refund-issued"):
        find_macro(macros, "refnd")
    assert search(macros, "r")[0].name == "refund-issued"  # its shortcut key
    assert [m.name for m in search(macros, "reset")] == ["password-reset"]
    assert len(search(macros, "")) == 2


def test_channel_limited_macros() -> None:
    macro = parse_macro('+++\nchannels = ["whatsapp"]\n+++\nHi\n', "wa")
    assert macro.fits("whatsapp") and not macro.fits("email")
    assert search([macro], "", channel="email") == []


def test_cli_lists_and_renders(store: Store, db_path: Path, config: Settings) -> None:
    from deskterm.cli import app

    ingest(store, mail("maria@acme.com", "Charged twice", "help", name="Maria Lopez"))
    assert config.path is not None
    runner = CliRunner(env={"DESKTERM_CONFIG": str(config.path)})
    result = runner.invoke(app, ["macros", "list", "--json"])
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [m["name"] for m in listed] == ["password-reset", "refund-issued"]
    assert listed[1]["tags"] == ["refund", "billing"] and listed[1]["status"] == "pending"
    result = runner.invoke(app, ["macros", "list"])
    assert "refund-issued" in result.stdout and "Refund issued" in result.stdout
    result = runner.invoke(app, ["--db", str(db_path), "macros", "show", "refund", "--ticket", "1"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Hi Maria,\n")


def test_cli_without_macros_says_where_to_put_them(isolated_home: Path) -> None:
    from deskterm.cli import app

    result = CliRunner().invoke(app, ["macros", "list"])
    assert result.exit_code == 0
    assert str(isolated_home / "config" / "macros") in result.stderr.replace("\n", "")


def test_cli_macros_list_has_the_shared_list_options(config: Settings) -> None:
    from deskterm.cli import app

    assert config.path is not None
    runner = CliRunner(env={"DESKTERM_CONFIG": str(config.path)})
    result = runner.invoke(app, ["macros", "list", "--limit", "1", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [m["name"] for m in json.loads(result.stdout)] == ["password-reset"]
    assert "1 of 2 macros shown — --limit N or --all" in result.stderr
    result = runner.invoke(app, ["macros", "list", "--csv", "--all"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["name"] for r in rows] == ["password-reset", "refund-issued"]
    assert rows[1]["sets"] == "pending, low, +refund, +billing" and rows[1]["key"] == "r"
