"""SLA maintenance: recomputing due times after a policy change, and counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from deskterm.query import TicketFilter
from deskterm.store.base import Database
from deskterm.store.models import Customer, Ticket
from deskterm.store.queue import QueueQueries
from deskterm.store.sla_clock import SlaClock, SlaRules


class SlaOps:
    """The policy in use, bulk recomputation and breached/at-risk counts."""

    def __init__(self, db: Database, clock: SlaClock, queue: QueueQueries) -> None:
        self.db = db
        self.clock = clock
        self.queue = queue

    def use_sla_policy(self, policy: SlaRules, clock: Callable[[], datetime] | None = None) -> None:
        """See :meth:`SlaClock.use`."""
        self.clock.use(policy, clock)

    def use_clock(self, clock: Callable[[], datetime]) -> None:
        """See :meth:`SlaClock.use_clock`."""
        self.clock.use_clock(clock)

    def sla_now(self) -> datetime:
        """The moment ``sla:`` filters compare against."""
        return self.clock.now()

    def recompute_sla(self, f: TicketFilter | None = None, *, batch: int = 500) -> int:
        """Recompute the due times of matching tickets (after the policy changed);
        returns how many changed. Runs in batches, each its own transaction."""
        f = f or TicketFilter()
        changed = 0
        last_id = 0
        while True:
            with self.db.write() as session:
                conds = self.queue.conditions(session, f)
                ids = list(
                    session.exec(
                        select(Ticket.id)
                        .where(col(Ticket.id) > last_id, *conds)
                        .order_by(col(Ticket.id))
                        .limit(batch)
                    ).all()
                )
                if not ids:
                    return changed
                tickets = session.exec(select(Ticket).where(col(Ticket.id).in_(ids))).all()
                tiers = self._tiers(session, {t.customer_id for t in tickets})
                for ticket in tickets:
                    # A ticket found paused without a recorded pause (bulk-loaded) is taken
                    # to have paused at its last activity.
                    now = ticket.sla_paused_at or ticket.updated_at
                    if self.clock.policy.refresh(ticket, tiers.get(ticket.customer_id), now):
                        session.add(ticket)
                        changed += 1
                last_id = max(i for i in ids if i is not None)

    def _tiers(self, session: Session, customer_ids: set[int | None]) -> dict[int | None, str]:
        ids = [c for c in customer_ids if c is not None]
        if not ids or not self.clock.policy.uses_tiers:
            return {}
        return dict(
            session.exec(select(Customer.id, Customer.tier).where(col(Customer.id).in_(ids))).all()
        )

    def sla_counts(self) -> dict[str, int]:
        """How many tickets are breached and at risk now (for the dashboard and views)."""
        now = self.clock.now()
        with self.db.read() as session:
            breached = session.exec(
                select(func.count()).select_from(Ticket).where(col(Ticket.sla_next_due) <= now)
            ).one()
            at_risk = session.exec(
                select(func.count())
                .select_from(Ticket)
                .where(col(Ticket.sla_warn_at) <= now, col(Ticket.sla_next_due) > now)
            ).one()
        return {"breached": int(breached), "at-risk": int(at_risk)}
