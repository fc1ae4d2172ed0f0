"""Replies: email through a real SMTP server (aiosmtpd), chat replies, drafts on failure."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from deskterm.connectors.records import InboundRecord, Party
from deskterm.ingest.threads import normalize_subject, reply_subject, ticket_token
from deskterm.reply import NeedsConfirmation, ReplyError, send_reply
from deskterm.settings import ConfigError, Settings, parse_settings
from deskterm.store import Store
from tests.servers import free_port, unavailable
from tests.store.helpers import T0, ingest, mail

pytestmark = pytest.mark.smtp

PASSWORD_ENV = "DESKTERM_TEST_SMTP_PASSWORD"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    try:
        from tests.servers.smtp import make_tls
    except ImportError as exc:
        unavailable(f"aiosmtpd/cryptography: {exc}")
    return make_tls(tmp_path_factory.mktemp("tls"))


def _server(**kwargs: Any) -> Iterator[Any]:
    try:
        from tests.servers.smtp import running
    except ImportError as exc:
        unavailable(f"aiosmtpd: {exc}")
    with running(**kwargs) as server:
        yield server


@pytest.fixture
def starttls_server(tls: Any) -> Iterator[Any]:
    """STARTTLS required, then AUTH as support@example.com."""
    yield from _server(tls=tls, users={"support@example.com": "s3cret"})


@pytest.fixture
def plain_server() -> Iterator[Any]:
    yield from _server()


def smtp_config(port: object, **smtp: Any) -> Settings:
    return parse_settings(
        {
            "agent": {"name": "Ana Agent", "email": "support@example.com"},
            "heard": {"solve_policy": "warn"},
            "smtp": {"host": "127.0.0.1", "port": port, "timeout": 5, **smtp},
        }
    )


def starttls_config(port: int, tls: Any) -> Settings:
    return smtp_config(
        port,
        security="starttls",
        username="support@example.com",
        password_env=PASSWORD_ENV,
        ca_file=str(tls.ca),
    )


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


@pytest.fixture
def ticket(store: Store) -> int:
    ingest(
        store,
        mail(
            "ana@acme.com",
            "Re: Printer on fire",
            "It is on fire.",
            name="Ana Lima",
            message_id="<first@acme.com>",
        ),
    )
    return store.queue.list_tickets().rows[0].number


def test_reply_over_starttls_with_auth_threads_and_is_stored(
    store: Store, ticket: int, starttls_server: Any, tls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    config = starttls_config(starttls_server.port, tls)
    store.tickets.add_internal_note(
        ticket, "Customer is on the legacy plan; do not mention v2.", "ana"
    )

    result = send_reply(store, config, ticket, "Hello Ana,\n\nwe are on it.\n")

    assert result.delivered and result.clipboard_text is None
    assert starttls_server.logins == ["support@example.com"]
    [raw] = starttls_server.received()
    sent = parse(raw)
    assert sent["From"].addresses[0].addr_spec == "support@example.com"
    assert sent["From"].addresses[0].display_name == "Ana Agent"
    assert sent["To"].addresses[0].addr_spec == "ana@acme.com"
    assert sent["Subject"] == f"Re: Printer on fire [#{ticket}]"
    assert ticket_token(sent["Subject"]) == ticket
    assert sent["In-Reply-To"] == "<first@acme.com>"
    assert sent["References"] == "<first@acme.com>"
    assert sent["Message-ID"].startswith("<") and sent["Message-ID"].endswith("@example.com>")
    assert body_of(sent).strip() == "Hello Ana,\n\nwe are on it."
    assert b"legacy plan" not in raw  # internal notes never leave
    envelope = starttls_server.messages[0]
    assert envelope.mail_from == "support@example.com"
    assert envelope.rcpt_tos == ["ana@acme.com"]

    detail = store.tickets.get_ticket(ticket)
    out = [m for m in detail.messages if m.direction == "outbound"]
    assert len(out) == 1 and out[0].message_id == sent["Message-ID"] and out[0].delivered
    assert detail.ticket.first_response_at == out[0].sent_at
    assert detail.ticket.status == "open"
    assert detail.ticket.sla_next_due == detail.ticket.sla_resolution_due  # FR clock stopped
    kinds = [e.kind for e in store.tickets.events(ticket)]
    assert "reply" in kinds and "first_response" in kinds
    assert store.replies.get_draft(ticket, "Ana Agent") is None

    # The customer answers our reply: it threads into the same ticket, and the second
    # reply references the whole chain, first reply included.
    ingest(
        store,
        InboundRecord(
            source_key="mail:<second@acme.com>",
            channel="email",
            sent_at=out[0].sent_at + timedelta(minutes=5),
            author=Party("email", "ana@acme.com", "Ana Lima"),
            body="Thanks, still smoking though.",
            subject=sent["Subject"],
            message_id="<second@acme.com>",
            in_reply_to=sent["Message-ID"],
            references=("<first@acme.com>", sent["Message-ID"]),
        ),
        config=config,
    )
    assert len(store.tickets.get_ticket(ticket).messages) == 4  # two inbound, note, reply
    second = send_reply(store, config, ticket, "Sending a technician.", status="pending")
    assert second.status == "pending"
    again = parse(starttls_server.received()[1])
    assert again["In-Reply-To"] == "<second@acme.com>"
    assert again["References"].split() == [
        "<first@acme.com>",
        sent["Message-ID"],
        "<second@acme.com>",
    ]
    assert again["Subject"] == f"Re: Printer on fire [#{ticket}]"
    assert again["Message-ID"] != sent["Message-ID"]


def test_the_sent_copy_imported_later_is_a_duplicate(
    store: Store, ticket: int, plain_server: Any
) -> None:
    config = smtp_config(plain_server.port, security="none", allow_plaintext=True)
    send_reply(store, config, ticket, "On it.")
    sent = parse(plain_server.received()[0])
    copy = InboundRecord(
        source_key="imap:acct:1:99",
        channel="email",
        sent_at=T0,
        author=Party("email", "support@example.com", "Ana Agent"),
        body=body_of(sent),
        subject=sent["Subject"],
        message_id=sent["Message-ID"],
        recipients=(Party("email", "ana@acme.com"),),
    )
    summary = ingest(store, copy, config=config)
    assert summary.messages_duplicate == 1 and summary.messages_new == 0


def test_refused_connection_keeps_the_draft(store: Store, ticket: int) -> None:
    config = smtp_config(free_port(), security="none", allow_plaintext=True)
    with pytest.raises(
        ReplyError, match=r"not sent: Cannot connect to the SMTP server 127\.0\.0\.1"
    ):
        send_reply(store, config, ticket, "Important answer.")
    draft = store.replies.get_draft(ticket, "Ana Agent")
    assert draft is not None and draft.body == "Important answer."
    assert draft.error is not None and "Cannot connect" in draft.error
    detail = store.tickets.get_ticket(ticket)
    assert all(m.direction != "outbound" for m in detail.messages)
    assert detail.ticket.first_response_at is None
    assert "reply" not in [e.kind for e in store.tickets.events(ticket)]


def test_a_server_that_comes_up_late_gets_the_mail_once(caplog: pytest.LogCaptureFixture) -> None:
    """The first connection is refused; the back-off waits, the server starts, and
    the second attempt delivers. A server that stays down costs SEND_TRIES attempts."""
    from contextlib import ExitStack

    from deskterm import mailer
    from tests.servers.smtp import running

    port = free_port()
    settings = smtp_config(port, security="none", allow_plaintext=True).smtp
    assert settings is not None
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@x.org", "Hi"
    message.set_content("Late but once.")
    waits: list[float] = []
    server: list[Any] = []
    with ExitStack() as servers:

        def start_then_wait(seconds: float) -> None:
            waits.append(seconds)
            server.append(servers.enter_context(running(port=port)))

        mailer.send(settings, message, sleep=start_then_wait)
        assert waits == [mailer.SEND_BACKOFF]
        assert len(server[0].received()) == 1
    assert "trying again in 0.5 s" in caplog.text
    waits.clear()
    with pytest.raises(mailer.SendError, match="Cannot connect to the SMTP server"):
        mailer.send(settings, message, sleep=waits.append)
    assert waits == [mailer.SEND_BACKOFF, 2 * mailer.SEND_BACKOFF]  # 3 tries in all


def test_auth_failure_keeps_the_draft(
    store: Store, ticket: int, starttls_server: Any, tls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    config = starttls_config(starttls_server.port, tls)
    with pytest.raises(ReplyError, match=r"refused the login of support@example\.com: 535"):
        send_reply(store, config, ticket, "Important answer.")
    assert starttls_server.received() == []
    draft = store.replies.get_draft(ticket, "Ana Agent")
    assert draft is not None and draft.body == "Important answer." and "535" in (draft.error or "")
    assert all(m.direction != "outbound" for m in store.tickets.get_ticket(ticket).messages)


def test_an_untrusted_certificate_is_refused(
    store: Store, ticket: int, starttls_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    config = smtp_config(
        starttls_server.port,
        security="starttls",
        username="support@example.com",
        password_env=PASSWORD_ENV,
    )
    with pytest.raises(
        ReplyError,
        match=r"TLS with the SMTP server .* failed: unable to get local issuer certificate",
    ):
        send_reply(store, config, ticket, "Hello.")
    assert store.replies.get_draft(ticket, "Ana Agent") is not None


def test_implicit_tls(store: Store, ticket: int, tls: Any) -> None:
    for server in _server(tls=tls, implicit_tls=True):
        config = smtp_config(server.port, security="tls", ca_file=str(tls.ca))
        send_reply(store, config, ticket, "Over TLS.")
        assert body_of(parse(server.received()[0])).strip() == "Over TLS."


def test_missing_password_source_keeps_the_draft(
    store: Store, ticket: int, starttls_server: Any, tls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(ReplyError, match=PASSWORD_ENV):
        send_reply(store, starttls_config(starttls_server.port, tls), ticket, "Hi.")
    assert store.replies.get_draft(ticket, "Ana Agent") is not None


@pytest.mark.parametrize(
    ("smtp", "message"),
    [
        ({"security": "none"}, r"\[smtp\] security: 'none' sends .* add allow_plaintext = true"),
        ({"security": "ssl"}, r"\[smtp\] security: expected 'tls', 'starttls' or 'none'"),
        ({"security": "tls", "port": "465"}, r"\[smtp\] port: expected a whole number, got '465'"),
        ({"ca_file": "/no/such/ca.pem"}, r"\[smtp\] ca_file: expected an existing file"),
    ],
)
def test_bad_smtp_settings_are_refused_when_loaded(smtp: dict[str, Any], message: str) -> None:
    smtp = dict(smtp)
    port = smtp.pop("port", 25)
    with pytest.raises(ConfigError, match=message):
        smtp_config(port, **smtp)


def test_no_smtp_table_keeps_the_draft(store: Store, ticket: int) -> None:
    config = parse_settings({"agent": {"name": "Ana Agent", "email": "support@example.com"}})
    with pytest.raises(ReplyError, match=r"need an \[smtp\] section"):
        send_reply(store, config, ticket, "Hi.")
    assert store.replies.get_draft(ticket, "Ana Agent") is not None


def test_chat_reply_is_stored_not_delivered(store: Store) -> None:
    ingest(
        store,
        InboundRecord(
            source_key="whatsapp:1",
            channel="whatsapp",
            sent_at=T0,
            author=Party("phone", "+14155550100", "Bo"),
            body="my order never came",
            conversation="whatsapp:chat-with-bo",
        ),
    )
    number = store.queue.list_tickets().rows[0].number
    config = parse_settings({"agent": {"name": "Ana Agent"}})  # no [smtp] needed
    result = send_reply(store, config, number, "Sorry Bo, checking now.")
    assert not result.delivered
    assert result.clipboard_text == "Sorry Bo, checking now."
    detail = store.tickets.get_ticket(number)
    out = detail.messages[-1]
    assert (out.direction, out.channel, out.delivered) == ("outbound", "whatsapp", False)
    assert detail.ticket.first_response_at == out.sent_at


def test_solving_with_heard_open_asks_first(store: Store, ticket: int, plain_server: Any) -> None:
    config = smtp_config(plain_server.port, security="none", allow_plaintext=True)
    with pytest.raises(NeedsConfirmation, match="HEARD steps open"):
        send_reply(store, config, ticket, "Fixed!", status="solved")
    assert plain_server.received() == []
    assert store.replies.get_draft(ticket, "Ana Agent") is not None
    result = send_reply(store, config, ticket, "Fixed!", status="solved", confirm_solve=True)
    assert result.status == "solved"
    assert len(plain_server.received()) == 1


def test_reply_subject_keeps_one_token() -> None:
    assert reply_subject("RE: Fwd: Invoice [#12]", 12) == "Re: Invoice [#12]"
    assert reply_subject("", 7) == "Re: [#7]"
    assert reply_subject("AW: [Ticket #3] Re[2]: Rückerstattung", 3) == "Re: Rückerstattung [#3]"


@given(st.text(max_size=60), st.integers(min_value=1, max_value=10**9))
def test_a_reply_threads_back_to_its_ticket(subject: str, number: int) -> None:
    """Replies and threading share one subject rule: the reply's subject carries the
    ticket's token and normalizes to what the ticket's subject does."""
    sent = reply_subject(subject, number)
    assert ticket_token(sent) == number
    assert normalize_subject(sent) == normalize_subject(subject)


# -- deskterm reply ------------------------------------------------------------------------


def test_cli_reply_with_body_file_and_macro(
    store: Store,
    ticket: int,
    db_path: Path,
    plain_server: Any,
    tmp_path: Path,
    isolated_home: Path,
) -> None:
    from deskterm.cli import app

    config_dir = isolated_home / "config"
    (config_dir / "macros").mkdir(parents=True)
    (config_dir / "config.toml").write_text(
        f"""
