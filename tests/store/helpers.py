"""Small builders for store tests: records through the real ingest pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from deskterm.connectors.records import InboundRecord, Party
from deskterm.ingest.pipeline import Ingestor
from deskterm.ingest.state import IngestSummary
from deskterm.settings import Settings
from deskterm.store import Store

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
_serial = count(1)


def mail(
    sender: str = "ana@acme.com",
    subject: str = "Printer on fire",
    body: str = "It is on fire.",
    *,
    at: datetime | None = None,
    minutes: int = 0,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    name: str = "",
    to: str = "support@example.com",
) -> InboundRecord:
    n = next(_serial)
    message_id = message_id or f"<m{n}@test>"
    return InboundRecord(
        source_key=f"mail:{message_id}",
        channel="email",
        sent_at=(at or T0) + timedelta(minutes=minutes),
        author=Party("email", sender, name or sender.split("@")[0].title()),
        body=body,
        subject=subject,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=(in_reply_to,) if in_reply_to else (),
        recipients=(Party("email", to),),
    )


def ingest(store: Store, *records: InboundRecord, config: Settings | None = None) -> IngestSummary:
    return Ingestor(store, config or Settings()).run(list(records), connector="test")


def tickets_for(store: Store, count_: int, *, start: datetime = T0) -> list[int]:
    """``count_`` tickets from distinct customers, one minute apart (oldest first)."""
    records = [
        mail(f"c{i}@example.org", f"Question {i}", f"Body {i}", at=start, minutes=i)
        for i in range(count_)
    ]
    ingest(store, *records)
    page = store.queue.list_tickets(limit=count_ + 10)
    return sorted(r.number for r in page.rows)
