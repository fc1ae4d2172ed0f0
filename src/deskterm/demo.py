"""A realistic, deterministic sample store for trying deskterm and for benchmarks.

The same ``seed`` and ``anchor`` give the same store. Rows are generated and written
in batches, so a million tickets build in bounded memory: nothing but the current
batch is held, and customers are re-derived from their index when needed.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deskterm import demo_history as history
from deskterm.demo_data import (
    COMPANIES,
    FIRST,
    FREEMAIL,
    LAST,
    NOTE_TEXT,
    PRODUCTS,
    SUPPORT_ADDRESS,
    TAGS,
    TOPICS,
)
from deskterm.query import TicketFilter
from deskterm.store import Store
from deskterm.store.bulk import BulkWriter
from deskterm.store.models import (
    Customer,
    Event,
    HeardStep,
    Identity,
    Message,
    NoteVersion,
    Ticket,
    TicketTag,
)
from deskterm.vocab import OPEN_STATUSES

AGENTS = ("Ana Souza", "Ben Okafor", "Chen Wei", "Dana Levi", "Emil Novak")
QUEUES = ("general", "billing", "technical", "shipping", "accounts")
TIERS = (("free", 30), ("standard", 40), ("premium", 20), ("enterprise", 10))
STATUS_WEIGHTS = (
    ("new", 10), ("open", 22), ("pending", 14), ("on_hold", 5), ("solved", 29), ("closed", 20),
)  # fmt: skip
PRIORITY_WEIGHTS = (("low", 20), ("normal", 50), ("high", 22), ("urgent", 8))
CHANNEL_WEIGHTS = (
    ("email", 50), ("whatsapp", 20), ("slack", 14), ("telegram", 8), ("discord", 5), ("chat", 3),
)  # fmt: skip
EMOTIONS = (
    ("neutral", 40), ("frustration", 18), ("anxiety", 14), ("anger", 8),
    ("disappointment", 10), ("positive", 10),
)  # fmt: skip
ROOT_CAUSES = (
    "product defect", "billing", "process gap", "knowledge gap", "expectation mismatch",
    "third party", "user error", "other",
)  # fmt: skip


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


@dataclass(frozen=True)
class DemoCustomer:
    """A generated customer, derived from its index alone."""

    index: int
    name: str
    first_name: str
    email: str
    phone: str
    slack: str
    telegram: str
    organization: str | None
    tier: str


def demo_customer(seed: int, index: int) -> DemoCustomer:
    rng = random.Random(seed * 1_000_003 + index)
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.6:
        org, domain = rng.choice(COMPANIES)
    else:
        org, domain = None, rng.choice(FREEMAIL)
    local = f"{first}.{last}".lower().replace("'", "").replace("ü", "ue")
    return DemoCustomer(
        index=index,
        name=f"{first} {last}",
        first_name=first,
        email=f"{local}{index}@{domain}",
        phone=f"+1415{index % 10_000_000:07d}",
        slack=f"U{index:08X}",
        telegram=f"{100000000 + index}",
        organization=org,
        tier=_weighted(rng, TIERS),
    )


@dataclass
class DemoReport:
    tickets: int = 0
    messages: int = 0
    customers: int = 0
    events: int = 0
    seconds: float = 0.0


class DemoBuilder:
    """Writes a demo store of ``tickets`` tickets in batches."""

    def __init__(
        self,
        store: Store,
        *,
        tickets: int = 500,
        seed: int = 7,
        anchor: datetime | None = None,
        batch: int = 2000,
        progress: Callable[[DemoReport], None] | None = None,
        kb_folder: Path | None = None,
    ) -> None:
        self.store = store
        self.policy = history.policy_of(store)  # due times of the solved tickets
        self.kb_folder = kb_folder  # where the demo's articles go (none: no articles)
        self.tickets = tickets
        self.seed = seed
        self.anchor = (anchor or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        self.batch = batch
        self.progress = progress
        self.customers = max(40, tickets // 3)
        # Older tickets spread over more days so a big store still spans months.
        self.span_days = max(35.0, min(720.0, tickets / 400))
        self.report = DemoReport()

    def build(self) -> DemoReport:
        import time

        start = time.perf_counter()
        with self.store.bulk.bulk_load() as writer:
            customer_ids = self._customers(writer)
            for first in range(0, self.tickets, self.batch):
                count = min(self.batch, self.tickets - first)
                self._tickets(writer, customer_ids, first, count)
                writer.commit()
                if self.progress:
                    self.progress(self.report)
        # SLA clocks of the tickets still being worked, under the configured policy.
        self.store.sla.recompute_sla(TicketFilter(status=OPEN_STATUSES), batch=2000)
        if self.kb_folder is not None:
            from deskterm.kb.demo import write_demo_articles
            from deskterm.kb.folder import sync_folder

            write_demo_articles(self.kb_folder)
            sync_folder(self.store, self.kb_folder)
        self.report.seconds = time.perf_counter() - start
        return self.report

    def _customers(self, writer: BulkWriter) -> list[int]:
        """Insert every customer with identities; returns their ids by index."""
        ids: list[int] = []
        for first in range(0, self.customers, self.batch):
            people = [
                demo_customer(self.seed, i)
                for i in range(first, min(first + self.batch, self.customers))
            ]
            created = self.anchor - timedelta(days=self.span_days + 30)
            batch_ids = writer.insert_returning_ids(
                Customer,
                [
                    {
                        "name": p.name, "organization": p.organization, "tier": p.tier,
                        "tags": "vip" if p.tier == "enterprise" else "", "notes": "",
                        "created_at": created, "updated_at": created, "merged_into_id": None,
                    }
                    for p in people
                ],
            )  # fmt: skip
            identities = []
            for p, cid in zip(people, batch_ids, strict=True):
                identities.append(_identity(cid, "email", p.email, p.name, created))
                if p.index % 3 == 0:
                    identities.append(_identity(cid, "phone", p.phone, p.name, created))
                if p.index % 4 == 1:
                    identities.append(_identity(cid, "slack", p.slack, p.name, created))
                if p.index % 7 == 2:
                    identities.append(_identity(cid, "telegram", p.telegram, p.name, created))
            writer.insert(Identity, identities)
            ids.extend(batch_ids)
            self.report.customers += len(people)
        writer.commit()
        return ids

    def _tickets(self, writer: BulkWriter, customer_ids: list[int], first: int, count: int) -> None:
        plans = [self._plan(first + i, customer_ids) for i in range(count)]
        ticket_ids = writer.insert_returning_ids(Ticket, [p["ticket"] for p in plans])
        messages: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        heard: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for plan, tid in zip(plans, ticket_ids, strict=True):
            for m in plan["messages"]:
                messages.append(
                    {**m, "ticket_id": tid, "source_key": f"demo:{tid}:{m['source_key']}"}
                )
            updated = plan["ticket"]["updated_at"]
            tags.extend({"ticket_id": tid, "tag": t, "updated_at": updated} for t in plan["tags"])
            heard.extend({**h, "ticket_id": tid} for h in plan["heard"])
            notes.extend({**n, "ticket_id": tid} for n in plan["notes"])
            events.extend({**e, "ticket_id": tid} for e in plan["events"])
        writer.insert(Message, messages)
        writer.insert(TicketTag, tags)
        writer.insert(HeardStep, heard)
        writer.insert(NoteVersion, notes)
        writer.insert(Event, events)
        self.report.tickets += count
        self.report.messages += len(messages)
        self.report.events += len(events)

    def _plan(self, index: int, customer_ids: list[int]) -> dict[str, Any]:
        """Everything about ticket ``index``: row, messages, tags, HEARD, notes, events."""
        rng = random.Random(self.seed * 7_919 + index * 104_729)
        hist = history.stream(self.seed, index)
        cindex = int(len(customer_ids) * (rng.random() ** 1.6))  # some customers write a lot
        person = demo_customer(self.seed, cindex)
        topic = TOPICS[rng.randrange(len(TOPICS))]
        queue, subject_t, opener, reply, follow, resolution = topic
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        status = _weighted(rng, STATUS_WEIGHTS)
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        if person.tier == "enterprise" and priority == "normal" and rng.random() < 0.5:
            priority = "high"
        assignee = None if status == "new" or rng.random() < 0.12 else rng.choice(AGENTS)
        # Newer tickets are more likely open; ages grow with the index towards the past.
        age_days = (1 - index / max(1, self.tickets)) * self.span_days * rng.uniform(0.9, 1.0)
        if status in ("new", "open", "pending", "on_hold"):
            age_days = min(age_days, 0.05 + rng.expovariate(1 / 1.5))  # the live queue is recent
        created = self.anchor - timedelta(days=age_days, minutes=rng.randrange(0, 600))
        fill = {
            "order": f"ORD-{100000 + (index * 7919) % 900000}",
            "amount": f"${rng.randrange(9, 900)}.{rng.randrange(0, 99):02d}",
            "product": rng.choice(PRODUCTS),
            "name": person.first_name,
            "agent": assignee or AGENTS[0],
        }
        subject = subject_t.format(**fill)
        author = self._author(channel, person)
        turns = [("inbound", opener)]
        if status != "new":
            turns.append(("outbound", reply))
            if rng.random() < 0.7:
                turns.append(("inbound", follow))
        if status in ("solved", "closed"):
            turns.append(("outbound", resolution))
        gaps = [timedelta(minutes=rng.randrange(4, 60 * 30)) for _ in turns[1:]]
        tail = timedelta(minutes=rng.randrange(1, 120))
        turns, gaps = history.reshape(hist, turns, gaps, created, fill["agent"])
        # The whole conversation ends before the anchor: no activity in the future.
        # (shifted back by a random margin so clamped tickets do not share one timestamp).
        latest_start = self.anchor - sum(gaps, timedelta()) - tail
        created = min(created, latest_start - timedelta(seconds=rng.randrange(0, 36_000)))
        messages: list[dict[str, Any]] = []
        when = created
        first_response = None
        for n, (direction, text) in enumerate(turns):
            if n:
                when += gaps[n - 1]
            body = text.format(**fill)
            if channel == "email":
                body = self._email_body(body, direction, person, fill["agent"], n, messages)
            if direction == "outbound" and first_response is None:
                first_response = when
            mail = channel == "email"
            messages.append(
                {
                    "direction": direction,
                    "channel": channel,
                    "author_identity_id": None,
                    "author_name": person.name if direction == "inbound" else fill["agent"],
                    "author_address": author if direction == "inbound" else SUPPORT_ADDRESS,
                    "recipients": "",
                    "sent_at": when,
                    "date_source": "header",
                    "subject": (("Re: " if n else "") + subject) if mail else "",
                    "body": body,
                    "source_key": str(n),
                    "message_id": f"<demo-{index}-{n}@deskterm.example>" if mail else None,
                    "in_reply_to": f"<demo-{index}-{n - 1}@deskterm.example>"
                    if mail and n
                    else None,
                    "references": "",
                    "content_hash": "",
                    "raw_ref": None,
                    "delivered": True,
                    "emotion": None,
                    "emotion_score": None,
                    "created_at": when,
                }
            )
        updated = when + tail
        solved_at = updated if status in ("solved", "closed") else None
        emotion = _weighted(rng, EMOTIONS)
        tags = sorted(
            {t for t in TAGS if rng.random() < 0.07} | ({queue} if rng.random() < 0.3 else set())
        )
        if person.tier == "enterprise":
            tags = sorted(set(tags) | {"vip"})
        done = (
            0 if status == "new" else 5 if status in ("solved", "closed") else rng.randrange(0, 5)
        )
        heard = []
        events = [
            _event("created", "ingest", created, new=channel),
        ]
        if assignee:
            events.append(
                _event("assignee", "Ana Souza", created + timedelta(minutes=3), new=assignee)
            )
        cause = history.root_cause(hist, created, self.anchor, rng.choice(ROOT_CAUSES))
        steps = history.heard_steps(hist, fill["agent"], done)
        for k, step in enumerate(steps):
            at = created + timedelta(minutes=10 + 7 * k)
            heard.append(
                {
                    "step": step, "done": True, "actor": fill["agent"], "done_at": at, "note": "",
                    "category": cause if step == "D" else None,
                }
            )  # fmt: skip
            events.append(_event("heard", fill["agent"], at, old=step, new="done"))
        notes = []
        if done >= 4:
            text = NOTE_TEXT.format(resolution=resolution.format(**fill), cause=cause)
            notes.append({"version": 1, "body": text, "author": fill["agent"], "saved_at": updated})
            events.append(_event("note", fill["agent"], updated, old=0, new=1))
        if status != "new":
            events.append(_event("status", fill["agent"], updated, old="open", new=status))
        ticket: dict[str, Any] = {
            "subject": subject, "status": status, "priority": priority, "queue": queue,
            "assignee": assignee, "channel": channel, "customer_id": customer_ids[cindex],
            "conversation_key": None, "created_at": created, "updated_at": updated,
            "first_response_at": first_response, "solved_at": solved_at,
            "closed_at": updated if status == "closed" else None,
            "sla_first_response_due": None, "sla_resolution_due": None,
            "emotion": emotion, "emotion_score": round(rng.uniform(0.3, 0.95), 2),
            "reopen_count": 1 if rng.random() < 0.05 else 0, "message_count": len(messages),
            "csat": None, "ces": None, "nps": None, "merged_into_id": None, "parent_id": None,
            "root_cause": cause if "D" in steps else None, "version": 1,
        }  # fmt: skip
        policy = self.policy
        events += history.solved(hist, policy, ticket, person.tier, turns, self.anchor)
        return {
            "ticket": ticket, "messages": messages, "tags": tags, "heard": heard,
            "notes": notes, "events": events,
        }  # fmt: skip

    @staticmethod
    def _author(channel: str, person: DemoCustomer) -> str:
        return {
            "email": person.email,
            "whatsapp": person.phone,
            "slack": person.slack,
            "telegram": person.telegram,
        }.get(channel, person.email)

    @staticmethod
    def _email_body(
        body: str,
        direction: str,
        person: DemoCustomer,
        agent: str,
        n: int,
        previous: list[dict[str, Any]],
    ) -> str:
        if direction == "inbound":
            text = f"{body}\n\nBest regards,\n{person.name}"
            if person.organization:
                text += f"\n{person.organization}"
        else:
            text = f"{body}\n\nKind regards,\n{agent}\ndeskterm demo support"
        if previous:
            quoted = "\n".join("> " + line for line in previous[-1]["body"].splitlines())
            text += f"\n\nOn an earlier day, {previous[-1]['author_name']} wrote:\n{quoted}"
        return text


def _identity(cid: int, kind: str, value: str, name: str, at: datetime) -> dict[str, Any]:
    domain = value.rpartition("@")[2] if kind == "email" else None
    return {
        "customer_id": cid,
        "kind": kind,
        "value": value,
        "domain": domain,
        "display": name,
        "created_at": at,
    }


def _event(
    kind: str, actor: str, at: datetime, *, old: Any = None, new: Any = None
) -> dict[str, Any]:
    return {
        "customer_id": None, "kind": kind, "actor": actor, "at": at, "detail": None,
        "old": None if old is None else str(old), "new": None if new is None else str(new),
    }  # fmt: skip
