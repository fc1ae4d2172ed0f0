"""Agents as separate OS processes for the race tests (started with ``spawn``).

Each agent opens its own store and, for every round, waits at a shared barrier so all
agents write at the same moment, then reports ``won`` or ``conflict`` (or what it took).
"""

from __future__ import annotations

from typing import Any


def agent(url: str, action: str, rounds: list[tuple[int, int]], name: str, barrier: Any,
          results: Any) -> None:  # fmt: skip
    """Play ``rounds`` of (ticket number, version read before the race)."""
    from deskterm.store import Conflict, Store

    store = Store.open(url, upgrade=False)
    store.queue.count_tickets()  # connect before the first round
    try:
        for number, version in rounds:
            barrier.wait(timeout=60)
            try:
                if action == "status":
                    store.tickets.set_status(number, "pending", name, expected_version=version)
                    outcome = "won"
                elif action == "note":
                    store.tickets.save_note(
                        number, f"notes by {name}", name, expected_version=version
                    )
                    outcome = "won"
                else:
                    taken = store.claims.take_next(name)
                    outcome = "none" if taken is None else f"took {taken}"
            except Conflict:
                outcome = "conflict"
            results.put((number, name, outcome))
    finally:
        store.close()
