"""Customer reads: list, profile with identities and ticket history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from deskterm.store import dialect
from deskterm.store.base import StoreBase
from deskterm.store.errors import NotFound
from deskterm.store.models import Customer, Identity, Ticket
from deskterm.store.tickets import to_jsonable


@dataclass
class CustomerProfile:
    """A customer with every identity and every ticket (newest first)."""

    customer: Customer
    identities: list[Identity]
    tickets: list[Ticket]

    @property
    def first_seen(self) -> Any:
        dates = [self.customer.created_at, *(t.created_at for t in self.tickets)]
        return min(dates)

    @property
    def last_csat(self) -> int | None:
        return next((t.csat for t in self.tickets if t.csat is not None), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            **to_jsonable(self.customer),
            "first_seen": to_jsonable(self.first_seen),
            "last_csat": self.last_csat,
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


class CustomerQueries(StoreBase):
    """Customer lookups shared by the CLI and the console."""

    def get_customer(self, customer_id: int, ticket_limit: int = 500) -> CustomerProfile:
        """A profile; merged customers resolve to the customer they were merged into."""
        with self.read() as session:
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
        return CustomerProfile(customer, identities, tickets)

    def list_customers(
        self, search: str = "", limit: int = 100, after_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Customers by id, optionally matching a name, organization or identity."""
        with self.read() as session:
            stmt = select(Customer.id, Customer.name, Customer.organization, Customer.tier).where(
                col(Customer.merged_into_id).is_(None)
            )
            if search:
                like, esc = dialect.contains(search.strip()), dialect.LIKE_ESCAPE
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
