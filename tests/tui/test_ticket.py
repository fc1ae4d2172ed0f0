"""The ticket screen: conversation, panels, HEARD, notes, actions, navigation."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from deskterm.app import DesktermApp
from deskterm.screens.choice import ChoiceScreen
from deskterm.screens.confirm import ConfirmScreen
from deskterm.screens.conversation import Conversation
from deskterm.screens.customer import CustomerScreen
from deskterm.screens.diagnose import DiagnoseScreen
from deskterm.screens.heard_panel import HeardPanel
from deskterm.screens.notes_panel import SAVE_DELAY, NotesEditor
from deskterm.screens.prompt import PromptScreen
from deskterm.screens.queue import QueueScreen
from deskterm.screens.ticket import TicketScreen
from deskterm.screens.ticket_table import TicketTable
from deskterm.store import Store
from deskterm.vocab import HEARD_STEPS
from tests.tui.conftest import AGENT, console, screen_text, settle


def first_ticket_with(store: Store, **wanted: Any) -> int:
    for row in store.queue.list_tickets(None, None, 200).rows:
        if all(getattr(row, k) == v for k, v in wanted.items()):
            return row.number
    raise AssertionError(f"no ticket with {wanted}")


async def open_ticket(pilot: Pilot[Any], number: int) -> TicketScreen:
    app = pilot.app
    app.open_ticket(number, app.screen.query_one(TicketTable))  # type: ignore[attr-defined]
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, TicketScreen) and screen.data is not None
    return screen


def showing(app: DesktermApp, screen: Screen[Any]) -> bool:
    """Whether ``screen`` is the one on top (a function, so the type checker does not
    narrow ``screen`` to whatever ``app.screen`` is typed as)."""
    return app.screen is screen


def conversation_text(screen: TicketScreen) -> str:
    view = screen.query_one(Conversation)
    return "\n".join(strip.text for strip in view._strips)


async def test_conversation_oldest_first_with_direction_and_folding(demo_store: Store) -> None:
    number = next(
        r.number
        for r in demo_store.queue.list_tickets(None, None, 200).rows
        if r.message_count >= 3
        and any("\n> " in m.body for m in demo_store.tickets.get_ticket(r.number).messages)
    )
    detail = demo_store.tickets.get_ticket(number)
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        text = conversation_text(screen)
        heads = [line for line in text.splitlines() if "▶ IN" in line or "◀ OUT" in line]
        assert len(heads) == len(detail.messages)
        for head, message in zip(heads, detail.messages, strict=True):
            assert ("▶ IN" in head) == (message.direction == "inbound")
            assert message.author_name in head
        positions = [text.index(m.body.split("\n")[0][:30]) for m in detail.messages]
        assert positions == sorted(positions)  # oldest first
        quoted = [m for m in detail.messages if "\n> " in m.body]
        assert quoted and "quoted lines folded" in text
        assert "> " not in text.replace("│ ", "").replace("▌ ", "")
        await pilot.press("z")  # unfold
        assert "> " in conversation_text(screen)


async def test_heard_toggles_are_stored_with_actor(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, status="new")
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        before = {s: h.done for s, h in demo_store.tickets.get_ticket(number).heard.items()}
        await pilot.press("2")
        await settle(pilot)
        heard = demo_store.tickets.get_ticket(number).heard
        assert heard["E"].done is not before.get("E", False)
        assert heard["E"].actor == AGENT
        events = [e for e in demo_store.tickets.events(number) if e.kind == "heard"]
        assert events[-1].actor == AGENT and events[-1].old == "E"
        assert screen.query_one(HeardPanel).is_done("E") is heard["E"].done

        # Toggling from the panel itself (Tab to it, Enter on the highlighted step).
        await pilot.press("tab", "tab")
        assert screen.focused is not None and screen.focused.id == "heard-steps"
        await pilot.press("enter")  # the first step, H
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).heard["H"].done is not before.get("H", False)


async def test_diagnose_asks_for_the_root_cause(demo_store: Store) -> None:
    number = next(
        r.number
        for r in demo_store.queue.list_tickets(None, None, 200).rows
        if not (h := demo_store.tickets.get_ticket(r.number).heard.get("D")) or not h.done
    )
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, DiagnoseScreen)
        await pilot.press("j", "j", "enter")  # third category
        await pilot.press(*"sync token expired", "enter")
        await settle(pilot)
        detail = demo_store.tickets.get_ticket(number)
        cause = app.config.heard.root_causes[2]
        assert detail.heard["D"].done and detail.heard["D"].category == cause
        assert detail.heard["D"].note == "sync token expired"
        assert detail.ticket.root_cause == cause
        assert f"root cause: {cause}" in screen_text(app) or cause in screen_text(app)

        await pilot.press("5")  # un-marking needs no form
        await settle(pilot)
        assert not demo_store.tickets.get_ticket(number).heard["D"].done


async def solve(pilot: Pilot[Any]) -> None:
    await pilot.press("s")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ChoiceScreen)
    choice = pilot.app.screen
    while choice.query_one("#choices").highlighted_option.id != "solved":  # type: ignore[attr-defined]
        await pilot.press("j")
    await pilot.press("enter")
    await settle(pilot)


async def test_solving_with_open_steps_asks_first(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, status="new")
    assert not all(h.done for h in demo_store.tickets.get_ticket(number).heard.values()) or len(
        demo_store.tickets.get_ticket(number).heard
    ) < len(HEARD_STEPS)
    app = console(demo_store, policy="warn")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await solve(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.status == "new"
        await solve(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.status == "solved"
        status_events = [e for e in demo_store.tickets.events(number) if e.kind == "status"]
        assert status_events[-1].new == "solved" and status_events[-1].actor == AGENT
        assert "solved" in screen_text(app)


async def test_solve_policy_require_refuses_and_off_does_not_ask(demo_store: Store) -> None:
    first = first_ticket_with(demo_store, status="new")
    app = console(demo_store, policy="require")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, first)
        await solve(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert demo_store.tickets.get_ticket(first).ticket.status == "new"
        assert any("Complete the HEARD checklist" in n.message for n in app._notifications)
    app = console(demo_store, policy="off")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, first)
        await solve(pilot)
        assert demo_store.tickets.get_ticket(first).ticket.status == "solved"


async def test_notes_autosave_keeps_every_version(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, status="open")
    versions_before = len(demo_store.tickets.note_versions(number))
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        await pilot.press("1")  # a digit outside the editor toggles HEARD...
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.focused, NotesEditor)
        await pilot.press(*"\nRefund sent 1-2-3")  # ...inside it, digits are text
        await pilot.pause(SAVE_DELAY + 0.5)
        await settle(pilot)
        versions = demo_store.tickets.note_versions(number)
        assert len(versions) == versions_before + 1
        assert versions[-1].body.endswith("Refund sent 1-2-3")
        assert versions[-1].author == AGENT
        assert app.drafts.read(number) is None  # saved: no draft left behind
        await pilot.press(*" and confirmed")
        await pilot.pause(SAVE_DELAY + 0.5)
        await settle(pilot)
        versions = demo_store.tickets.note_versions(number)
        assert len(versions) == versions_before + 2
        assert versions[-1].body.endswith("1-2-3 and confirmed")
        assert versions[-2].body.endswith("1-2-3")  # the earlier version is kept
        await pilot.press("escape")  # leaves the editor, stays on the ticket
        assert isinstance(app.screen, TicketScreen)
        assert screen.focused is screen.query_one(Conversation)


async def test_actions_change_the_ticket_through_the_store(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, status="open")
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")  # cancel: nothing changes
        await settle(pilot)
        current = demo_store.tickets.get_ticket(number).ticket.priority
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("g" if current != "low" else "G", "enter")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.priority != current

        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        prompt = app.screen.query_one("Input")
        prompt.value = ""  # type: ignore[attr-defined]
        await pilot.press(*"Dana Levi", "enter")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.assignee == "Dana Levi"

        await pilot.press("t")
        await settle(pilot)
        app.screen.query_one("Input").value = "VIP, urgent-fix"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).tags == ["urgent-fix", "vip"]

        await pilot.press("m")
        await settle(pilot)
        app.screen.query_one("Input").value = "escalations"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.queue == "escalations"

        await pilot.press("i")
        await settle(pilot)
        await pilot.press(*"Called the customer", "ctrl+s")
        await settle(pilot)
        last = demo_store.tickets.get_ticket(number).messages[-1]
        assert last.direction == "note" and last.body == "Called the customer"
        assert "NOTE" in conversation_text(app.screen)  # type: ignore[arg-type]

        await pilot.press("A")  # assign to me
        await settle(pilot)
        assert demo_store.tickets.get_ticket(number).ticket.assignee == AGENT
        kinds = [e.kind for e in demo_store.tickets.events(number)]
        for kind in ("priority", "assignee", "tags", "queue", "internal_note"):
            assert kind in kinds


async def test_next_and_previous_follow_the_queue(demo_store: Store) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        order = [r.number for r in table.rows]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.number == order[0]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert showing(app, screen) and screen.number == order[1]
        assert screen.data is not None and screen.data.detail.ticket.id == order[1]
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert screen.number == order[3]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.number == order[2]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert table.current is not None and table.current.number == order[2]


async def test_next_and_previous_keep_stepping_after_the_ticket_left_the_view(
    demo_store: Store,
) -> None:
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TicketTable)
        order = [r.number for r in table.rows]
        await pilot.press("enter", "right_square_bracket", "right_square_bracket")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.number == order[2]
        demo_store.tickets.update(order[2], AGENT, status="closed", queue="elsewhere")
        table.reload()  # the view is re-read: the open ticket is no longer in it
        await settle(pilot)
        assert order[2] not in [r.number for r in table.rows]
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.number == order[1]
        demo_store.tickets.update(order[1], AGENT, status="closed", queue="elsewhere")
        table.reload()
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.number == order[3]  # after the two that left, the next still listed
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.number == order[4]


async def test_tab_cycles_panels_and_keys_reach_them(demo_store: Store) -> None:
    number = first_ticket_with(demo_store, status="open")
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        visits = []
        for _ in range(4):
            await pilot.press("tab")
            visits.append(screen._region())
        assert visits == ["customer", "heard", "notes", "conversation"]
        await pilot.press("shift+tab")
        assert screen._region() == "notes"
        await pilot.press("escape")
        assert screen._region() == "conversation"


async def test_customer_history_and_customer_screen(demo_store: Store) -> None:
    number = next(
        r.number
        for r in demo_store.queue.list_tickets(None, None, 200).rows
        if r.customer_id and len(demo_store.customers.get_customer(r.customer_id).tickets) >= 2
    )
    customer_id = demo_store.tickets.get_ticket(number).ticket.customer_id
    assert customer_id is not None
    profile = demo_store.customers.get_customer(customer_id)
    other = next(t.id for t in profile.tickets if t.id != number)
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        text = screen_text(app)
        assert profile.customer.name in text
        for ident in profile.identities:
            assert ident.value in text
        await pilot.press("tab")  # the customer panel's history
        history = screen.query_one("#history")
        while history.highlighted_option.id != str(other):  # type: ignore[attr-defined]
            await pilot.press("j")
        await pilot.press("enter")
        await settle(pilot)
        nested = app.screen
        assert isinstance(nested, TicketScreen) and nested.number == other
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen

        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        table = app.screen.query_one(TicketTable)
        assert sorted(r.number for r in table.rows) == sorted(t.id for t in profile.tickets)
        assert {r.channel for r in table.rows} == {t.channel for t in profile.tickets}
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.number == table.rows[0].number
        await pilot.press("escape", "escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_reread_shows_a_new_customer_message(demo_store: Store) -> None:
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.settings import parse_settings
    from tests.store.helpers import mail
    from tests.tui.conftest import NOW

    number = first_ticket_with(demo_store, channel="email", status="open")
    last = demo_store.tickets.get_ticket(number).messages[-1]
    assert last.message_id
    app = console(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, number)
        messages = demo_store.tickets.get_ticket(number).messages
        sender = next(m.author_address for m in messages if m.direction == "inbound")
        Ingestor(demo_store, parse_settings({})).run(
            [mail(sender, "Re: it", "Any news on this one?", at=NOW, in_reply_to=last.message_id)],
            connector="test",
        )
        assert "Any news on this one?" not in conversation_text(screen)
        screen.reread()
        await settle(pilot)
        assert "Any news on this one?" in conversation_text(screen)


async def test_quick_changes_in_a_row_never_conflict_with_ourselves(demo_store: Store) -> None:
    """Each change is made on the version the previous one left, even before the
    ticket was re-read: an agent's own second change is never refused as stale."""
    number = first_ticket_with(demo_store, status="open")
    app = console(demo_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        screen._change("queue", "escalations")  # three at once, no re-read between
        screen._change("priority", "urgent")
        screen._change("tags", ["vip"])
        await settle(pilot)
        ticket = demo_store.tickets.get_ticket(number)
        assert (ticket.ticket.queue, ticket.ticket.priority) == ("escalations", "urgent")
        assert ticket.tags == ["vip"]
        assert not [n for n in app._notifications if "Changed by someone" in (n.title or "")]


async def test_an_internal_note_shows_at_once_even_below_a_long_thread(
    demo_store: Store,
) -> None:
    rows = demo_store.queue.list_tickets(None, None, 200).rows
    number = max(rows, key=lambda r: r.message_count).number
    app = console(demo_store)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        assert "Called the customer back" not in screen_text(app)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press(*"Called the customer back", "ctrl+s")
        await settle(pilot)
        assert "Called the customer back" in screen_text(app)  # on screen, no ctrl+r
