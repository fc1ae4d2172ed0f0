"""A ticket opened by hand with an outbound email: sent through a real SMTP server
(aiosmtpd) by the reply service, from the CLI and from the console's form; the
customer's answer threads back; a failed send keeps the ticket and the draft."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.app import make_app
from deskterm.cli import app
from deskterm.manual import NewTicket, NotSent, open_ticket
from deskterm.store import Store
from deskterm.store.types import utcnow
from tests.servers import free_port
from tests.store.helpers import ingest, mail
from tests.tui.conftest import NOW, settle
from tests.workflow.test_reply import _server, body_of, parse, smtp_config

pytestmark = pytest.mark.smtp
runner = CliRunner()


@pytest.fixture
def server() -> Iterator[Any]:
    yield from _server()


def _config_file(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[agent]\nname = "Ana Agent"\nemail = "support@example.com"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        "allow_plaintext = true\ntimeout = 5\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def test_cli_outbound_email_goes_out_threads_back_and_finds_the_customer(
    tmp_path: Path, server: Any
) -> None:
    db = str(tmp_path / "s.db")
    env = {"DESKTERM_CONFIG": str(_config_file(tmp_path, server.port))}
    args = ["--db", db, "tickets", "new", "--outbound", "--channel", "email",
            "--name", "Maria Lopez", "--email", "Maria@Acme.com", "-s", "Your new invoice",
            "-b", "Hello Maria,\n\nyour invoice is attached.", "--json"]  # fmt: skip
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    ticket = json.loads(result.stdout)
    number = ticket["number"]
    (raw,) = server.received()
    sent = parse(raw)
    assert sent["To"] == "Maria Lopez <maria@acme.com>"
    assert sent["Subject"] == f"Your new invoice [#{number}]"  # no "Re:": we wrote first
    assert sent["In-Reply-To"] is None
    assert body_of(sent).startswith("Hello Maria,")
    (message,) = ticket["messages"]
    assert (message["direction"], message["message_id"]) == ("outbound", sent["Message-ID"])
    assert ticket["status"] == "open" and ticket["first_response_at"] is not None
    assert ticket["customer_profile"]["identities"][0]["value"] == "maria@acme.com"

    from deskterm.desk import open_store

    store = open_store(db)
    ingest(store, mail("maria@acme.com", f"Re: {sent['Subject']}", "Thanks!",
                       at=utcnow(), in_reply_to=sent["Message-ID"]))  # fmt: skip
    detail = store.tickets.get_ticket(number)
    assert [m.direction for m in detail.messages] == ["outbound", "inbound"]
    store.close()

    # The same customer, picked by address: a second email, a second ticket, one customer.
    again = runner.invoke(app, ["--db", db, "tickets", "new", "--outbound", "--channel",
                                "email", "--customer", "maria@acme.com", "-s", "Receipt",
                                "-b", "Here it is.", "--json"], env=env)  # fmt: skip
    assert again.exit_code == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["customer_profile"]["id"] == ticket["customer_profile"]["id"]
    assert len(server.received()) == 2


def test_cli_outbound_email_that_fails_keeps_the_ticket_and_says_why(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    env = {"DESKTERM_CONFIG": str(_config_file(tmp_path, free_port()))}  # nobody listens
    result = runner.invoke(app, ["--db", db, "tickets", "new", "--outbound", "--channel",
                                 "email", "--email", "bo@acme.com", "-s", "Hello",
                                 "-b", "Important."], env=env)  # fmt: skip
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.startswith("deskterm: Opened #1, but its first message was not sent: Cannot connect")
    assert err.endswith("The draft is kept.") and "Traceback" not in err
    shown = json.loads(runner.invoke(app, ["--db", db, "tickets", "show", "1", "--json"]).stdout)
    assert shown["subject"] == "Hello" and shown["messages"] == []
    from deskterm.desk import open_store

    store = open_store(db)
    draft = store.replies.get_draft(1, "Ana Agent")
    assert draft is not None and draft.body == "Important." and draft.error
    store.close()


def test_outbound_phone_call_is_recorded_not_sent(store: Store, server: Any) -> None:
    config = smtp_config(server.port, security="none", allow_plaintext=True)
    new = NewTicket("phone", "Called about renewal", "Left a voicemail.", name="Rui",
                    phone="+351 912 345 678", direction="outbound")  # fmt: skip
    number = open_ticket(store, config, new)
    (message,) = store.tickets.get_ticket(number).messages
    assert (message.direction, message.delivered, message.channel) == ("outbound", False, "phone")
    assert server.received() == []
    down = smtp_config(free_port(), security="none", allow_plaintext=True)
    with pytest.raises(
        NotSent, match=r"^Opened #\d+, but its first message was not sent"
    ) as failed:
        open_ticket(store, down, NewTicket("email", "Hi", "Hello", email="zoe@acme.com",
                                           direction="outbound"))  # fmt: skip
    kept = store.tickets.get_ticket(failed.value.number)  # the ticket stays, without it
    assert kept.ticket.subject == "Hi" and kept.messages == []


async def test_console_form_sends_an_outbound_email(store: Store, server: Any) -> None:
    from deskterm.screens.new_ticket import NewTicketScreen
    from deskterm.screens.ticket import TicketScreen

    ingest(store, mail("maria@acme.com", "Old question", "Hi", name="Maria Lopez"))
    config = smtp_config(server.port, security="none", allow_plaintext=True)
    console = make_app(store, config, clock=lambda: NOW)
    async with console.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(console.screen, NewTicketScreen)
        console.screen.query_one("#channel").value = "email"  # type: ignore[attr-defined]
        console.screen.query_one("#direction").value = "outbound"  # type: ignore[attr-defined]
        await pilot.press(*"maria")
        await settle(pilot)
        await pilot.press("enter")  # the first hit: Maria Lopez
        await settle(pilot)
        await pilot.press(*"Your refund", "tab", *"It went out today.", "enter")
        await settle(pilot)
        assert isinstance(console.screen, TicketScreen)
        number = console.screen.number
    (raw,) = server.received()
    sent = parse(raw)
    assert sent["To"] == "Maria Lopez <maria@acme.com>"
    assert sent["Subject"] == f"Your refund [#{number}]"
    detail = store.tickets.get_ticket(number)
    assert detail.customer is not None and detail.customer.name == "Maria Lopez"
    assert [(m.direction, m.message_id) for m in detail.messages] == [
        ("outbound", sent["Message-ID"])
    ]
