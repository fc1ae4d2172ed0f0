"""The SLA clocks at ingest: customer tiers looked up once, and the hook that keeps
each imported ticket's due times current (the rules themselves are in deskterm.sla)."""

from __future__ import annotations

from time import monotonic
from typing import Any

from deskterm.ingest.pipeline import HookContext
from deskterm.sla import DONE_STATUSES, PAUSED_STATUSES, SlaPolicy, apply


class CustomerTiers:
    """Customer tiers for the triage and SLA hooks, looked up once per customer and
    kept for ``ttl`` seconds (so ``sync --watch`` sees an agent's tier change)."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._tiers: dict[int, tuple[str | None, float]] = {}

    def __call__(self, ctx: HookContext) -> str | None:
        customer = ctx.ticket.customer_id or ctx.customer_id
        if customer is None:
            return None
        now = monotonic()
        cached = self._tiers.get(customer)
        if cached is None or now - cached[1] > self.ttl:
            cached = (ctx.writer.customer_tier(customer), now)
            self._tiers[customer] = cached
        return cached[0]


class SlaHook:
    """Keeps the SLA columns of each ticket an import touches current.

    Runs after triage (which may change the priority). A ticket is recomputed when
    something the clocks depend on changed since this run last looked at it: a new
    ticket, a priority change, a first reply, a pause ending (a customer's answer
    reopens a pending ticket) or a reopened solved ticket.
    """

    def __init__(self, policy: SlaPolicy, tiers: CustomerTiers | None = None) -> None:
        self.policy = policy
        self.tiers = tiers or CustomerTiers()
        self._seen: dict[int, tuple[int, tuple[Any, ...]]] = {}

    def __call__(self, ctx: HookContext) -> None:
        ticket = ctx.ticket
        tier = self.tiers(ctx) if self.policy.uses_tiers else None
        inputs = (
            ticket.priority,
            tier,
            ticket.status in PAUSED_STATUSES,
            ticket.status in DONE_STATUSES,
            ticket.first_response_at is None,
        )
        if self._seen.get(ticket.id) == (id(ticket), inputs):
            return
        self._seen[ticket.id] = (id(ticket), inputs)
        if apply(self.policy, ticket, tier, ctx.record.sent_at):
            ticket.dirty = True
