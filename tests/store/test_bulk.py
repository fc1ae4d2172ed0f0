"""Bulk changes and undo, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from deskterm.query import parse_query
from deskterm.store import NotFound, Store
from deskterm.store.bulk_ops import Changes, Selection
from deskterm.store.types import utcnow
from tests.store.helpers import tickets_for


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    from deskterm.desk import open_store
    from deskterm.settings import Settings

    # With the default SLA policy: bulk changes keep the clocks (a pause) current.
    if request.param == "sqlite":
        store = open_store(tmp_path / "bulk.db", Settings())
    else:
        store = open_store(request.getfixturevalue("pg_url"), Settings())
    yield store
    store.close()


def _state(store: Store, number: int) -> tuple[str, str, str | None, list[str], int]:
    d = store.tickets.get_ticket(number)
    return d.ticket.status, d.ticket.priority, d.ticket.assignee, d.tags, d.ticket.version


def test_bulk_change_logs_one_event_per_ticket_per_field_and_undo_restores(
    any_store: Store,
) -> None:
    numbers = tickets_for(any_store, 12)
    any_store.tickets.update(numbers[0], "ana", status="solved", tags=["keep"])
    before = {n: _state(any_store, n) for n in numbers}
    result = any_store.bulk_ops.apply(
        Selection(numbers=dict.fromkeys(numbers)),
        Changes(status="pending", assignee="Ben", add_tags=("vip",)),
        "ana",
    )
    assert result.matched == 12 and result.changed == 12 and not result.conflicts
    assert result.events == 12 * 3
    for n in numbers:
        status, _, assignee, tags, version = _state(any_store, n)
        assert (status, assignee) == ("pending", "Ben") and "vip" in tags
        assert version == before[n][4] + 1
        kinds = [e.kind for e in any_store.tickets.events(n) if e.action_id == result.action_id]
        assert sorted(kinds) == ["assignee", "status", "tag_added"]
    reopened = any_store.tickets.get_ticket(numbers[0]).ticket
    assert reopened.reopen_count == 1 and reopened.solved_at is None
    assert any_store.queue.count_tickets(parse_query("tag:vip")) == 12

    undone = any_store.undo.undo("ana")
    assert undone.label == "Undid: status → pending, assignee → Ben, +vip on 12 tickets"
    for n in numbers:
        assert _state(any_store, n)[:4] == before[n][:4]
    assert any_store.queue.count_tickets(parse_query("tag:vip")) == 0
    # the next undo takes back the single change before it
    assert any_store.undo.undo("ana").label.startswith("Undid: tags, status → solved on 1 ticket")
    assert _state(any_store, numbers[0])[0] == "new"


def test_stale_versions_and_later_changes_are_listed_as_conflicts(any_store: Store) -> None:
    a, b, c = tickets_for(any_store, 3)
    seen = {n: any_store.tickets.ticket_version(n) for n in (a, b, c)}
    any_store.tickets.set_priority(b, "high", "ben")  # b moves on after it was marked
    result = any_store.bulk_ops.apply(
        Selection(numbers={**seen, 999: None}), Changes(status="open"), "ana"
    )
    assert result.changed == 2
    assert [n for n, _ in result.conflicts] == [b, 999]
    assert "version" in result.conflicts[0][1] and result.conflicts[1][1] == "no such ticket"
    assert _state(any_store, b)[0] == "new"
    any_store.tickets.set_status(a, "on_hold", "ben")  # a changed after the bulk change
    undone = any_store.undo.undo("ana")
    assert undone.changed == 1 and [n for n, _ in undone.conflicts] == [a]
    assert _state(any_store, a)[0] == "on_hold" and _state(any_store, c)[0] == "new"


def test_query_selection_dry_run_and_marked_at(any_store: Store) -> None:
    numbers = tickets_for(any_store, 8)
    for n in numbers[:5]:
        any_store.tickets.set_priority(n, "high", "ana")
    f = parse_query("priority:high")
    assert any_store.bulk_ops.count(f) == 5
    dry = any_store.bulk_ops.apply(
        Selection(query=f), Changes(status="solved"), "ana", dry_run=True
    )
    assert dry.dry_run and dry.changed == 5 and dry.action_id is None
    assert any_store.queue.count_tickets(parse_query("status:solved")) == 0
    marked_at = utcnow()
    any_store.tickets.set_queue(numbers[0], "billing", "ben")  # changed after marking
    steps: list[tuple[int, int]] = []
    result = any_store.bulk_ops.apply(
        Selection(query=f, marked_at=marked_at),
        Changes(status="solved"),
        "ana",
        progress=lambda done, total: steps.append((done, total)),
    )
    assert result.changed == 4 and [n for n, _ in result.conflicts] == [numbers[0]]
    assert steps == [(4, 4)]
    solved = any_store.tickets.get_ticket(numbers[1]).ticket
    assert solved.solved_at is not None and solved.sla_paused_at is not None
    assert solved.updated_at >= marked_at - timedelta(seconds=1)


def test_merge_is_undone_with_its_messages(any_store: Store) -> None:
    a, b = tickets_for(any_store, 2)
    any_store.workflow.merge_tickets(a, b, "ana")
    assert any_store.tickets.get_ticket(a).messages == []
    undone = any_store.undo.undo("ana")
    assert undone.label == f"Undid: merge #{a} into #{b} on 2 tickets"
    src = any_store.tickets.get_ticket(a)
    assert len(src.messages) == 1 and src.ticket.status == "new"
    assert src.ticket.merged_into_id is None and src.ticket.message_count == 1
    assert len(any_store.tickets.get_ticket(b).messages) == 1
    with pytest.raises(NotFound):
        any_store.undo.undo("ben")


def test_bulk_solve_under_the_heard_policy_lists_open_checklists(any_store: Store) -> None:
    a, b = tickets_for(any_store, 2)
    for step in "HEARD":
        any_store.tickets.set_heard(a, step, True, "ana", category="billing")
    result = any_store.bulk_ops.apply(
        Selection(numbers=dict.fromkeys([a, b])), Changes(status="solved"), "ana",
        heard_required=True,
    )  # fmt: skip
    assert result.changed == 1 and result.conflicts == [(b, "HEARD steps open")]
    assert any_store.tickets.get_ticket(b).ticket.status == "new"


def test_query_on_several_fields_selects_exactly_their_tickets(any_store: Store) -> None:
    """Two or more field filters are read from their indexes' intersection; the
    selection equals the queue's, and a ticket already at the wanted status keeps
    its solved time (only the tickets logged for a field have it set)."""
    numbers = tickets_for(any_store, 9)
    for n in numbers[:6]:
        any_store.tickets.set_priority(n, "high", "ana")
    for n in numbers[3:8]:
        any_store.tickets.set_queue(n, "billing", "ana")
    any_store.tickets.set_status(numbers[4], "solved", "ana")
    solved_at = any_store.tickets.get_ticket(numbers[4]).ticket.solved_at
    f = parse_query("priority:high queue:billing status:new,open,solved")
    expected = {r.number for r in any_store.queue.list_tickets(f, limit=100).rows}
    assert expected == set(numbers[3:6])
    result = any_store.bulk_ops.apply(
        Selection(query=f), Changes(status="solved", add_tags=("x",)), "ana"
    )
    assert result.matched == 3 and result.changed == 3 and result.events == 5
    assert any_store.tickets.get_ticket(numbers[4]).ticket.solved_at == solved_at
    assert {n for n in numbers if _state(any_store, n)[3] == ["x"]} == expected
    any_store.undo.undo("ana")
    assert _state(any_store, numbers[4])[:2] == ("solved", "high")
    assert all(_state(any_store, n)[0] != "solved" for n in (numbers[3], numbers[5]))
