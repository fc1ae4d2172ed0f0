"""The ingest hooks that apply the desk's rules to each imported message: triage rules
(deskterm.triage) and SLA clocks (deskterm.sla), with customer tiers looked up once.

The rules live in their own modules and know nothing of the pipeline; these adapters
are the pipeline's side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any

from deskterm.emotion import new_text
from deskterm.ingest.pipeline import HookContext
from deskterm.sla import DONE_STATUSES, PAUSED_STATUSES, SlaPolicy, apply
from deskterm.triage import Facts, Rule, evaluate


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


class TriageHook:
    """Runs the rules on each message at ingest and logs every rule applied."""

    def __init__(self, rules: Sequence[Rule], tiers: Callable[[HookContext], str | None]) -> None:
        self.rules = list(rules)
        self.tiers = tiers

    def __call__(self, ctx: HookContext) -> None:
        record = ctx.record
        ticket = ctx.ticket
        facts = Facts(
            channel=record.channel,
            direction=ctx.direction,
            sender=record.author.value,
            recipients=tuple(p.value for p in record.recipients if p.kind == "email"),
            subject=record.subject,
            body=new_text(record.body),
            new=ctx.new_ticket,
            emotion=ctx.message.get("emotion"),
            emotion_score=ctx.message.get("emotion_score"),
            status=ticket.status,
            tier=lambda: self.tiers(ctx),
        )
        known_tags = set(ticket.add_tags)
        applied = evaluate(self.rules, facts, ticket)
        if not applied:
            return
        for result in applied:
            ctx.events.append(
                {"kind": "rule", "ticket_id": ticket.id, "actor": "triage", "at": record.sent_at,
                 "new": result.rule, "detail": result.detail() | {"source": record.source_key}}
            )  # fmt: skip
            for name, (old, new) in result.changes.items():
                ctx.events.append(
                    {"kind": name, "ticket_id": ticket.id, "actor": "triage",
                     "at": record.sent_at, "old": old, "new": new,
                     "detail": {"rule": result.rule}}
                )  # fmt: skip
        if any(r.changes for r in applied) or ticket.add_tags != known_tags:
            ticket.dirty = True
        added = sorted(ticket.add_tags - known_tags)
        if added:
            ctx.events.append(
                {"kind": "tags", "ticket_id": ticket.id, "actor": "triage", "at": record.sent_at,
                 "new": ",".join(added), "detail": {"added": added}}
            )  # fmt: skip


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
