"""Replies, macros and ticket operations from the ticket screen (Pilot).

Email replies go through a real SMTP server (aiosmtpd on a loopback port); chat replies
are recorded and put on the clipboard; drafts live in the store and survive a failed
send and a closed app.
"""

from __future__ import annotations

import email
import stat
from collections.abc import Iterator
from contextlib import nullcontext
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from deskterm import paths
from deskterm.app import DesktermApp, make_app
from deskterm.ingest.threads import format_token
from deskterm.screens.choice import ChoiceScreen
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.escalate import EscalateScreen
from deskterm.screens.macro_picker import MacroPicker
from deskterm.screens.prompt import PromptScreen
from deskterm.screens.reply_composer import DRAFT_DELAY, ReplyComposer, ReplyEditor
from deskterm.screens.ticket import TicketScreen
from deskterm.settings import parse_settings
from deskterm.store import Store
from tests.servers import free_port, unavailable
from tests.tui.conftest import AGENT, NOW, console, help_keys_text, screen_text, settle
from tests.tui.test_ticket import first_ticket_with, open_ticket

AGENT_EMAIL = "support@example.com"


def desk(store: Store, smtp_port: int | None = None) -> DesktermApp:
    """The console with an agent address and, given a port, plaintext SMTP on loopback."""
    raw: dict[str, Any] = {
        "agent": {"name": AGENT, "email": AGENT_EMAIL},
        "heard": {"solve_policy": "warn"},
    }
    if smtp_port is not None:
        raw["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "timeout": 5,
                       "security": "none", "allow_plaintext": True}  # fmt: skip
    return make_app(store, parse_settings(raw), clock=lambda: NOW)


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    try:
        from tests.servers.smtp import running
    except ImportError as exc:
        unavailable(f"aiosmtpd: {exc}")
    with running() as server:
        yield server


def notes(app: DesktermApp) -> list[str]:
    return [n.message for n in app._notifications]


def composer(app: DesktermApp) -> ReplyComposer:
    return app.screen.query_one(ReplyComposer)


async def write_reply(pilot: Pilot[Any], text: str) -> None:
    await pilot.press("r")
    await settle(pilot)
    assert isinstance(pilot.app.focused, ReplyEditor)
    await pilot.press(*text)


async def wait_for_draft(pilot: Pilot[Any]) -> None:
    await pilot.pause(DRAFT_DELAY + 0.2)
    await settle(pilot)


def chat_ticket(store: Store) -> int:
    return next(
        r.number
        for r in store.queue.list_tickets(None, None, 200).rows
        if r.channel in ("whatsapp", "telegram") and r.status in ("new", "open")
    )


