"""The SLA policy and clock the store parts share: due times kept current on every
change, and the conditions behind ``sla:`` filters.

The policy comes from the config (:class:`deskterm.sla.SlaPolicy`); a store opened by
the CLI or the console reads the user's config the first time a clock needs it, and
tests or embedding code can hand one in with :meth:`SlaClock.use`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select

from deskterm import sla
from deskterm.query import TicketFilter
from deskterm.store.models import Customer, Ticket
from deskterm.store.types import utcnow


class SlaClock:
    """Which policy applies, and what "now" is for ``sla:`` filters."""

    def __init__(self) -> None:
        self._policy: sla.SlaPolicy | None = None
        self._clock: Callable[[], datetime] | None = None

    def use(self, policy: sla.SlaPolicy, clock: Callable[[], datetime] | None = None) -> None:
        """Use ``policy`` instead of the one in the user's config file, and ``clock``
        for what ``sla:`` filters call now (the console passes its own, which tests fix,
        so a view's rows agree with the countdowns it shows)."""
        self._policy = policy
        self._clock = clock

    @property
    def policy(self) -> sla.SlaPolicy:
        if self._policy is None:
            from deskterm.config import load_config

            self._policy = sla.SlaPolicy.from_config(load_config())
        return self._policy

    def now(self) -> datetime:
        """The moment ``sla:`` filters compare against."""
        return self._clock() if self._clock else utcnow()

    def business_windows(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]] | None:
        """Open windows of the default calendar in ``[start, end)`` for the report's
        business-hours times; ``None`` when clocks run around the clock."""
        calendar = self.policy.default.calendar
        return calendar.windows(start, end) if isinstance(calendar, sla.BusinessHours) else None

    def tier(self, session: Session, ticket: Ticket) -> str | None:
        """The ticket's customer tier, when the policy has tier overrides."""
        if ticket.customer_id is None or not self.policy.uses_tiers:
            return None
        return session.exec(select(Customer.tier).where(Customer.id == ticket.customer_id)).first()

    def apply(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Recompute the ticket's due times (added to the session when they moved)."""
        if sla.apply(self.policy, ticket, self.tier(session, ticket), now):
            session.add(ticket)

    def after_change(self, session: Session, ticket: Ticket, field_name: str) -> None:
        """Priority and status changes move the clocks."""
        if field_name in ("priority", "status"):
            self.apply(session, ticket, utcnow())

    def conditions(self, f: TicketFilter) -> list[ColumnElement[bool]]:
        """Conditions for ``sla:breached`` and ``sla:at-risk``."""
        if f.sla is None:
            return []
        now = self.now()
        due = col(Ticket.sla_next_due)
        if f.sla == "breached":
            return [due <= now]
        return [and_(col(Ticket.sla_warn_at) <= now, due > now)]
