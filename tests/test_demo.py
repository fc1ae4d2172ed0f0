"""The demo store: realistic, complete and deterministic."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from deskterm.demo import DemoBuilder
from deskterm.desk import open_store
from deskterm.query import TicketFilter
from deskterm.store import Store
from deskterm.vocab import PRIORITIES, STATUSES
from tests.conftest import ANCHOR


def build(path: Path, tickets: int = 120, seed: int = 7) -> Store:
    store = open_store(path)
    DemoBuilder(store, tickets=tickets, seed=seed, anchor=ANCHOR).build()
    return store


def test_every_status_priority_and_channel_is_present(tmp_path: Path) -> None:
    store = build(tmp_path / "d.db")
    rows = store.queue.list_tickets(TicketFilter(), limit=500).rows
    assert len(rows) == 120
    assert {r.status for r in rows} == set(STATUSES)
    assert {r.priority for r in rows} == set(PRIORITIES)
    assert {"email", "whatsapp", "slack", "telegram"} <= {r.channel for r in rows}
    assert all(r.updated_at <= ANCHOR for r in rows)
    span = max(r.updated_at for r in rows) - min(r.created_at for r in rows)
    assert span.days >= 21  # weeks of history for reports


def test_customers_have_identities_on_several_channels(tmp_path: Path) -> None:
    store = build(tmp_path / "d.db")
    customers = store.customers.list_customers(limit=500)
    kinds = {ident.split(":")[0] for c in customers for ident in c["identities"]}
    assert {"email", "phone", "slack"} <= kinds
    assert {c["tier"] for c in customers} >= {"free", "standard", "premium", "enterprise"}


def test_conversations_heard_notes_and_events(tmp_path: Path) -> None:
    store = build(tmp_path / "d.db")
    # Agents differ in how they follow HEARD (demo_history.STYLES); Ana does every step.
    ana = TicketFilter(status=("solved",), assignee=("Ana Souza",))
    solved = store.queue.list_tickets(ana).rows[0]
    detail = store.tickets.get_ticket(solved.number)
    assert len(detail.messages) >= 2
    assert {m.direction for m in detail.messages} == {"inbound", "outbound"}
    assert all(step.done for step in detail.heard.values()) and len(detail.heard) == 5
    assert detail.note is not None and "Root cause" in detail.note.body
    assert store.tickets.events(solved.number)[0].kind == "created"


def test_same_seed_same_store(tmp_path: Path) -> None:
    a = build(tmp_path / "a.db", 40)
    b = build(tmp_path / "b.db", 40)
    c = build(tmp_path / "c.db", 40, seed=8)

    def digest(store: Store) -> list[tuple[object, ...]]:
        return [
            (r.number, r.subject, r.status, r.priority, r.customer, r.updated_at)
            for r in store.queue.list_tickets(limit=100).rows
        ]

    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_demo_store_is_searchable(tmp_path: Path) -> None:
    store = build(tmp_path / "d.db")
    assert store.queue.search_messages("account")
    assert store.queue.list_tickets(TicketFilter(text="refund")).rows


def test_open_tickets_have_sla_clocks(tmp_path: Path) -> None:
    store = build(tmp_path / "d.db")
    rows = store.queue.list_tickets(TicketFilter(status=("open",)), limit=200).rows
    assert rows and all(r.sla_resolution_due is not None for r in rows)
    # Solved tickets carry their due times too, so the report can tell met from missed.
    solved = store.queue.list_tickets(TicketFilter(status=("solved",)), limit=200).rows
    assert all(r.sla_resolution_due is not None for r in solved)
    met = store.metrics.report(ANCHOR - timedelta(days=90), ANCHOR)["sla"]["resolution_met_rate"]
    assert 0 < met < 1
