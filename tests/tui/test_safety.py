"""Outside text is shown as text: markup escaped, escape sequences never reach the terminal.

The hostile rows are written straight into the tables (bypassing the ingest cleaning)
so the console's own display path is what is tested.
"""

from __future__ import annotations

from datetime import timedelta

from deskterm.screens.customer import CustomerScreen
from deskterm.screens.help import HelpScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.ticket_table import TicketTable
from deskterm.store import Store
from deskterm.store.models import (
    Attachment,
    Customer,
    HeardStep,
    Identity,
    Message,
    NoteVersion,
    Ticket,
    TicketTag,
)
from tests.conftest import ANCHOR
from tests.tui.conftest import console, screen_output, screen_text, settle

MARKUP = "[bold red]x[/]"
OSC = "\x1b]0;pwned\x07"
CSI = "\x1b[2J\x1b[31m"


def hostile_ticket(store: Store) -> int:
    at = ANCHOR - timedelta(minutes=5)
    with store.db.write() as session:
        customer = Customer(
            name=f"{MARKUP} Mallory{OSC}",
            organization=f"[link=https://evil.example]Evil[/link]{CSI}",
            tier="[blink]premium[/]",
            notes=f"Notes {MARKUP}\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",
            created_at=at,
            updated_at=at,
        )
        session.add(customer)
        session.flush()
        assert customer.id is not None
        session.add(
            Identity(
                customer_id=customer.id,
                kind="email",
                value=f"mallory+{MARKUP}@evil.example",
                display=f"[i]Mal[/i]{OSC}",
            )
        )
        ticket = Ticket(
            subject=f"{MARKUP} refund{OSC}",
            status="open",
            priority="urgent",
            queue=f"[red]queue[/]{CSI}",
            assignee=f"[b]agent[/b]{OSC}",
            channel="email",
            customer_id=customer.id,
            created_at=at,
            updated_at=ANCHOR,
            message_count=1,
        )
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        session.add(TicketTag(ticket_id=ticket.id, tag=f"[u]tag[/u]{OSC}", updated_at=ANCHOR))
        message = Message(
            ticket_id=ticket.id,
            direction="inbound",
            channel="email",
            author_name=f"{MARKUP}{OSC}",
            author_address="mallory@evil.example",
            sent_at=at,
            subject=f"{MARKUP}",
            body=f"Hello {MARKUP}{OSC}{CSI}\n[link=file:///etc/passwd]click[/link]\n> {MARKUP}",
            source_key="mail:<hostile@test>",
        )
        session.add(message)
        session.flush()
        assert message.id is not None
        session.add(
            Attachment(
                message_id=message.id,
                filename=f"../../{MARKUP}{OSC}.sh",
                content_type=f"text/[b]x[/b]{CSI}",
                size=12,
            )
        )
        session.add(
            HeardStep(
                ticket_id=ticket.id,
                step="D",
                done=True,
                actor=f"{MARKUP}{OSC}",
                done_at=at,
                note=f"{MARKUP}{CSI}",
                category=f"[reverse]cat[/]{OSC}",
            )
        )
        session.add(
            NoteVersion(
                ticket_id=ticket.id,
                version=1,
                body=f"note {MARKUP}",
                author=f"{MARKUP}{OSC}",
                saved_at=at,
            )
        )
        number = ticket.id
    assert number is not None
    return number


def assert_safe(app_output: str, text: str) -> None:
    assert "\x1b]" not in app_output and "\x07" not in app_output  # no OSC reached us
    assert "\x1b[2J" not in app_output  # nor a clear-screen
    assert "pwned" not in text


async def test_hostile_strings_show_literally_everywhere(demo_store: Store) -> None:
    number = hostile_ticket(demo_store)
    app = console(demo_store)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        assert table.rows[0].number == number
        text = screen_text(app)
        assert f"{MARKUP} refund" in text  # subject, literally
        assert "[bold red]x…" in text  # customer name, cut to its column
        assert_safe(screen_output(app), text)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        text = screen_text(app)
        for shown in (
            f"{MARKUP} refund",  # summary
            f"Hello {MARKUP}",  # body
            "[link=file:///etc/passwd]click[/link]",
            f"mallory+{MARKUP}@evil.example",  # identity
            "[link=https://evil.example]Evil[/link]",  # organization
            "[u]tag[/u]",  # tag
            f"../../{MARKUP}.sh",  # attachment name
        ):
            assert shown in text, shown
        assert_safe(screen_output(app), text)

        await pilot.press("z")  # unfolded quotes
        assert f"> {MARKUP}" in screen_text(app)
        await pilot.press("tab", "tab")  # HEARD panel: actor, category, note
        text = screen_text(app)
        assert "[reverse]cat[/]" in text and f"{MARKUP}" in text
        assert_safe(screen_output(app), text)
        await pilot.press("tab")  # notes editor shows the note literally
        assert f"note {MARKUP}" in screen_text(app)

        await pilot.press("escape", "c")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        text = screen_text(app)
        assert f"{MARKUP} Mallory" in text and f"Notes {MARKUP}" in text
        assert "[blink]premium[/]" in text
        assert_safe(screen_output(app), text)

        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_filter_text_with_markup_is_shown_literally(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *'"[bold]x[/bold]"', "enter")
        await settle(pilot)
        assert 'filter: "[bold]x[/bold]"' in screen_text(app)
