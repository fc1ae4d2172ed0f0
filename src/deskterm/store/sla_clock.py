"""The SLA policy and clock the store parts share: due times kept current on every
change, and the conditions behind ``sla:`` filters.

The store knows no SLA rules. It is handed a policy (anything shaped like
:class:`SlaRules`; :class:`deskterm.sla.SlaPolicy` is the real one) when it is opened
or later with :meth:`SlaClock.use`; :func:`deskterm.desk.open_store` hands in the
configured one. A store opened without a policy keeps no clocks: due times stay as
they are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, false
from sqlmodel import Session, col, select

from deskterm.query import TicketFilter
from deskterm.store.dialect.order import unindexed
from deskterm.store.models import Customer, Ticket
from deskterm.store.types import utcnow


class SlaRules(Protocol):
    """What the store needs of an SLA policy."""

    @property
    def uses_tiers(self) -> bool:
        """Whether the customer's tier matters (so the store can skip looking it up)."""
        ...

    def refresh(self, ticket: Any, tier: str | None, now: datetime) -> bool:
        """Bring the ticket's SLA columns up to date after a change at ``now`` (a
        :class:`Ticket`, or any row object with its SLA columns, as bulk changes use);
        returns whether anything changed."""
        ...

    def business_calendars(
        self, start: datetime, end: datetime
    ) -> dict[str | None, list[tuple[datetime, datetime]]]:
        """Open windows in ``[start, end)`` of the default calendar (key ``None``) and of
        each tier with a calendar of its own (for the report's business-hours times);
        empty when every clock runs around the clock."""
        ...


class NoSla:
    """The policy of a store opened without one: no clocks are kept."""

    uses_tiers = False

    def refresh(self, ticket: Any, tier: str | None, now: datetime) -> bool:
        return False

    def business_calendars(
        self, start: datetime, end: datetime
    ) -> dict[str | None, list[tuple[datetime, datetime]]]:
        return {}


class SlaClock:
    """Which policy applies, and what "now" is for ``sla:`` filters."""

    def __init__(self, policy: SlaRules | None = None) -> None:
        self.policy: SlaRules = NoSla() if policy is None else policy
        self._clock: Callable[[], datetime] | None = None

    def use(self, policy: SlaRules, clock: Callable[[], datetime] | None = None) -> None:
        """Use ``policy`` from now on, and ``clock`` for what ``sla:`` filters call now
        (the console passes its own, which tests fix, so a view's rows agree with the
        countdowns it shows)."""
        self.policy = policy
        self._clock = clock

    def use_clock(self, clock: Callable[[], datetime]) -> None:
        """Keep the policy; take "now" for ``sla:`` filters from ``clock``."""
        self._clock = clock

    def now(self) -> datetime:
        """The moment ``sla:`` filters compare against."""
        return self._clock() if self._clock else utcnow()

    def business_calendars(
        self, start: datetime, end: datetime
    ) -> dict[str | None, list[tuple[datetime, datetime]]]:
        """The policy's calendars for the report's business-hours times (see
        :meth:`SlaRules.business_calendars`)."""
        return self.policy.business_calendars(start, end)

    def tier(self, session: Session, ticket: Ticket) -> str | None:
        """The ticket's customer tier, when the policy has tier overrides."""
        if ticket.customer_id is None or not self.policy.uses_tiers:
            return None
        return session.exec(select(Customer.tier).where(Customer.id == ticket.customer_id)).first()

    def apply(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Recompute the ticket's due times (added to the session when they moved)."""
        if self.policy.refresh(ticket, self.tier(session, ticket), now):
            session.add(ticket)

    def after_change(self, session: Session, ticket: Ticket, field_name: str) -> None:
        """Priority and status changes move the clocks."""
        if field_name in ("priority", "status"):
            self.apply(session, ticket, utcnow())

    def conditions(self, f: TicketFilter, *, walk: bool = False) -> list[ColumnElement[bool]]:
        """Conditions for ``sla:breached``, ``sla:at-risk`` or both (any of them);
        ``walk`` as in :meth:`QueueQueries.conditions`."""
        if not f.sla:
            return []
        now = self.now()
        due: Any = col(Ticket.sla_next_due)
        warn: Any = col(Ticket.sla_warn_at)
        if walk:
            due, warn = unindexed(due), unindexed(warn)
        if set(f.sla) >= {"breached", "at-risk"}:
            # Breached or at risk: past the warning time (deskterm.sla sets both times
            # together, the warning never after the due time), one index range.
            return [warn <= now]
        if f.sla == ("breached",):
            return [due <= now]
        if f.sla == ("at-risk",):
            return [and_(warn <= now, due > now)]
        return [false()]  # a view narrowed to no state


def missed_targets(ticket: Ticket, now: datetime) -> tuple[bool, bool]:
    """(first response, resolution): whether the ticket has missed each target by
    ``now``, by the same rules as the report's SLA counts (a paused resolution clock
    has missed only if it was already late when the pause began), or carried a miss
    from an earlier merge."""
    fr_due, res_due = ticket.sla_first_response_due, ticket.sla_resolution_due
    first = ticket.sla_first_response_missed or (
        fr_due is not None
        and (
            ticket.first_response_at > fr_due
            if ticket.first_response_at is not None
            else fr_due < now
        )
    )
    resolution = ticket.sla_resolution_missed
    if res_due is not None and not resolution:
        if ticket.status in ("solved", "closed"):
            resolution = ticket.solved_at is not None and ticket.solved_at > res_due
        else:
            resolution = min(now, ticket.sla_paused_at or now) > res_due
    return bool(first), bool(resolution)
