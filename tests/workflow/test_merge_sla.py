"""A merge never turns a missed SLA into met: the ticket that keeps everything keeps
any first-response or resolution target either ticket had missed, in the report and
on both faces; undo gives the target back its own record. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.connectors.records import InboundRecord
from deskterm.ingest.hooks import default_hooks
from deskterm.ingest.pipeline import Ingestor
from deskterm.settings import Settings
from deskterm.store import Store
from deskterm.store.replies import OutboundReply
from deskterm.store.types import utcnow
from tests.store.helpers import mail


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    from deskterm.desk import open_store

    target = tmp_path / "s.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = open_store(target, Settings())  # the default SLA policy: normal = 8h first reply
    yield store
    store.close()


def ingest(store: Store, *records: InboundRecord) -> None:
    """Through the pipeline with the default hooks: the SLA clocks start at ingest."""
    config = Settings()
    Ingestor(store, config, hooks=default_hooks(config)).run(list(records), connector="test")


def _late_and_fresh(store: Store) -> tuple[int, int]:
    """#1: two days old, never answered (first response missed); #2: ten minutes old,
    answered at once (met)."""
    now = utcnow()
    ingest(store, mail("ana@acme.com", "Charged twice", "Charged twice.",
                       at=now - timedelta(days=2), message_id="<late@x>"))  # fmt: skip
    ingest(store, mail("ana@acme.com", "Still charged twice", "Again.",
                       at=now - timedelta(minutes=10), message_id="<fresh@x>"))  # fmt: skip
    store.replies.record_reply(2, OutboundReply("On it.", "email", "Ana Agent"), "Ana Agent")
    return 1, 2


def _sla(store: Store) -> dict[str, Any]:
    now = utcnow()
    sla: dict[str, Any] = store.metrics.report(now - timedelta(days=7), now + timedelta(hours=1))[
        "sla"
    ]
    return sla


def test_merging_a_missed_ticket_into_a_met_one_keeps_the_miss(any_store: Store) -> None:
    late, fresh = _late_and_fresh(any_store)
    before = _sla(any_store)
    assert before["breached"] == 1 and before["first_response_met_rate"] == 0.5
    any_store.workflow.merge_tickets(late, fresh, "Ana Agent")
    target = any_store.tickets.get_ticket(fresh)
    assert target.ticket.sla_first_response_missed
    after = _sla(any_store)
    assert after["breached"] == 1  # the target carries it; the closed source is left out
    assert after["first_response_met_rate"] == 0.0
    assert target.merge_facts() == ["merged from #1 (SLA missed: first response)"]
    assert any_store.tickets.get_ticket(late).merge_facts() == ["merged into #2"]
    # Solving the target in time does not make the resolution met either way: its
    # resolution was not missed, so it is met; the first response stays missed.
    any_store.tickets.update(fresh, "Ana Agent", status="solved")
    assert _sla(any_store)["first_response_met_rate"] == 0.0
    any_store.undo.undo("Ana Agent")  # the solve
    any_store.undo.undo("Ana Agent")  # the merge: the target's own record comes back
    back = any_store.tickets.get_ticket(fresh).ticket
    assert not back.sla_first_response_missed and not back.sla_resolution_missed
    assert _sla(any_store) == before


def test_merging_a_met_ticket_into_a_missed_one_keeps_the_miss(any_store: Store) -> None:
    late, fresh = _late_and_fresh(any_store)
    # The fresh ticket's early answer must not count as the late one's first response.
    any_store.workflow.merge_tickets(fresh, late, "Ana Agent")
    target = any_store.tickets.get_ticket(late).ticket
    assert target.sla_first_response_missed
    assert _sla(any_store)["breached"] == 1
    assert _sla(any_store)["first_response_met_rate"] == 0.0


def test_a_resolution_missed_by_the_source_is_kept(any_store: Store) -> None:
    now = utcnow()
    ingest(any_store, mail("bo@acme.com", "Broken", "Broken.", at=now - timedelta(days=9)))
    ingest(any_store, mail("bo@acme.com", "Still broken", "Still.", at=now - timedelta(hours=1)))
    any_store.workflow.merge_tickets(1, 2, "Ana Agent")
    assert any_store.tickets.get_ticket(2).ticket.sla_resolution_missed
    any_store.tickets.update(2, "Ana Agent", status="solved")
    since, until = now - timedelta(days=30), now + timedelta(hours=1)
    assert any_store.metrics.report(since, until)["sla"]["resolution_met_rate"] == 0.0


def test_cli_show_says_merged_into_and_from(tmp_path: Path) -> None:
    from deskterm.desk import open_store

    db = tmp_path / "s.db"
    store = open_store(db, Settings())
    _late_and_fresh(store)
    store.close()
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(db), "tickets", "merge", "1", "2"])
    assert result.exit_code == 0, result.stderr
    shown = runner.invoke(app, ["--db", str(db), "tickets", "show", "2"]).stdout
    assert "Merged from #1 (SLA missed: first response)." in shown
    assert "Merged into #2." in runner.invoke(app, ["--db", str(db), "tickets", "show", "1"]).stdout
    as_json = json.loads(
        runner.invoke(app, ["--db", str(db), "tickets", "show", "2", "--json"]).stdout
    )
    assert as_json["merged_from"] == [1] and as_json["sla_first_response_missed"] is True
