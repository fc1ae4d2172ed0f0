"""The same store code on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect

from deskterm.desk import open_store
from deskterm.query import parse_query
from deskterm.store import Conflict, Store, schema
from tests.store.helpers import ingest, mail, tickets_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def test_schema_is_created_by_the_migrations(pg_store: Store) -> None:
    assert pg_store.dialect == "postgresql"
    names = set(inspect(pg_store.db.engine).get_table_names())
    assert {"ticket", "message", "event", "heard_step", "note_version", "sync_state"} <= names
    columns = {c["name"] for c in inspect(pg_store.db.engine).get_columns("message")}
    assert "search" in columns
    with pg_store.db.engine.connect() as conn:
        assert schema.current_revision(conn) == schema.HEAD


def test_service_functions_and_event_log(pg_store: Store) -> None:
    ingest(pg_store, mail())
    number = pg_store.queue.list_tickets().rows[0].number
    version = pg_store.tickets.ticket_version(number)
    pg_store.tickets.set_status(number, "open", "ana", expected_version=version)
    with pytest.raises(Conflict):
        pg_store.tickets.set_priority(number, "high", "ben", expected_version=version)
    pg_store.tickets.set_tags(number, ["vip"], "ana")
    pg_store.tickets.set_heard(number, "D", True, "ana", category="billing")
    pg_store.tickets.save_note(number, "v1", "ana", base_version=0)
    kinds = [e.kind for e in pg_store.tickets.events(number)]
    assert kinds == ["created", "status", "tags", "heard", "note"]
    detail = pg_store.tickets.get_ticket(number)
    assert detail.ticket.root_cause == "billing" and detail.tags == ["vip"]


def test_keyset_paging_and_filters(pg_store: Store) -> None:
    numbers = tickets_for(pg_store, 17)
    for i, n in enumerate(numbers):
        pg_store.tickets.set_status(n, ("new", "open", "solved")[i % 3], "ana")
    f = parse_query("status:new,open")
    seen: list[int] = []
    cursor = None
    while True:
        page = pg_store.queue.list_tickets(f, after=cursor, limit=4)
        seen.extend(r.number for r in page.rows)
        if page.next is None:
            break
        cursor = page.next
    expected = [n for i, n in enumerate(numbers) if i % 3 != 2]
    assert sorted(seen) == expected and len(seen) == len(set(seen))
    assert pg_store.queue.count_tickets(f) == len(expected)


def test_full_text_search(pg_store: Store) -> None:
    ingest(
        pg_store,
        mail("a@x.org", "Invoice wrong", "the VAT number is old", minutes=1),
        mail("b@x.org", "Parcel", "my invoice never arrived", minutes=2),
    )
    hits = pg_store.queue.search_messages("invoice")
    assert [h["ticket_subject"] for h in hits] == ["Parcel", "Invoice wrong"]
    assert [h["ticket_subject"] for h in pg_store.queue.search_messages('"never arrived"')] == [
        "Parcel"
    ]
    assert pg_store.queue.search_messages("AND OR -") == []
    rows = pg_store.queue.list_tickets(parse_query("invoice from:b@x.org")).rows
    assert [r.subject for r in rows] == ["Parcel"]


def test_demo_store_builds_on_postgres(pg_store: Store) -> None:
    from deskterm.demo import DemoBuilder

    report = DemoBuilder(pg_store, tickets=30, seed=3).build()
    assert report.tickets == 30
    assert pg_store.tickets.ticket_count() == 30
    assert pg_store.queue.search_messages("account")


def test_upgrade_reindexes_search_words_and_downgrade_removes_them(pg_url: str) -> None:
    """A 0002 store (``simple`` over raw text) is reindexed on open: ``acme`` finds
    ``ana@acme.com`` and ``cafe`` finds ``Café`` there too, as on SQLite."""
    from alembic import command

    store = Store.open(pg_url)
    ingest(store, mail("a@x.org", "Café", "write to ana@acme.com"))
    with store.db.engine.begin() as conn:  # later migrations first, then 0003 by hand
        command.downgrade(schema._alembic_config(conn), "0003_search_words")
    with store.db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE message DROP COLUMN search")
        conn.exec_driver_sql("DROP FUNCTION deskterm_search_words(text)")
        conn.exec_driver_sql(
            "ALTER TABLE message ADD COLUMN search tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(body, ''))) STORED"
        )
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0002_workflow'")
    assert store.queue.search_messages("acme") == []
    store.close()
    store = Store.open(pg_url)
    assert [h["ticket_subject"] for h in store.queue.search_messages("acme cafe")] == ["Café"]
    with store.db.engine.begin() as conn:
        command.downgrade(schema._alembic_config(conn), "base")
        functions = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_proc WHERE proname = 'deskterm_search_words'"
        ).scalar_one()
    assert functions == 0
    store.close()


def test_search_pages_through_common_and_rare_words_newest_first(pg_store: Store) -> None:
    """Both ways PostgreSQL finds hits (walking the newest messages for a common word,
    the index for a rare one) give every hit once, newest first, page after page."""
    ingest(
        pg_store,
        *(
            mail(f"c{i}@x.org", f"Case {i}", "common" + (" rare" if i % 10 == 0 else ""), minutes=i)
            for i in range(30)
        ),
    )

    def walk(word: str) -> list[str]:
        subjects, before = [], None
        while hits := pg_store.queue.search_messages(word, limit=4, before=before):
            subjects += [h["ticket_subject"] for h in hits]
            before = hits[-1]["id"]
        return subjects

    assert walk("common") == [f"Case {i}" for i in range(29, -1, -1)]
    assert walk("rare") == ["Case 20", "Case 10", "Case 0"]
    assert walk("common -rare") == [f"Case {i}" for i in range(29, -1, -1) if i % 10]
