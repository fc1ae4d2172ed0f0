"""Merge, escalate and link: each logged, each keeping the SLA clocks right."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deskterm.store import Conflict, InvalidValue, NotFound, Store
from deskterm.store.models import Attachment
from tests.store.helpers import ingest, mail


@pytest.fixture
def two(store: Store) -> tuple[int, int]:
    """#1 from ana (two messages, tag billing), #2 from ana's other address later."""
    ingest(
        store,
        mail("ana@acme.com", "Charged twice", "I was charged twice.", message_id="<a1@x>"),
        mail("ana@acme.com", "Re: Charged twice", "Still charged twice!", minutes=30,
             message_id="<a2@x>", in_reply_to="<a1@x>"),
        mail("ana.l@acme.com", "Double charge again", "Same problem, new mail.", minutes=60,
             message_id="<b1@x>"),
    )  # fmt: skip
    store.tickets.set_tags(1, ["billing"], "ana")
    store.tickets.set_tags(2, ["vip"], "ana")
    return 1, 2


def test_merge_moves_messages_tags_and_leaves_a_link(store: Store, two: tuple[int, int]) -> None:
    with store.db.write() as session:  # an attachment travels with its message
        message = store.tickets.get_ticket(1).messages[0]
        session.add(Attachment(message_id=message.id or 0, filename="invoice.pdf", size=10))
    target = store.workflow.merge_tickets(1, 2, "ana", note="same double charge")
    assert target.id == 2
    merged = store.tickets.get_ticket(2)
    assert [m.body for m in merged.messages] == [
        "I was charged twice.",
        "Still charged twice!",
        "Same problem, new mail.",
    ]
    assert merged.ticket.message_count == 3
    assert merged.tags == ["billing", "vip"]
    assert sum(len(a) for a in merged.attachments.values()) == 1
    source = store.tickets.get_ticket(1)
    assert source.messages == []
    assert (source.ticket.status, source.ticket.merged_into_id) == ("closed", 2)
    assert source.ticket.sla_next_due is None
    assert [(link.ticket_id, link.other_id, link.kind) for link in source.links] == [
        (1, 2, "merged")
    ]
    assert [(link.ticket_id, link.kind) for link in merged.links] == [(1, "merged")]
    merge_event = next(e for e in store.tickets.events(1) if e.kind == "merge")
    assert (merge_event.old, merge_event.new, merge_event.actor) == ("1", "2", "ana")
    assert json.loads(merge_event.detail or "{}") == {
        "messages": 2,
        "message_ids": [1, 2],
        "target_sla_missed": [False, False],
        "note": "same double charge",
    }
    assert [e.kind for e in store.tickets.events(2)][-2:] == ["merge_in", "tags"]
    # Search still finds the moved text, on the ticket it moved to.
    hits = store.queue.search_messages("charged")
    assert {h["ticket_id"] for h in hits} == {2}


def test_merge_refusals(store: Store, two: tuple[int, int]) -> None:
    with pytest.raises(InvalidValue, match="into itself"):
        store.workflow.merge_tickets(1, 1, "ana")
    with pytest.raises(NotFound):
        store.workflow.merge_tickets(1, 99, "ana")
    store.workflow.merge_tickets(1, 2, "ana")
    with pytest.raises(Conflict, match="already merged into #2"):
        store.workflow.merge_tickets(1, 2, "ana")
    with pytest.raises(Conflict, match="already merged into #2"):
        store.workflow.merge_tickets(2, 1, "ana")


def test_escalate_needs_a_note_and_logs_it(store: Store, two: tuple[int, int]) -> None:
    with pytest.raises(InvalidValue, match="needs a note"):
        store.workflow.escalate(1, "  ", "ana", queue="billing-l2")
    with pytest.raises(InvalidValue, match="queue, a priority or both"):
        store.workflow.escalate(1, "why", "ana")
    before = store.tickets.get_ticket(1).ticket
    ticket = store.workflow.escalate(
        1, "Card network dispute, needs L2", "ana", queue="billing-l2", priority="urgent"
    )
    assert (ticket.queue, ticket.priority) == ("billing-l2", "urgent")
    # Default policy: an urgent ticket gets its first response within the hour.
    assert ticket.sla_first_response_due == before.created_at + timedelta(hours=1)
    detail = store.tickets.get_ticket(1)
    note = detail.messages[-1]
    assert note.direction == "note"
    assert (
        note.body
        == "Escalated to queue billing-l2, priority urgent: Card network dispute, needs L2"
    )
    log = [(e.kind, e.old, e.new) for e in store.tickets.events(1)][-3:]
    assert log == [
        ("queue", "general", "billing-l2"),
        ("priority", "normal", "urgent"),
        ("escalate", None, "queue billing-l2, priority urgent"),
    ]
    with pytest.raises(InvalidValue, match="already there"):
        store.workflow.escalate(1, "again", "ana", queue="billing-l2")


def test_link_and_unlink(store: Store, two: tuple[int, int]) -> None:
    assert store.workflow.link_tickets(1, 2, "ana") is True
    assert store.workflow.link_tickets(2, 1, "ana") is False  # either direction counts
    assert [(link.ticket_id, link.other_id) for link in store.tickets.get_ticket(2).links] == [
        (1, 2)
    ]
    assert [e.kind for e in store.tickets.events(1)][-1] == "link"
    assert store.workflow.unlink_tickets(2, 1, "ana") is True
    assert store.tickets.get_ticket(1).links == []
    assert store.workflow.unlink_tickets(1, 2, "ana") is False
    with pytest.raises(InvalidValue):
        store.workflow.link_tickets(1, 1, "ana")


def test_cli_merge_escalate_link(store: Store, two: tuple[int, int], db_path: Path) -> None:
    from deskterm.cli import app

    runner = CliRunner()
    db = str(db_path)
    result = runner.invoke(app, ["--db", db, "tickets", "link", "1", "2"])
    assert result.exit_code == 0 and "Linked #1 and #2." in result.stdout
    result = runner.invoke(
        app, ["--db", db, "tickets", "escalate", "2", "--queue", "l2", "--note", "tricky", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["queue"] == "l2"
    result = runner.invoke(app, ["--db", db, "tickets", "escalate", "2", "--queue", "l3"])
    assert result.exit_code != 0 and "--note" in result.stderr
    result = runner.invoke(app, ["--db", db, "tickets", "merge", "1", "2", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "merged": 1, "into": 2, "messages_moved": 2, "message_count": 4,
    }  # fmt: skip
    result = runner.invoke(app, ["--db", db, "tickets", "merge", "1", "2"])
    assert result.exit_code == 3 and "already merged" in result.stderr  # a conflict


def test_a_reply_to_a_merged_ticket_lands_on_the_survivor(
    store: Store, two: tuple[int, int]
) -> None:
    store.workflow.merge_tickets(1, 2, "ana")
    # The token names the merged ticket; the survivor's customer writes.
    ingest(store, mail("ana.l@acme.com", "Re: Charged twice [#1]", "Any news?", minutes=90))
    assert store.tickets.ticket_count() == 2
    assert store.tickets.get_ticket(2).messages[-1].body == "Any news?"