@pytest.mark.smtp
async def test_email_reply_is_sent_by_smtp_threaded_and_stored(
    demo_store: Store, smtp_server: Any
) -> None:
    number = first_ticket_with(demo_store, channel="email")
    detail = demo_store.tickets.get_ticket(number)
    parent = [m for m in detail.messages if m.message_id][-1]
    app = desk(demo_store, smtp_server.port)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await write_reply(pilot, "Thanks, we are on it.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [raw] = smtp_server.received()
        sent = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(sent, EmailMessage)
        assert sent["In-Reply-To"] == parent.message_id
        assert parent.message_id in sent["References"]
        assert format_token(number) in sent["Subject"]
        assert sent["From"].addresses[0].addr_spec == AGENT_EMAIL
        last = demo_store.tickets.get_ticket(number).messages[-1]
        assert (last.direction, last.delivered) == ("outbound", True)
        assert last.body.strip() == "Thanks, we are on it."
        assert last.message_id == sent["Message-ID"]
        assert demo_store.replies.get_draft(number, AGENT) is None
        to = str(sent["To"].addresses[0].addr_spec)
        assert any(f"sent to {to}" in n for n in notes(app))
        assert not composer(app).is_open and app.clipboard == ""
        assert any("Thanks, we are on it." in m.body for m in app.screen.data.detail.messages)  # type: ignore[attr-defined]


async def test_chat_reply_is_recorded_and_copied(demo_store: Store) -> None:
    number = chat_ticket(demo_store)
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await write_reply(pilot, "Your refund is on its way.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.clipboard == "Your refund is on its way."
        last = demo_store.tickets.get_ticket(number).messages[-1]
        assert (last.direction, last.delivered) == ("outbound", False)
        assert any("recorded, not delivered" in n and "clipboard" in n for n in notes(app))


async def test_failed_send_keeps_the_text_and_the_draft(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, channel="email")
    before = len(demo_store.tickets.get_ticket(number).messages)
    app = desk(demo_store, free_port())  # nothing listens there
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await write_reply(pilot, "Please try again")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("was not sent" in n and "draft is kept" in n for n in notes(app))
        editor = app.screen.query_one(ReplyEditor)
        assert composer(app).is_open and editor.text == "Please try again"
        assert not editor.read_only
        draft = demo_store.replies.get_draft(number, AGENT)
        assert draft is not None and draft.body == "Please try again" and draft.error
        assert len(demo_store.tickets.get_ticket(number).messages) == before
        await pilot.press(*" now")  # still editable; the draft follows
        await wait_for_draft(pilot)
        draft = demo_store.replies.get_draft(number, AGENT)
        assert draft is not None and draft.body == "Please try again now"


async def test_draft_survives_closing_the_app_mid_typing(demo_store: Store) -> None:
    number = chat_ticket(demo_store)
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await write_reply(pilot, "Half a sent")
        await pilot.press("ctrl+q")  # before the debounced write would run
    draft = demo_store.replies.get_draft(number, AGENT)
    assert draft is not None and draft.body == "Half a sent"

    again = desk(demo_store)
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        assert not composer(again).is_open
        await pilot.press("r")
        await settle(pilot)
        assert again.screen.query_one(ReplyEditor).text == "Half a sent"
        assert any("Restored your unsent reply" in n for n in notes(again))
        await pilot.press(*"ence.", "escape")
        await settle(pilot)
        assert composer(again).is_open  # text left in it: it stays in view
        assert not isinstance(again.focused, ReplyEditor)
        await wait_for_draft(pilot)
    draft = demo_store.replies.get_draft(number, AGENT)
    assert draft is not None and draft.body == "Half a sentence."


async def test_discarding_the_draft(demo_store: Store) -> None:
    number = chat_ticket(demo_store)
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await write_reply(pilot, "Not this")
        await wait_for_draft(pilot)
        assert demo_store.replies.get_draft(number, AGENT) is not None
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert demo_store.replies.get_draft(number, AGENT) is None
        assert not composer(app).is_open
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one(ReplyEditor).text == ""


def write_macro(name: str, text: str) -> Path:
    directory = paths.config_dir() / "macros"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


REFUND = """+++
title = "Refund issued"
status = "pending"
tags = ["refund"]
+++
Hi {customer.first_name},

the refund for ticket {ticket.number} is on its way.

{agent.name}
"""


async def test_macro_picker_fills_the_composer_and_applies_on_send(demo_store: Store) -> None:
    write_macro("refund-issued", REFUND)
    write_macro("password-reset", '+++\ntitle = "Password reset"\n+++\nUse the link.\n')
    write_macro("email-only", '+++\nchannels = ["email"]\n+++\nEmail only.\n')
    number = chat_ticket(demo_store)
    detail = demo_store.tickets.get_ticket(number)
    assert detail.ticket.status != "pending" and "refund" not in detail.tags
    first_name = detail.customer.name.split()[0]  # type: ignore[union-attr]
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("x")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, MacroPicker)
        assert [m.name for m in picker.shown] == ["password-reset", "refund-issued"]  # chat
        await pilot.press(*"rfnd")  # fuzzy
        await settle(pilot)
        assert [m.name for m in picker.shown] == ["refund-issued"]
        await pilot.press("enter")
        await settle(pilot)
        editor = app.screen.query_one(ReplyEditor)
        assert app.focused is editor
        assert editor.text.startswith(f"Hi {first_name},")
        assert f"ticket {number} is on its way" in editor.text and AGENT in editor.text
        assert "Refund issued" in str(app.screen.query_one("#reply-head").render())
        await wait_for_draft(pilot)
        draft = demo_store.replies.get_draft(number, AGENT)
        assert draft is not None and draft.macro == "refund-issued"
        await pilot.press("ctrl+s")
        await settle(pilot)
    after = demo_store.tickets.get_ticket(number)
    assert after.ticket.status == "pending" and "refund" in after.tags
    assert after.messages[-1].direction == "outbound"
    assert f"ticket {number} is on its way" in after.messages[-1].body


async def test_a_broken_macro_file_is_reported_not_fatal(demo_store: Store) -> None:
    write_macro("broken", '+++\ntitle = "Oops"\nstatus = "eaten"\n+++\nHi\n')
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, chat_ticket(demo_store))
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert any("broken.md" in n and "status must be one of" in n for n in notes(app))


