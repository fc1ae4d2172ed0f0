"""N on the queue: a phone call from a new customer becomes a ticket, opened at once."""

from __future__ import annotations

from deskterm.screens.new_ticket import NewTicketScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.store import Store
from tests.tui.conftest import console, screen_text, settle


async def test_new_phone_ticket_for_a_new_customer(demo_store: Store) -> None:
    before = demo_store.tickets.ticket_count()
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, NewTicketScreen)
        typed = {"name": "Rui Alves", "phone": "+351 912 345 678",
                 "subject": "Card declined", "body": "Declined twice today"}  # fmt: skip
        for key, text in typed.items():
            app.screen.query_one(f"#{key}").value = text  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert demo_store.tickets.ticket_count() == before + 1
        detail = demo_store.tickets.get_ticket(app.screen.number)
        assert (detail.ticket.channel, detail.ticket.subject) == ("phone", "Card declined")
        assert detail.customer is not None and detail.customer.name == "Rui Alves"
        assert [(i.kind, i.value) for i in detail.identities] == [("phone", "+351912345678")]

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        await pilot.press("ctrl+s")  # nothing typed: one sentence, the form stays
        await settle(pilot)
        assert isinstance(app.screen, NewTicketScreen)
        assert any("needs a subject" in n.message for n in app._notifications)


async def test_the_form_finds_a_customer_by_name_or_phone_and_uses_them(demo_store: Store) -> None:
    sofia = demo_store.customers.list_customers("Sofia Santos", 1)[0]
    phone = next(i.split(":", 1)[1] for i in sofia["identities"] if i.startswith("phone:"))
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        spaced = f"{phone[:-7]} {phone[-7:-4]} {phone[-4:]}"  # as an agent types it
        await pilot.press(*spaced)
        await settle(pilot)
        text = screen_text(app)
        assert "Sofia Santos" in text and f"phone:{phone}" in text  # the whole label
        await pilot.press("enter")
        await settle(pilot)
        assert "Customer: Sofia Santos" in screen_text(app)
        assert app.focused is app.screen.query_one("#subject")
        await pilot.press(*"Asked about her refund", "tab", *"Wants to know when", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        detail = demo_store.tickets.get_ticket(app.screen.number)
    assert detail.customer is not None and detail.customer.id == sofia["id"]
    assert [m.direction for m in detail.messages] == ["inbound"]
