"""SLA clocks in the store: kept current on every change, and queryable by index.

The policy comes from the config (:class:`deskterm.sla.SlaPolicy`); a store opened by
the CLI or the console reads the user's config the first time a clock needs it, and
tests or embedding code can hand one in with :meth:`SlaOps.use_sla_policy`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func
from sqlmodel import Session, col, select

from deskterm import sla
from deskterm.query import TicketFilter
from deskterm.store.errors import InvalidValue, NotFound
from deskterm.store.models import Customer, Ticket
from deskterm.store.queue import QueueQueries
from deskterm.store.tickets import TicketServices, log_event, touch
from deskterm.store.types import utcnow
from deskterm.vocab import OPEN_STATUSES


class SlaOps(QueueQueries, TicketServices):
    """Due times recomputed on priority, status and tier changes; ``sla:`` filters."""

    _sla_policy: sla.SlaPolicy | None = None
    _sla_clock: Callable[[], datetime] | None = None

    def use_sla_policy(
        self, policy: sla.SlaPolicy, clock: Callable[[], datetime] | None = None
    ) -> None:
        """Use ``policy`` instead of the one in the user's config file, and ``clock``
        for what ``sla:`` filters call now (the console passes its own, which tests fix,
        so a view's rows agree with the countdowns it shows)."""
        self._sla_policy = policy
        self._sla_clock = clock

    @property
    def sla_policy(self) -> sla.SlaPolicy:
        if self._sla_policy is None:
            from deskterm.config import load_config

            self._sla_policy = sla.SlaPolicy.from_config(load_config())
        return self._sla_policy

    def sla_now(self) -> datetime:
        """The moment ``sla:`` filters compare against."""
        return self._sla_clock() if self._sla_clock else utcnow()

    # -- keeping clocks current ---------------------------------------------------------

    def _tier(self, session: Session, ticket: Ticket) -> str | None:
        if ticket.customer_id is None or not self.sla_policy.uses_tiers:
            return None
        return session.exec(select(Customer.tier).where(Customer.id == ticket.customer_id)).first()

    def _apply_sla(self, session: Session, ticket: Ticket, now: datetime) -> None:
        if sla.apply(self.sla_policy, ticket, self._tier(session, ticket), now):
            session.add(ticket)

    def _after_change(self, session: Session, ticket: Ticket, field_name: str, old: Any) -> None:
        super()._after_change(session, ticket, field_name, old)
        if field_name in ("priority", "status"):
            self._apply_sla(session, ticket, utcnow())

    # -- queries ------------------------------------------------------------------------

    def _sla_conditions(self, f: TicketFilter) -> list[ColumnElement[bool]]:
        if f.sla is None:
            return []
        now = self.sla_now()
        due = col(Ticket.sla_next_due)
        if f.sla == "breached":
            return [due <= now]
        return [and_(col(Ticket.sla_warn_at) <= now, due > now)]

    # -- changes ------------------------------------------------------------------------

    def set_customer_tier(self, customer_id: int, tier: str, actor: str) -> Customer:
        """Change a customer's tier and recompute the SLA of their open tickets."""
        tier = tier.strip().lower()
        if not tier:
            raise InvalidValue("A tier cannot be empty.")
        with self.write() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise NotFound(f"There is no customer #{customer_id}.")
            old = customer.tier
            if old == tier:
                return customer
            now = utcnow()
            customer.tier = tier
            customer.updated_at = now
            session.add(customer)
            log_event(
                session, "tier", actor=actor, customer_id=customer_id, old=old, new=tier, at=now
            )
            session.flush()
            tickets = session.exec(
                select(Ticket).where(
                    Ticket.customer_id == customer_id, col(Ticket.status).in_(OPEN_STATUSES)
                )
            ).all()
            for ticket in tickets:
                if sla.apply(self.sla_policy, ticket, tier, now):
                    touch(session, ticket, ticket.updated_at)
            return customer

    def recompute_sla(self, f: TicketFilter | None = None, *, batch: int = 500) -> int:
        """Recompute the due times of matching tickets (after the policy changed);
        returns how many changed. Runs in batches, each its own transaction."""
        f = f or TicketFilter()
        changed = 0
        last_id = 0
        while True:
            with self.write() as session:
                conds = self._conditions(session, f)
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
                    if sla.apply(self.sla_policy, ticket, tiers.get(ticket.customer_id), now):
                        session.add(ticket)
                        changed += 1
                last_id = max(i for i in ids if i is not None)

    def _tiers(self, session: Session, customer_ids: set[int | None]) -> dict[int | None, str]:
        ids = [c for c in customer_ids if c is not None]
        if not ids or not self.sla_policy.uses_tiers:
            return {}
        return dict(
            session.exec(select(Customer.id, Customer.tier).where(col(Customer.id).in_(ids))).all()
        )

    def sla_counts(self) -> dict[str, int]:
        """How many tickets are breached and at risk now (for the dashboard and views)."""
        now = self.sla_now()
        with self.read() as session:
            breached = session.exec(
                select(func.count()).select_from(Ticket).where(col(Ticket.sla_next_due) <= now)
            ).one()
            at_risk = session.exec(
                select(func.count())
                .select_from(Ticket)
                .where(col(Ticket.sla_warn_at) <= now, col(Ticket.sla_next_due) > now)
            ).one()
        return {"breached": int(breached), "at-risk": int(at_risk)}