async def test_solving_by_reply_with_heard_open_asks_first(demo_store: Store) -> None:
    number = next(
        r.number
        for r in demo_store.queue.list_tickets(None, None, 200).rows
        if r.channel in ("whatsapp", "telegram", "slack", "discord")
        and r.status in ("new", "open", "pending")
        and sum(h.done for h in demo_store.tickets.get_ticket(r.number).heard.values()) < 5
    )
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await write_reply(pilot, "All fixed.")
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press(*"jjjjj")  # unchanged, new, open, pending, on-hold, solved
        await pilot.press("enter")
        await settle(pilot)
        assert "then solved" in str(app.screen.query_one("#reply-head").render()).lower()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert demo_store.tickets.get_ticket(number).messages[-1].body.strip() != "All fixed."
        await pilot.press("y")
        await settle(pilot)
    after = demo_store.tickets.get_ticket(number)
    assert after.ticket.status == "solved"
    assert after.messages[-1].body.strip() == "All fixed."


def script_editor(tmp_path: Path) -> Path:
    """An "editor" that rewrites the file it is given, as a person would."""
    script = tmp_path / "fake-editor"
    script.write_text('#!/bin/sh\n{ cat "$1"; printf "Written in my editor.\\n"; } > "$1.new"\n'
                      'mv "$1.new" "$1"\n')  # fmt: skip
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


