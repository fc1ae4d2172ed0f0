"""Several agents at once, as separate OS processes, on SQLite and PostgreSQL: a
version-checked change has exactly one winner, the loser gets a conflict, and the
event log agrees with the data (issue 11)."""

from __future__ import annotations

import multiprocessing
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from deskterm.store import Store
from tests.store.helpers import tickets_for
from tests.team.racer import agent


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "race.db")
    url: str = request.getfixturevalue("pg_url")
    return url


def _race(
    url: str, action: str, rounds: list[tuple[int, int]], agents: int
) -> list[tuple[int, str, str]]:
    """Run ``agents`` processes over the same rounds; every (number, agent, outcome)."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(agents), ctx.Queue()
    procs = [
        ctx.Process(target=agent, args=(url, action, rounds, f"agent{i}", barrier, results))
        for i in range(agents)
    ]
    for p in procs:
        p.start()
    out = [results.get(timeout=120) for _ in range(agents * len(rounds))]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return out


def test_100_status_races_have_one_winner_each(target: str) -> None:
    store = Store.open(target)
    numbers = tickets_for(store, 100)
    rounds = [(n, store.tickets.ticket_version(n)) for n in numbers]
    by_ticket: dict[int, list[str]] = defaultdict(list)
    for number, _name, outcome in _race(target, "status", rounds, 2):
        by_ticket[number].append(outcome)
    assert all(sorted(o) == ["conflict", "won"] for o in by_ticket.values()), by_ticket
    for number, version in rounds:
        events = [e for e in store.tickets.events(number) if e.kind == "status"]
        assert [(e.old, e.new) for e in events] == [("new", "pending")]
        assert store.tickets.get_ticket(number).ticket.version == version + 1
    store.close()


def test_notes_race_is_a_conflict_not_an_error(target: str) -> None:
    store = Store.open(target)
    numbers = tickets_for(store, 10)
    rounds = [(n, store.tickets.ticket_version(n)) for n in numbers]
    outcomes = Counter(o for _n, _a, o in _race(target, "note", rounds, 2))
    assert outcomes == {"won": 10, "conflict": 10}
    for number in numbers:
        notes = store.tickets.note_versions(number)
        assert [n.version for n in notes] == [1]
    store.close()


def test_ten_claimers_never_share_a_ticket(target: str) -> None:
    store = Store.open(target)
    tickets_for(store, 6)
    outcomes = [o for _n, _a, o in _race(target, "take", [(0, 0)], 10)]
    taken = [o.split()[1] for o in outcomes if o.startswith("took")]
    assert len(taken) == 6 and len(set(taken)) == 6, outcomes
    assert outcomes.count("none") == 4
    assignees = {r.assignee for r in store.queue.list_tickets().rows}
    assert None not in assignees
    store.close()