[agent]
name = "Ana Agent"
email = "support@example.com"

[smtp]
host = "127.0.0.1"
port = {plain_server.port}
security = "none"
allow_plaintext = true
""",
        encoding="utf-8",
    )
    (config_dir / "macros" / "on-hold.md").write_text(
        '+++\ntitle = "Waiting for parts"\nstatus = "on_hold"\ntags = ["parts"]\n+++\n'
        "Hi {customer.first_name}, ticket {ticket.number} waits for parts.\n{agent.name}\n",
        encoding="utf-8",
    )
    body = tmp_path / "reply.txt"
    body.write_text("Please try the reset button.\n", encoding="utf-8")
    runner = CliRunner()
    db = str(db_path)
    result = runner.invoke(
        app,
        [
            "--db",
            db,
            "reply",
            str(ticket),
            "--body-file",
            str(body),
            "--status",
            "pending",
            "--json",
        ],
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out = json.loads(result.stdout)
    assert out["delivered"] is True and out["status"] == "pending"
    assert body_of(parse(plain_server.received()[0])).strip() == "Please try the reset button."

    result = runner.invoke(app, ["--db", db, "reply", str(ticket), "--macro", "on-hold"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    text = body_of(parse(plain_server.received()[1]))
    assert text.strip() == f"Hi Ana, ticket {ticket} waits for parts.\nAna Agent"
    detail = store.tickets.get_ticket(ticket)
    assert detail.ticket.status == "on_hold" and detail.tags == ["parts"]

    result = runner.invoke(app, ["--db", db, "reply", str(ticket)])
    assert result.exit_code != 0 and "--body-file" in result.stderr

    body.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["--db", db, "reply", str(ticket), "--body-file", str(body)])
    assert result.exit_code == 1 and "empty" in result.stderr