async def test_reply_in_editor(
    demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script_editor(tmp_path)))
    number = chat_ticket(demo_store)
    app = desk(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("e")  # the headless test terminal cannot hand over
        await settle(pilot)
        assert any("not supported" in n for n in notes(app))
        assert isinstance(app.focused, ReplyEditor)  # write it here instead, or leave
        await pilot.press("escape")
        # A real terminal suspends the console around the editor; the test one cannot.
        monkeypatch.setattr(app, "suspend", nullcontext)
        await pilot.press("e")
        await settle(pilot)
        editor = app.screen.query_one(ReplyEditor)
        assert editor.text == "Written in my editor.\n"
        await pilot.press(*"Thanks!", "enter", "ctrl+o")  # again, from inside the composer
        await settle(pilot)
        assert editor.text == "Written in my editor.\nThanks!\nWritten in my editor.\n"
        await wait_for_draft(pilot)
        draft = demo_store.replies.get_draft(number, AGENT)
        assert draft is not None and draft.body == editor.text


async def test_merge_by_key(demo_store: Store) -> None:
    rows = demo_store.queue.list_tickets(None, None, 200).rows
    source, target = rows[3].number, rows[4].number
    moved = len(demo_store.tickets.get_ticket(source).messages)
    before = len(demo_store.tickets.get_ticket(target).messages)
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, source)
        await pilot.press("M")
        assert isinstance(app.screen, PromptScreen)
        typed = app.screen.query_one(Input)
        assert typed.value == "" and typed.placeholder == "ticket number, e.g. 1234"
        await pilot.press(*"99999", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)  # unknown: said, nothing asked
        assert any("99999" in n for n in notes(app))
        await pilot.press("M", *f"#{target}", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Merge #{source} into #{target}" in app.screen.problem
        await pilot.press("y")
        await settle(pilot)
        merged = demo_store.tickets.get_ticket(source).ticket
        assert (merged.merged_into_id, merged.status) == (target, "closed")
        assert len(demo_store.tickets.get_ticket(target).messages) == before + moved
        assert any(f"Merged #{source} into #{target}" in n for n in notes(app))
        # The console lands on the ticket that kept everything, and says where it came from.
        assert isinstance(app.screen, TicketScreen) and app.screen.number == target
        assert f"merged from #{source}" in screen_text(app)
        app.screen.show_ticket(source, None)
        await settle(pilot)
        assert f"merged into #{target}" in screen_text(app)


async def test_link_dialog_opens_empty_with_a_placeholder(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, first_ticket_with(demo_store, status="open"))
        await pilot.press("L")
        assert isinstance(app.screen, PromptScreen)
        typed = app.screen.query_one(Input)
        assert typed.value == "" and typed.placeholder == "ticket number, e.g. 1234"


async def test_escalate_by_key_needs_a_note(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, status="open")
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, EscalateScreen)
        await pilot.press("ctrl+u", *"tier2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, EscalateScreen)  # no note yet: refused
        assert app.focused is app.screen.query_one("#escalate-note", Input)
        await pilot.press(*"needs an engineer", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
    detail = demo_store.tickets.get_ticket(number)
    assert detail.ticket.queue == "tier2"
    assert detail.messages[-1].direction == "note"
    assert "needs an engineer" in detail.messages[-1].body
    assert any(e.kind == "escalate" and e.actor == AGENT for e in demo_store.tickets.events(number))


async def test_link_by_key(demo_store: Store) -> None:
    rows = demo_store.queue.list_tickets(None, None, 200).rows
    number, other = rows[0].number, rows[1].number
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("L", *str(other), "enter")
        await settle(pilot)
        await pilot.press("L", *"abc", "enter")
        await settle(pilot)
        assert any("not a ticket number" in n for n in notes(app))
    links = demo_store.tickets.get_ticket(number).links
    assert [(link.other_id, link.kind) for link in links] == [(other, "related")]


async def test_help_and_palette_offer_the_new_actions(demo_store: Store) -> None:
    from deskterm.screens.help import HelpScreen

    app = console(demo_store)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, demo_store.queue.list_tickets(None, None, 5).rows[0].number)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        app.screen.query_one("#help-body").scroll_end(animate=False)
        await pilot.pause()
        text = help_keys_text(app)
        for needed in (
            "Reply", "Macro", "Reply in $EDITOR", "Merge", "Escalate", "Link", "Reload",
            "Reply editor (focused)", "Send reply", "Edit in $EDITOR", "Status after send",
            "Discard draft",
        ):  # fmt: skip
            assert needed in text, needed
        await pilot.press("escape")
        for title, modal in (("Escalate", EscalateScreen), ("Macro", MacroPicker)):
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*title)
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, modal), title
            await pilot.press("escape")
            await settle(pilot)


async def test_macro_picker_shows_whole_names_and_tags_at_80x24(demo_store: Store) -> None:
    long_name = "refund-issued-to-original-payment-method-after-review"
    front = (
        'title = "Refund to the original payment method after review"\n'
        'status = "pending"\ntags = ["refund", "billing-escalation-2026"]\n'
    )
    write_macro(long_name, f"+++\n{front}+++\nHi\n")
    number = chat_ticket(demo_store)
    app = desk(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("x")
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert long_name in text and "+billing-escalation-2026" in text  # wrapped, never cut
