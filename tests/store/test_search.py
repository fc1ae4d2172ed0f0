"""Full-text search: safe query translation and newest-first hits."""

from __future__ import annotations

import pytest

from deskterm.query import parse_text
from deskterm.store import Store
from deskterm.store.dialect.search import fts5_query, tsquery
from tests.store.helpers import ingest, mail


@pytest.mark.parametrize(
    ("typed", "fts5", "pg"),
    [
        ("refund", '(("refund"))', "('refund')"),
        ("Refund NOW", '(("Refund") AND ("NOW"))', "('refund') & ('now')"),
        (
            '"exact phrase" w*',
            '(("exact phrase") AND ("w"*))',
            "(('exact' <-> 'phrase')) & ('w':*)",
        ),
        ("AND OR NOT", '(("AND" OR "NOT"))', "('and' | 'not')"),
        ("a -b", '(("a")) NOT "b"', "('a') & !'b'"),
        ("don't", """(("don't"))""", "(('don' <-> 't'))"),
        (r"C:\U", r'(("C:\U"))', "(('c' <-> 'u'))"),
        ('x:"y z"', '(("x:y z"))', "(('x' <-> 'y' <-> 'z'))"),
        ("Ærø café", '(("Ærø") AND ("café"))', "('ærø') & ('cafe')"),
        ("&& -", None, None),
        ("   ", None, None),
    ],
)
def test_user_words_never_become_query_syntax(typed: str, fts5: str, pg: str) -> None:
    assert fts5_query(parse_text(typed)) == fts5
    assert tsquery(parse_text(typed)) == pg


def test_search_finds_bodies_and_subjects_newest_first(store: Store) -> None:
    ingest(
        store,
        mail("a@x.org", "Invoice wrong", "the VAT number is old", minutes=1),
        mail("b@x.org", "Parcel", "my invoice never arrived", minutes=2),
        mail("c@x.org", "Café", "naïve résumé", minutes=3),
    )
    hits = store.queue.search_messages("invoice")
    assert [h["ticket_subject"] for h in hits] == ["Parcel", "Invoice wrong"]
    assert store.queue.search_messages("cafe")[0]["ticket_subject"] == "Café"  # diacritics folded
    assert store.queue.search_messages("inv*")[0]["ticket_subject"] == "Parcel"
    assert store.queue.search_messages("AND OR") == []
    assert store.queue.count_search("invoice") == 2
    assert store.queue.search_messages("invoice", before=hits[0]["id"])[0]["ticket_subject"] == (
        "Invoice wrong"
    )


def test_search_index_follows_updates_and_deletes(store: Store) -> None:
    from sqlalchemy import text

    ingest(store, mail("a@x.org", "Hello", "banana"))
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE message SET body = 'cherry'"))
    assert store.queue.search_messages("banana") == []
    assert len(store.queue.search_messages("cherry")) == 1
    with store.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM message"))
    assert store.queue.search_messages("cherry") == []
