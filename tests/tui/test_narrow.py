"""At 80x24: the ticket header keeps its SLA clock and the footer shows whole hints."""

from __future__ import annotations

from textual.binding import Binding

from deskterm import sla
from deskterm.store import Store
from tests.tui.conftest import AGENT, NOW, console, screen_text, settle
from tests.tui.test_ticket import open_ticket

TAGS = [f"long-tag-number-{i}" for i in range(12)]


def footer_is_whole(text: str, descriptions: set[str]) -> None:
    footer = text.rstrip("\n").splitlines()[-1].rstrip()
    assert footer, "the footer shows hints"
    assert any(footer.endswith(d) for d in descriptions), footer


async def test_ticket_header_keeps_the_sla_clock_and_cuts_tags(demo_store: Store) -> None:
    row = next(
        r
        for r in demo_store.queue.list_tickets(None, None, 200).rows
        if sla.status(r, NOW).state in ("ok", "at-risk")
    )
    demo_store.tickets.set_tags(row.number, TAGS, AGENT)
    app = console(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_ticket(pilot, row.number)
        text = screen_text(app)
        assert " due in " in text  # the clock, e.g. "resolution due in 3h 20m"
        assert "long-tag-number-0" in text and "long-tag-number-11" not in text
        descriptions = {
            b.description.split(":")[0]
            for b in screen.BINDINGS
            if isinstance(b, Binding) and b.show
        }
        footer_is_whole(text, descriptions)
