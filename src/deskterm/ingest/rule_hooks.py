"""The ingest hooks that apply the desk's rules to each imported message: emotion cues
(deskterm.emotion), triage rules (deskterm.triage) and SLA clocks (deskterm.sla), with
customer tiers looked up once.

The rules live in their own modules and know nothing of the pipeline; these adapters
are the pipeline's side."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from time import monotonic
from typing import Any

from deskterm.emotion import (
    REPEAT_MIN_GAP,
    REPEAT_WINDOW,
    EmotionAnalyzer,
    TextFeatures,
    analyzer,
    decide,
    new_text,
    scored_text,
)
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


class EmotionHook:
    """Sets the emotion of inbound messages, and the ticket's to the latest one.

    Scoring is the most expensive step of an import, so by default a message is scored
    where its emotion is used: the latest customer message of each ticket in a batch
    (which becomes the ticket's emotion). Live mail and small syncs come one message
    per ticket per batch, so every message is scored; a bulk import of history skips
    the messages that are superseded within their batch (their emotion stays empty).
    ``eager`` scores every message as it arrives: triage rules that test the emotion
    need it before they run.

    The repeat-contact signal needs the customer's recent messages: earlier runs are
    asked of the store, this run's (not committed yet) are remembered here.
    """

    def __init__(self, detector: EmotionAnalyzer | None = None, *, eager: bool = False) -> None:
        self.detector = detector or analyzer()
        self.eager = eager
        self._recent: dict[int, list[tuple[Any, str]]] = {}
        self._history: dict[int, bool] = {}
        self._pending: dict[int, tuple[HookContext, bool]] = {}

    def __call__(self, ctx: HookContext) -> None:
        record = ctx.record
        customer = ctx.customer_id
        if customer is not None and ctx.direction in ("inbound", "outbound"):
            if customer not in self._history:
                # Asked when this run first meets the customer, before any of the run's
                # messages are written: later batches would find this run's own rows.
                from deskterm.store.workflow import customer_has_messages

                self._history[customer] = not ctx.new_customer and customer_has_messages(
                    ctx.writer.conn, customer
                )
            seen = self._recent.setdefault(customer, [])
            bisect.insort(seen, (record.sent_at, ctx.direction))  # by time, even if late
            if len(seen) > 512:
                del seen[:256]
        if ctx.direction != "inbound":
            return
        # Newest message of its ticket so far (the pipeline has applied it already)?
        latest = ctx.ticket.emotion is None or record.sent_at >= ctx.ticket.updated_at
        if self.eager:
            self._score(ctx, latest)
            return
        earlier = self._pending.get(ctx.ticket.id)
        if earlier is None or record.sent_at >= earlier[0].record.sent_at:
            self._pending[ctx.ticket.id] = (ctx, latest)

    def end_batch(self) -> None:
        """Score the latest customer message of each ticket the batch touched."""
        pending, self._pending = self._pending, {}
        for ctx, latest in pending.values():
            self._score(ctx, latest)

    def _score(self, ctx: HookContext, latest: bool) -> None:
        record = ctx.record
        customer = ctx.customer_id
        # Only messages before this one count, so asking after the batch is the same.
        repeat = customer is not None and self._repeat_contact(ctx, customer)
        features = record.analysis
        if not isinstance(features, TextFeatures):  # not analyzed in a parse worker
            features = self.detector.features(*scored_text(record))
        result = decide(features, repeat_contact=repeat)
        ctx.message["emotion"] = result.emotion
        ctx.message["emotion_score"] = result.score
        ticket = ctx.ticket
        if latest and (ticket.emotion, ticket.emotion_score) != (result.emotion, result.score):
            ticket.emotion = result.emotion
            ticket.emotion_score = result.score
            ticket.dirty = True

    def _repeat_contact(self, ctx: HookContext, customer: int) -> bool:
        from deskterm.store.workflow import recent_contact

        at = ctx.record.sent_at
        # A customer with no stored messages when this run first met them (most of a
        # first import) has all their history in this run's memory: no query needed.
        last_in = last_out = None
        if self._history.get(customer, True):
            last_in, last_out = recent_contact(ctx.writer.conn, customer, at, REPEAT_WINDOW)
        seen = self._recent.get(customer, [])
        # Walk back from the newest contact before this message until one of each
        # direction is found or the window is left.
        found_in = found_out = False
        for when, direction in reversed(seen[: bisect.bisect_left(seen, (at, ""))]):
            if when < at - REPEAT_WINDOW or (found_in and found_out):
                break
            if direction == "inbound" and not found_in:
                found_in = True
                if last_in is None or when > last_in:
                    last_in = when
            elif direction == "outbound" and not found_out:
                found_out = True
                if last_out is None or when > last_out:
                    last_out = when
        if last_in is None or at - last_in < REPEAT_MIN_GAP:
            return False
        return last_out is None or last_out < last_in
