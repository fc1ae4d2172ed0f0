"""The workflow's store operations on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from deskterm import sla
from deskterm.desk import open_store
from deskterm.ingest.hooks import default_hooks
from deskterm.ingest.pipeline import Ingestor
from deskterm.query import parse_query
from deskterm.reply import send_reply
from deskterm.settings import parse_settings
from deskterm.store import Store
from deskterm.store.types import utcnow
from tests.store.helpers import mail

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def test_workflow_on_postgres(pg_store: Store) -> None:
    config = parse_settings(
        {
            "agent": {"name": "Ana", "email": "support@example.com"},
            "rules": [{"name": "Refunds", "when": {"text": "refund"}, "set": {"queue": "billing"}}],
        }
    )
    pg_store.sla.use_sla_policy(sla.SlaPolicy.from_settings(config.sla))
    now = utcnow()
    records = [
        mail("a@x.org", "Refund please", "I want a refund!!!", at=now - timedelta(hours=12),
             message_id="<1@x>"),
        mail("a@x.org", "Another thing", "Where is it?", at=now - timedelta(hours=7),
             message_id="<2@x>"),
    ]  # fmt: skip
    Ingestor(pg_store, config, hooks=default_hooks(config)).run(records, connector="test")
    first = pg_store.tickets.get_ticket(1)
    assert first.ticket.queue == "billing" and first.ticket.emotion == "anger"
    assert [r.number for r in pg_store.queue.list_tickets(parse_query("sla:breached")).rows] == [1]
    assert [r.number for r in pg_store.queue.list_tickets(parse_query("sla:at-risk")).rows] == [2]

    sent: list[object] = []
    result = send_reply(pg_store, config, 2, "On its way.", transport=sent.append)
    assert result.delivered and len(sent) == 1
    assert pg_store.tickets.get_ticket(2).ticket.first_response_at is not None

    pg_store.workflow.merge_tickets(2, 1, "ana", note="same customer, same order")
    merged = pg_store.tickets.get_ticket(1)
    assert merged.ticket.message_count == 3
    assert pg_store.tickets.get_ticket(2).ticket.merged_into_id == 1
    pg_store.workflow.escalate(1, "needs finance", "ana", priority="urgent")
    assert pg_store.workflow.link_tickets(1, 2, "ana", kind="related")
    pg_store.replies.save_draft(1, "ana", "draft text")
    assert pg_store.replies.get_draft(1, "ana") is not None
    assert pg_store.sla.recompute_sla() == 0
