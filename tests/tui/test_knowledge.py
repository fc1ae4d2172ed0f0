"""The knowledge panel (``K`` on a ticket), driven with Pilot on a demo store that has
the demo's articles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import OptionList

from deskterm.kb.settings import default_folder
from deskterm.screens.knowledge import KnowledgeScreen
from deskterm.screens.reply_composer import ReplyEditor
from deskterm.screens.ticket import TicketScreen
from deskterm.store import Store
from tests.conftest import ANCHOR
from tests.tui.conftest import AGENT, console, settle
from tests.tui.test_ticket import first_ticket_with, open_ticket


@pytest.fixture
def kb_demo(tmp_path: Path) -> Iterator[Store]:
    """The demo store with its articles in the folder the console will look in."""
    from deskterm.demo import DemoBuilder

    store = Store.open(tmp_path / "demo.db")
    folder = default_folder(store.location)
    DemoBuilder(store, tickets=60, seed=7, anchor=ANCHOR, kb_folder=folder).build()
    yield store
    store.close()


async def test_panel_suggests_and_inserts_the_article_into_the_reply(kb_demo: Store) -> None:
    number = first_ticket_with(kb_demo, status="open")
    subject = kb_demo.tickets.get_ticket(number).ticket.subject
    app = console(kb_demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("K")
        await settle(pilot)
        panel = app.screen
        assert isinstance(panel, KnowledgeScreen)
        assert panel.articles and panel.similar
        best = panel.articles[0].article
        preview = str(panel.query_one("#kb-preview").render())
        assert best.title in preview
        assert all(s.summary.status in ("solved", "closed") for s in panel.similar)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        editor = app.screen.query_one(ReplyEditor)
        assert app.focused is editor
        assert best.body.splitlines()[0] in editor.text
    assert kb_demo.kb.used_articles(number) == [best.path]
    event = [e for e in kb_demo.tickets.events(number) if e.kind == "kb_article"][-1]
    assert event.actor == AGENT and '"how": "body"' in (event.detail or "")
    assert subject  # the ticket the article was suggested for


async def test_typing_searches_and_a_link_needs_a_base_url(kb_demo: Store) -> None:
    number = first_ticket_with(kb_demo, status="open")
    app = console(kb_demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("K")
        await settle(pilot)
        await pilot.press(*"customs duties")
        await settle(pilot)
        panel = app.screen
        assert isinstance(panel, KnowledgeScreen)
        assert panel.articles[0].article.title == "Customs fees and international delivery"
        await pilot.press("ctrl+l")  # no [kb] base_url configured: said, nothing inserted
        await settle(pilot)
        assert app.screen is panel
        assert kb_demo.kb.used_articles(number) == []


async def test_enter_on_a_similar_ticket_opens_it(kb_demo: Store) -> None:
    number = first_ticket_with(kb_demo, status="open")
    app = console(kb_demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_ticket(pilot, number)
        await pilot.press("K")
        await settle(pilot)
        panel = app.screen
        assert isinstance(panel, KnowledgeScreen)
        wanted = panel.similar[0].summary.number
        panel.query_one("#kb-similar", OptionList).focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TicketScreen) and screen.number == wanted != number


async def test_console_indexes_new_articles_at_start(kb_demo: Store) -> None:
    folder = default_folder(kb_demo.location)
    (folder / "late.md").write_text("---\ntitle: Written after the demo\n---\nHello.\n")
    (folder / "export-crash.md").unlink()
    app = console(kb_demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
    paths = {a.path for a in kb_demo.kb.list_articles()}
    assert "late.md" in paths and "export-crash.md" not in paths
