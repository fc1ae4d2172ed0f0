"""Service functions: every change lands with its event, in one transaction."""

from __future__ import annotations

import json

import pytest

from deskterm.store import Conflict, InvalidValue, NotFound, Store
from tests.store.helpers import ingest, mail


@pytest.fixture
def number(store: Store) -> int:
    ingest(store, mail())
    return store.queue.list_tickets().rows[0].number


def kinds(store: Store, number: int) -> list[tuple[str, str | None, str | None, str]]:
    return [(e.kind, e.old, e.new, e.actor) for e in store.tickets.events(number)]


def test_every_change_writes_one_event(store: Store, number: int) -> None:
    store.tickets.set_status(number, "open", "ana")
    store.tickets.set_priority(number, "urgent", "ana")
    store.tickets.set_queue(number, "billing", "ana")
    store.tickets.assign(number, "Ben", "ana")
    store.tickets.set_tags(number, ["VIP", "refund", "vip"], "ana")
    store.tickets.set_heard(number, "H", True, "ana")
    store.tickets.set_heard(number, "D", True, "ana", category="billing", note="double charge")
    store.tickets.save_note(number, "first draft", "ana", base_version=0)
    store.tickets.add_internal_note(number, "call them back", "ana")
    log = kinds(store, number)
    assert log[0][0] == "created"
    assert log[1:] == [
        ("status", "new", "open", "ana"),
        ("priority", "normal", "urgent", "ana"),
        ("queue", "general", "billing", "ana"),
        ("assignee", None, "Ben", "ana"),
        ("tags", "", "refund,vip", "ana"),
        ("heard", "H", "done", "ana"),
        ("heard", "D", "done", "ana"),
        ("note", "0", "1", "ana"),
        ("internal_note", None, log[-1][2], "ana"),
    ]
    detail = store.tickets.get_ticket(number)
    assert detail.ticket.priority == "urgent"
    assert detail.ticket.root_cause == "billing"
    assert detail.tags == ["refund", "vip"]
    assert detail.heard["D"].category == "billing"
    assert detail.messages[-1].direction == "note"
    heard_event = store.tickets.events(number)[-3]
    assert json.loads(heard_event.detail or "{}") == {
        "category": "billing",
        "note": "double charge",
    }


def test_unchanged_values_log_nothing(store: Store, number: int) -> None:
    before = len(store.tickets.events(number))
    store.tickets.set_priority(number, "normal", "ana")
    store.tickets.set_tags(number, [], "ana")
    assert len(store.tickets.events(number)) == before


def test_solving_and_reopening_track_times_and_count(store: Store, number: int) -> None:
    store.tickets.set_status(number, "solved", "ana")
    assert store.tickets.get_ticket(number).ticket.solved_at is not None
    store.tickets.set_status(number, "open", "ana")
    ticket = store.tickets.get_ticket(number).ticket
    assert ticket.solved_at is None
    assert ticket.reopen_count == 1


def test_unknown_values_are_refused(store: Store, number: int) -> None:
    with pytest.raises(InvalidValue, match="Status must be one of"):
        store.tickets.set_status(number, "done", "ana")
    with pytest.raises(InvalidValue):
        store.tickets.set_priority(number, "blocker", "ana")
    with pytest.raises(InvalidValue):
        store.tickets.set_heard(number, "X", True, "ana")
    with pytest.raises(NotFound, match="no ticket #999"):
        store.tickets.set_status(999, "open", "ana")


def test_stale_version_is_a_conflict_not_an_overwrite(store: Store, number: int) -> None:
    version = store.tickets.ticket_version(number)
    store.tickets.set_priority(number, "high", "ben", expected_version=version)
    with pytest.raises(Conflict, match="changed since you opened it, by ben"):
        store.tickets.set_priority(number, "low", "ana", expected_version=version)
    assert store.tickets.get_ticket(number).ticket.priority == "high"


def test_note_versions_are_all_kept_and_conflicts_refused(store: Store, number: int) -> None:
    v1 = store.tickets.save_note(number, "one", "ana", base_version=0)
    v2 = store.tickets.save_note(number, "two", "ana", base_version=v1.version)
    assert store.tickets.save_note(number, "two", "ana", base_version=v2.version).version == 2
    with pytest.raises(Conflict, match="saved by ana"):
        store.tickets.save_note(number, "mine", "ben", base_version=1)
    assert [v.body for v in store.tickets.note_versions(number)] == ["one", "two"]
    assert store.tickets.get_ticket(number).note.body == "two"  # type: ignore[union-attr]


def test_undoing_diagnose_clears_the_root_cause(store: Store, number: int) -> None:
    store.tickets.set_heard(number, "D", True, "ana", category="billing")
    store.tickets.set_heard(number, "D", False, "ana")
    detail = store.tickets.get_ticket(number)
    assert detail.ticket.root_cause is None
    assert detail.heard["D"].done is False


def test_tag_changes_keep_the_tag_index_sort_key_in_step(store: Store, number: int) -> None:
    store.tickets.set_tags(number, ["vip"], "ana")
    store.tickets.set_priority(number, "high", "ana")
    updated = store.tickets.get_ticket(number).ticket.updated_at
    from sqlmodel import select

    from deskterm.store.models import TicketTag

    with store.db.read() as session:
        tag = session.exec(select(TicketTag)).one()
    assert tag.updated_at == updated


def test_round_trip_of_every_table(store: Store, number: int) -> None:
    store.tickets.set_tags(number, ["vip"], "ana")
    store.tickets.set_heard(number, "E", True, "ana")
    store.tickets.save_note(number, "notes", "ana")
    from deskterm.store.portable import EXPORT_ORDER

    records = list(store.portable.export_records())
    types = {r["type"] for r in records}
    assert {"customer", "identity", "ticket", "ticket_tag", "message", "heard_step",
            "note_version", "event"} <= types  # fmt: skip
    assert types <= {name for name, _ in EXPORT_ORDER}
    ticket = next(r for r in records if r["type"] == "ticket")
    assert ticket["id"] == number and ticket["subject"] == "Printer on fire"
    message = next(r for r in records if r["type"] == "message")
    assert message["sent_at"].endswith("+00:00")
    identity = next(r for r in records if r["type"] == "identity")
    assert (identity["kind"], identity["value"], identity["domain"]) == (
        "email", "ana@acme.com", "acme.com",
    )  # fmt: skip


def test_attachment_and_sync_state_round_trip(store: Store) -> None:
    from deskterm.connectors.records import AttachmentRecord, SyncCheckpoint

    record = mail(subject="Logs attached")
    record.attachments = (AttachmentRecord("log.txt", "text/plain", 12),)
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.settings import Settings

    Ingestor(store, Settings()).run(
        [record, SyncCheckpoint("support", "INBOX", 42, 7)], connector="test"
    )
    number = store.queue.list_tickets().rows[0].number
    detail = store.tickets.get_ticket(number)
    (att,) = detail.attachments[detail.messages[0].id or 0]
    assert (att.filename, att.content_type, att.size) == ("log.txt", "text/plain", 12)
    assert store.ingest.sync_state("support", "INBOX") == (42, 7)
