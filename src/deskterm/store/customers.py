"""Customers: profiles and lists, tier changes, finding one by any identity, and merging
two customers who turn out to be one person.

A merge moves everything and deletes nothing: identities (and with them the
authorship of every message, which points at identities), tickets and customers
merged earlier into the source all move to the target; the source keeps its row,
with ``merged_into_id`` set, so old references still resolve. The target keeps its
own name and gains what it lacked (organization, tags, notes, the higher tier). One
``customer_merge`` event records it, and each moved ticket gets a ``customer`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.changes import load_customer, log_event, touch
from deskterm.store.dialect.search import LIKE_ESCAPE, contains
from deskterm.store.errors import Conflict, InvalidValue, NotFound
from deskterm.store.models import Customer, Identity, Ticket
from deskterm.store.satisfaction import Rated, customer_responses
from deskterm.store.sla_clock import SlaClock
from deskterm.store.tickets import to_jsonable
from deskterm.store.types import utcnow
from deskterm.vocab import OPEN_STATUSES

TIER_RANK = {"free": 0, "standard": 1, "premium": 2, "enterprise": 3}


@dataclass
class MergeResult:
    """What a merge moved, for the CLI summary and ``--json``."""

    source: int
    target: int
    identities: int
    tickets: int
    customers: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "merged": self.source,
            "into": self.target,
            "identities_moved": self.identities,
            "tickets_moved": self.tickets,
            "earlier_merges_moved": self.customers,
        }


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@dataclass
class CustomerProfile:
    """A customer with every identity and every ticket (newest first)."""

    customer: Customer
    identities: list[Identity]
    tickets: list[Ticket]
    ratings: list[Rated] = field(default_factory=list)  # newest first, maybe not all
    rating_count: int = 0

    @property
    def first_seen(self) -> Any:
        dates = [self.customer.created_at, *(t.created_at for t in self.tickets)]
        return min(dates)

    @property
    def last_csat(self) -> int | None:
        """The newest CSAT response, else the latest on the tickets listed."""
        rated = (r.score for r in self.ratings if r.kind == "csat")
        return next(rated, next((t.csat for t in self.tickets if t.csat is not None), None))

    def to_dict(self) -> dict[str, Any]:
        return {
            **to_jsonable(self.customer),
            "first_seen": to_jsonable(self.first_seen),
            "last_csat": self.last_csat,
            "satisfaction": [r.to_dict() for r in self.ratings],
            "satisfaction_count": self.rating_count,
            "identities": [
                {"kind": i.kind, "value": i.value, "display": i.display} for i in self.identities
            ],
            "tickets": [
                {
                    "number": t.id,
                    "subject": t.subject,
                    "status": t.status,
                    "priority": t.priority,
                    "channel": t.channel,
                    "created_at": to_jsonable(t.created_at),
                    "updated_at": to_jsonable(t.updated_at),
                    "csat": t.csat,
                }
                for t in self.tickets
            ],
        }


class Customers:
    """Customer lookups and changes shared by the CLI and the console."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock

    def get_customer(
        self, customer_id: int, ticket_limit: int = 500, rating_limit: int | None = None
    ) -> CustomerProfile:
        """A profile; merged customers resolve to the customer they were merged into.
        ``rating_limit`` caps the satisfaction responses listed (all by default)."""
        with self.db.read() as session:
            customer = session.get(Customer, customer_id)
            seen = set()
            while customer is not None and customer.merged_into_id and customer.id not in seen:
                seen.add(customer.id)
                customer = session.get(Customer, customer.merged_into_id)
            if customer is None:
                raise NotFound(f"There is no customer #{customer_id}.")
            identities = list(
                session.exec(
                    select(Identity)
                    .where(Identity.customer_id == customer.id)
                    .order_by(col(Identity.kind), col(Identity.id))
                ).all()
            )
            tickets = list(
                session.exec(
                    select(Ticket)
                    .where(Ticket.customer_id == customer.id)
                    .order_by(col(Ticket.updated_at).desc(), col(Ticket.id).desc())
                    .limit(ticket_limit)
                ).all()
            )
            ratings, rated = customer_responses(session, customer.id or 0, rating_limit)
        return CustomerProfile(customer, identities, tickets, ratings, rated)

    def list_customers(
        self, search: str = "", limit: int = 100, after_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Customers by id, optionally matching a name, organization or identity."""
        with self.db.read() as session:
            stmt = select(Customer.id, Customer.name, Customer.organization, Customer.tier).where(
                col(Customer.merged_into_id).is_(None)
            )
            if search:
                like, esc = contains(search.strip()), LIKE_ESCAPE
                stmt = stmt.where(
                    col(Customer.name).ilike(like, escape=esc)
                    | col(Customer.organization).ilike(like, escape=esc)
                    | col(Customer.id).in_(
                        select(Identity.customer_id).where(
                            col(Identity.value).ilike(like.lower(), escape=esc)
                        )
                    )
                )
            if after_id is not None:
                stmt = stmt.where(col(Customer.id) > after_id)
            rows = session.exec(stmt.order_by(col(Customer.id)).limit(limit)).all()
            ids = [r[0] for r in rows]
            counts: dict[int | None, int] = (
                dict(
                    session.exec(
                        select(Ticket.customer_id, func.count())
                        .where(col(Ticket.customer_id).in_(ids))
                        .group_by(col(Ticket.customer_id))
                    ).all()
                )
                if ids
                else {}
            )
            idents: dict[int | None, list[str]] = {}
            if ids:
                for cid, kind, value in session.exec(
                    select(Identity.customer_id, Identity.kind, Identity.value).where(
                        col(Identity.customer_id).in_(ids)
                    )
                ).all():
                    idents.setdefault(cid, []).append(f"{kind}:{value}")
        return [
            {
                "id": cid,
                "name": name,
                "organization": org,
                "tier": tier,
                "tickets": counts.get(cid, 0),
                "identities": idents.get(cid, []),
            }
            for cid, name, org, tier in rows
        ]

    def set_customer_tier(
        self, customer_id: int, tier: str, actor: str, expected_version: int | None = None
    ) -> Customer:
        """Change a customer's tier and recompute the SLA of their open tickets."""
        return self.update(customer_id, actor, tier=tier, expected_version=expected_version)

    def update(
        self,
        customer_id: int,
        actor: str,
        *,
        expected_version: int | None = None,
        tier: str | None = None,
        organization: str | None = None,
        notes: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Customer:
        """Edit a customer's tier, organization, notes or tags in one version-checked
        transaction, one event per field; a tier change moves the SLA clocks of their
        open tickets (through :meth:`set_customer_tier`)."""
        wanted: dict[str, str | None] = {}
        if tier is not None:
            if not tier.strip():
                raise InvalidValue("A tier cannot be empty.")
            wanted["tier"] = tier.strip().lower()
        if organization is not None:
            wanted["organization"] = organization.strip() or None
        if notes is not None:
            wanted["notes"] = notes.strip()
        if tags is not None:
            wanted["tags"] = ",".join(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
        with self.db.write() as session:
            customer = load_customer(session, customer_id, expected_version)
            now = utcnow()
            changed = [name for name, value in wanted.items() if getattr(customer, name) != value]
            for name in changed:
                old, new = getattr(customer, name), wanted[name]
                setattr(customer, name, new)
                shown = name != "notes"  # notes can be long: the event says they changed
                log_event(session, name if name == "tier" else f"customer_{name}", actor=actor,
                          customer_id=customer_id, old=old if shown else None,
                          new=new if shown else None, at=now)  # fmt: skip
            if not changed:
                return customer
            customer.updated_at = now
            customer.version += 1
            session.add(customer)
            session.flush()
            if "tier" in changed:
                tickets = session.exec(
                    select(Ticket).where(
                        Ticket.customer_id == customer_id, col(Ticket.status).in_(OPEN_STATUSES)
                    )
                ).all()
                for ticket in tickets:
                    if self.clock.policy.refresh(ticket, customer.tier, now):
                        touch(session, ticket, ticket.updated_at)
            return customer

    def merge_customers(self, source: int, target: int, actor: str) -> MergeResult:
        """Merge customer ``source`` into ``target`` in one transaction (see module doc)."""
        if source == target:
            raise InvalidValue("A customer cannot be merged into itself.")
        with self.db.write() as session:
            # Locked in id order: two opposite merges at once must not deadlock.
            locked = {i: load_customer(session, i, None) for i in sorted((source, target))}
            src, dst = locked[source], locked[target]
            src.version += 1
            dst.version += 1
            for number, customer in ((source, src), (target, dst)):
                if customer.merged_into_id is not None:
                    raise Conflict(
                        f"Customer #{number} was already merged into #{customer.merged_into_id}."
                    )
            assert src is not None and dst is not None
            now = utcnow()
            identities = session.exec(
                select(func.count()).select_from(Identity).where(Identity.customer_id == source)
            ).one()
            ticket_rows = session.exec(
                select(Ticket.id, Ticket.version).where(Ticket.customer_id == source)
            ).all()
            session.execute(
                update(Identity)
                .where(col(Identity.customer_id) == source)
                .values(customer_id=target)
            )
            session.execute(
                update(Ticket)
                .where(col(Ticket.customer_id) == source)
                .values(customer_id=target, version=Ticket.version + 1)
            )
            earlier = session.execute(
                update(Customer)
                .where(col(Customer.merged_into_id) == source)
                .values(merged_into_id=target, updated_at=now)
            ).rowcount  # type: ignore[attr-defined]
            self._absorb(dst, src)
            dst.updated_at = now
            src.merged_into_id = target
            src.updated_at = now
            session.add(dst)
            session.add(src)
            detail = {
                "source_name": src.name,
                "identities": identities,
                "tickets": [t for t, _ in ticket_rows],
            }
            log_event(
                session,
                "customer_merge",
                actor=actor,
                customer_id=target,
                old=source,
                new=target,
                detail=detail,
                at=now,
            )
            for ticket_id, _ in ticket_rows:
                log_event(
                    session,
                    "customer",
                    actor=actor,
                    ticket_id=ticket_id,
                    customer_id=target,
                    old=source,
                    new=target,
                    detail={"reason": "customer merge"},
                    at=now,
                )
        return MergeResult(source, target, identities, len(ticket_rows), int(earlier or 0))

    @staticmethod
    def _absorb(dst: Customer, src: Customer) -> None:
        """Fill in what the surviving customer lacks; keep what it has."""
        if not dst.organization and src.organization:
            dst.organization = src.organization
        tags = _tags(dst.tags)
        tags += [t for t in _tags(src.tags) if t not in tags]
        dst.tags = ",".join(tags)
        if src.notes.strip():
            header = f"(from customer #{src.id} {src.name}, merged)"
            dst.notes = f"{dst.notes.rstrip()}\n\n{header}\n{src.notes.strip()}".strip()
        if TIER_RANK.get(src.tier, 1) > TIER_RANK.get(dst.tier, 1):
            dst.tier = src.tier
        if src.created_at < dst.created_at:
            dst.created_at = src.created_at

    def find_customer(self, ref: str, also: Sequence[str] = (), *, follow: bool = True) -> int:
        """A customer id from ``12``, ``#12`` or an identity value (address, phone, id);
        ``also`` are other spellings to try (the caller's E.164 form of a phone).

        A merged customer resolves to the one it was merged into, unless ``follow`` is
        false (a merge names exactly the customers it is asked to).
        """
        text = ref.strip()
        with self.db.read() as session:
            if text.lstrip("#").isdigit():
                customer_id = int(text.lstrip("#"))
                if session.get(Customer, customer_id) is None:
                    raise NotFound(f"There is no customer #{customer_id}.")
            else:
                candidates = {text, text.lower(), *also}
                found = session.exec(
                    select(Identity.customer_id).where(col(Identity.value).in_(candidates))
                ).first()
                if found is None:
                    raise NotFound(f"No customer has the identity {text!r}.")
                customer_id = found
            seen: set[int] = set()
            while follow and customer_id not in seen:
                seen.add(customer_id)
                row = session.get(Customer, customer_id)
                if row is None or row.merged_into_id is None:
                    break
                customer_id = row.merged_into_id
        return customer_id
