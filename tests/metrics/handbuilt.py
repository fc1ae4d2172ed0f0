"""A small store written row by row with known times, so every metric can be worked
out by hand (see the expected values in test_report.py).

The week under report is Monday 2026-11-02 00:00 to Monday 2026-11-09 00:00 UTC; the
previous week is 2026-10-26 to 2026-11-02.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from deskterm.store import Store
from deskterm.store.models import Customer, Event, HeardStep, Message, Ticket

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 9, tzinfo=UTC)
T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 09:00
H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
_keys = count(1)


def build(store: Store) -> dict[str, int]:
    """Write the tickets A..I (letters as in the test) and return their numbers."""
    with store.db.write() as s:
        ana = Customer(name="Ana", tier="premium")
        bob = Customer(name="Bob", tier="free")
        s.add_all([ana, bob])
        s.flush()
        n: dict[str, int] = {}

        def ticket(name: str, created: datetime, **kw: Any) -> Ticket:
            kw.setdefault("customer_id", ana.id)
            t = Ticket(
                subject=name, created_at=created, updated_at=kw.pop("updated", created), **kw
            )
            s.add(t)
            s.flush()
            assert t.id is not None
            n[name] = t.id
            return t

        def msg(t: Ticket, direction: str, at: datetime, emotion: str | None = None) -> None:
            assert t.id is not None
            s.add(Message(ticket_id=t.id, direction=direction, channel=t.channel, sent_at=at,
                          source_key=f"hand:{next(_keys)}", emotion=emotion))  # fmt: skip

        def heard(t: Ticket, step: str, at: datetime, category: str | None = None) -> None:
            assert t.id is not None
            s.add(HeardStep(ticket_id=t.id, step=step, done=True, done_at=at, category=category))

        def event(
            t: Ticket, kind: str, at: datetime, old: str | None = None, new: str = ""
        ) -> None:
            s.add(Event(ticket_id=t.id, kind=kind, old=old, new=new, at=at))

        # A: answered once, solved, never reopened (first-contact resolution); all of
        # HEARD, Apologize and Resolve at the same minute (a tie counts as "before").
        a = ticket("A", T, channel="email", queue="billing", assignee="ana", status="solved",
                   first_response_at=T + H, solved_at=T + 3 * H, updated=T + 3 * H,
                   sla_first_response_due=T + 2 * H, sla_resolution_due=T + 8 * H)  # fmt: skip
        msg(a, "inbound", T, "frustration")
        msg(a, "outbound", T + H)
        msg(a, "note", T + 2 * H)  # internal notes are not replies
        for step, at in (("H", 5), ("E", 10), ("A", 30), ("R", 30), ("D", 40)):
            heard(a, step, T + at * M, "billing" if step == "D" else None)
        # B: two replies, reopened once, both targets missed; Empathize after Resolve and
        # no Apologize.
        b = ticket("B", T + D, channel="chat", queue="technical", assignee="ben",
                   status="solved", first_response_at=T + D + 2 * H, solved_at=T + D + 30 * H,
                   updated=T + D + 30 * H, reopen_count=1, sla_first_response_due=T + D + H,
                   sla_resolution_due=T + 2 * D, customer_id=bob.id)  # fmt: skip
        msg(b, "inbound", T + D, "anger")
        msg(b, "outbound", T + D + 2 * H)
        msg(b, "outbound", T + D + 5 * H)
        heard(b, "H", T + D)
        heard(b, "R", T + D + H)
        heard(b, "E", T + D + 2 * H)
        heard(b, "D", T + D + 3 * H, "billing")
        # C: never answered; its first-response target passed inside the range.
        c = ticket("C", T + 2 * D, channel="email", queue="billing", assignee="ana",
                   status="open", sla_first_response_due=T + 2 * D + 4 * H,
                   sla_resolution_due=T + 30 * D)  # fmt: skip
        msg(c, "inbound", T + 2 * D, "frustration")
        # D: merged into A (closed by the merge); counts nowhere.
        d = ticket("D", T + 2 * H, channel="email", queue="billing", status="closed",
                   solved_at=T + 3 * H, merged_into_id=a.id)  # fmt: skip
        heard(d, "D", T + 3 * H, "outage")  # diagnosed before the merge: not a root cause
        msg(a, "inbound", T + 2 * H)  # D's message, moved to A
        # E: pending (resolution clock paused) past its due time: not a breach.
        e = ticket("E", T + 3 * D, channel="whatsapp", queue="general", status="pending",
                   first_response_at=T + 3 * D + 30 * M, sla_first_response_due=T + 3 * D + H,
                   sla_resolution_due=T + 3 * D + 2 * H, sla_paused_at=T + 3 * D + H)  # fmt: skip
        msg(e, "inbound", T + 3 * D, "neutral")
        msg(e, "outbound", T + 3 * D + 30 * M)
        # F: the same times as A (ties in the percentiles); no resolution target.
        f = ticket("F", T + 4 * D, channel="email", queue="technical", assignee="ben",
                   status="closed", first_response_at=T + 4 * D + H, solved_at=T + 4 * D + 3 * H,
                   updated=T + 4 * D + 3 * H, sla_first_response_due=T + 4 * D + 2 * H,
                   customer_id=bob.id)  # fmt: skip
        msg(f, "inbound", T + 4 * D)
        msg(f, "outbound", T + 4 * D + H)
        # G: an old ticket nobody touched: backlog, 7-30 days.
        ticket("G", datetime(2026, 10, 20, 9, tzinfo=UTC), channel="email", status="new")
        # H: created the week before, solved in this one; diagnosed the week before.
        h0 = datetime(2026, 10, 28, 9, tzinfo=UTC)
        h = ticket("H", h0, channel="email", queue="general", status="solved",
                   first_response_at=h0 + H, solved_at=T + D, updated=T + D)  # fmt: skip
        msg(h, "inbound", h0, "anxiety")
        msg(h, "outbound", h0 + H)
        heard(h, "D", h0 + D, "user error")
        # I: created Friday 16:00, answered Monday 10:00 (after the range), solved after
        # the range: in the backlog with the status it had then (open, from the log).
        i0 = datetime(2026, 11, 6, 16, tzinfo=UTC)
        i = ticket("I", i0, channel="slack", queue="general", status="solved",
                   first_response_at=i0 + 66 * H, solved_at=UNTIL + D,
                   updated=UNTIL + D)  # fmt: skip
        msg(i, "inbound", i0)
        msg(i, "outbound", i0 + 66 * H)
        event(i, "status", i0 + H, "new", "open")
        event(i, "status", UNTIL + D, "open", "solved")
        # Satisfaction: one response before the range (not counted).
        for t_, kind, score, when in (
            (a, "csat", 5, T + D), (b, "csat", 3, T + 3 * D), (f, "csat", 4, T + 5 * D),
            (h, "csat", 1, SINCE - D), (a, "ces", 2, T + D), (a, "nps", 10, T + D),
            (b, "nps", 9, T + 3 * D), (f, "nps", 6, T + 5 * D),
        ):  # fmt: skip
            event(t_, kind, when, None, str(score))
    return n
