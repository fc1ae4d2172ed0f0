"""Suggestions, similar solved tickets, drafts from notes and usage numbers, through
the real ingest pipeline on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskterm.kb.articles import KbError
from deskterm.kb.folder import sync_folder
from deskterm.kb.suggest import (
    draft_from_ticket,
    similar_tickets,
    suggest_articles,
    use_article,
)
from deskterm.settings import AgentSettings, Settings
from deskterm.store import Store
from tests.store.helpers import ingest, mail

ARTICLES = {
    "duplicate-charge.md": (
        "---\ntitle: Refunding a duplicate charge\ntags: [billing, refund]\naudience: public\n"
        "---\nWhen a card was charged twice for one order, refund the second payment.\n"
    ),
    "password-reset.md": (
        '+++\ntitle = "Password reset email does not arrive"\ntags = ["login"]\n+++\n'
        "Check the spam folder; resend the reset link from the account page.\n"
    ),
    "export-crash.md": "# App crashes when exporting reports\n\nUpdate to 4.2.2.\n",
    "shipping.md": "---\ntitle: Tracking has not updated\n---\nOpen a trace with the carrier.\n",
}
AGENT = Settings(agent=AgentSettings(name="Ana", email="support@example.com"))


@pytest.fixture(params=["sqlite", "postgresql"])
def kb_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    target = tmp_path / "s.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = Store.open(target)
    folder = tmp_path / "kb"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text)
    report = sync_folder(store, folder)
    assert len(report.added) == 4 and not report.failed
    yield store, folder
    store.close()


def ticket(store: Store, sender: str, subject: str, body: str) -> int:
    ingest(store, mail(sender, subject, body))
    return store.tickets.ticket_count()  # a fresh store: numbers count up from 1


def test_the_matching_article_ranks_first(kb_store: tuple[Store, Path]) -> None:
    store, folder = kb_store
    cases = {
        ("Charged twice!", "My card was charged two times for the same order."): "duplicate-charge",
        ("Can't sign in", "The password reset mail never arrives, not even in spam."):
            "password-reset",
        ("Crash", "The app crashes every time I export a report."): "export-crash",
    }  # fmt: skip
    for n, ((subject, body), expected) in enumerate(cases.items()):
        number = ticket(store, f"c{n}@example.com", subject, body)
        found = suggest_articles(store, folder, number)
        assert found[0].path == folder / f"{expected}.md", [s.article.path for s in found]
        assert found[0].score > 0
        assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_quoted_history_and_signatures_do_not_steer_suggestions(
    kb_store: tuple[Store, Path],
) -> None:
    store, folder = kb_store
    body = (
        "The parcel tracking has not moved in a week.\n\nBest regards,\nPassword Reset Ltd\n\n"
        "On Monday, support wrote:\n> refund duplicate charge refund charged twice"
    )
    number = ticket(store, "d@example.com", "Re: my order", body)
    assert suggest_articles(store, folder, number)[0].article.path == "shipping.md"


def test_similar_solved_tickets_with_notes_and_root_cause(kb_store: tuple[Store, Path]) -> None:
    store, _ = kb_store
    solved = ticket(store, "a@example.com", "Export crashes the app",
                    "Exporting a big report crashes the desktop app.")  # fmt: skip
    store.tickets.save_note(solved, "Updated the customer to 4.2.2.", "Ana")
    store.tickets.set_heard(solved, "D", True, "Ana", note="4.2.1 bug", category="product defect")
    store.tickets.set_status(solved, "solved", "Ana")
    unrelated = ticket(store, "b@example.com", "Password reset", "No reset email arrives.")
    store.tickets.set_status(unrelated, "solved", "Ana")
    still_open = ticket(store, "c@example.com", "Export crashes again", "Crashes on export.")
    current = ticket(store, "e@example.com", "App crashes on export",
                     "Every export of a report crashes the app.")  # fmt: skip
    found = similar_tickets(store, current)
    numbers = [s.summary.number for s in found]
    assert numbers[0] == solved and current not in numbers and still_open not in numbers
    assert unrelated not in numbers  # nothing in common
    top = found[0].summary
    assert top.resolution == "Updated the customer to 4.2.2."
    assert top.root_cause == "product defect" and top.diagnosis == "4.2.1 bug"
    assert found[0].to_dict()["resolution_note"] == top.resolution


def test_draft_from_notes_links_back_and_needs_notes(kb_store: tuple[Store, Path]) -> None:
    store, _ = kb_store
    number = ticket(store, "a@example.com", "Calendar sync stopped", "Meetings are missing.")
    with pytest.raises(KbError, match="no resolution notes"):
        draft_from_ticket(store, number, "2026-12-05")
    store.tickets.save_note(number, "Reconnected the calendar integration.", "Ana")
    store.tickets.set_heard(number, "D", True, "Ana", category="third party")
    draft = draft_from_ticket(store, number, "2026-12-05")
    assert draft.ticket == number and draft.title == "Calendar sync stopped"
    assert "Reconnected the calendar integration." in draft.body
    assert "third party" in draft.body and "third-party" in draft.tags


def test_use_is_logged_and_counted_with_first_contact_resolution(
    kb_store: tuple[Store, Path],
) -> None:
    store, folder = kb_store
    config = AGENT
    helped = ticket(store, "a@example.com", "Charged twice", "Two charges for one order.")
    article = suggest_articles(store, folder, helped)[0].article
    text = use_article(store, helped, article, "body", "Ana", None)
    assert "refund the second payment" in text
    with pytest.raises(KbError, match="base_url"):
        use_article(store, helped, article, "link", "Ana", None)
    link = use_article(store, helped, article, "link", "Ana", "https://help.example.com/kb/")
    assert link == "Refunding a duplicate charge: https://help.example.com/kb/duplicate-charge\n"
    reply = mail("support@example.com", "Re: Charged twice", "Refunded.", to="a@example.com",
                 in_reply_to=None)  # fmt: skip
    ingest(store, reply, config=config)
    store.tickets.set_status(helped, "solved", "Ana")
    other = ticket(store, "b@example.com", "Tracking", "Where is it?")
    store.tickets.set_status(other, "solved", "Ana")  # no reply at all: not first contact
    assert store.kb.used_articles(helped) == ["duplicate-charge.md"]
    events = [e for e in store.tickets.events(helped) if e.kind == "kb_article"]
    assert len(events) == 2 and events[0].actor == "Ana"
    usage = store.kb.usage(None, None)
    assert usage["tickets_with_articles"] == 1
    assert usage["per_ticket"] == [{"number": helped, "articles": ["duplicate-charge.md"]}]
    fcr = usage["first_contact_resolution"]
    assert fcr["without_article"] == {"solved": 1, "first_contact": 0, "rate": 0.0}
    assert fcr["with_article"] == {"solved": 1, "first_contact": 1, "rate": 1.0}
