"""Which customers a queue filter's ``from:``/``customer:`` values name.

A question of its own, apart from the queue's paging: an id, address, domain, phone or
name becomes a subquery, and how many customers it matches decides how the queue scans
(a few: one index probe each; many: a membership test).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlmodel import Session, col

from deskterm.query import TicketFilter
from deskterm.store.dialect.search import LIKE_ESCAPE, contains
from deskterm.store.models import Customer, Identity, Ticket

# Above this many values a plain IN is cheaper than one probe each; up to this many
# matching customers are listed by id so that the queue can probe each.
UNION_MAX = 16


def customer_select(needles: Sequence[str]) -> Any:
    """Ids of customers matching ``from:``/``customer:`` values (id, address, domain,
    phone or name), as a subquery the database evaluates once. Identities are
    matched on their own indexes, without touching the customer table."""
    parts: list[Any] = []
    for raw in needles:
        needle = raw.strip().lower()
        by_identity: ColumnElement[bool] | None = None
        if needle.startswith("#") and needle[1:].isdigit():
            parts.append(select(col(Customer.id)).where(col(Customer.id) == int(needle[1:])))
        elif "@" in needle.strip("@"):
            by_identity = and_(col(Identity.kind) == "email", col(Identity.value) == needle)
        elif "." in needle and " " not in needle:
            by_identity = col(Identity.domain) == needle.lstrip("@")
        elif needle.lstrip("+").replace(" ", "").isdigit():
            phone = "+" + needle.lstrip("+").replace(" ", "")
            by_identity = and_(col(Identity.kind) == "phone", col(Identity.value) == phone)
        else:
            like = contains(raw.strip())
            parts.append(
                select(col(Customer.id)).where(
                    or_(
                        col(Customer.name).ilike(like, escape=LIKE_ESCAPE),
                        col(Customer.organization).ilike(like, escape=LIKE_ESCAPE),
                    )
                )
            )
        if by_identity is not None:
            parts.append(select(col(Identity.customer_id)).where(by_identity))
    if not parts:
        return select(col(Customer.id)).where(false())
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:])


def filter_customers(session: Session, f: TicketFilter) -> tuple[list[int] | None, Any, int]:
    """(ids when few, the id subquery, how many) for the filter's customers; memoized
    per session because paging asks several times."""
    memo = session.info.setdefault("customers", {})
    key = (f.customer, f.customer_ids)
    if key not in memo:
        if f.customer_ids:
            ids: list[int] | None = list(f.customer_ids)
            memo[key] = (ids, None, len(f.customer_ids))
        else:
            sel = customer_select(f.customer)
            few = list(session.execute(sel.limit(UNION_MAX + 1)).scalars())
            if len(few) <= UNION_MAX:
                memo[key] = (few, sel, len(few))
            else:
                count = select(func.count()).select_from(sel.subquery())
                memo[key] = (None, sel, int(session.execute(count).scalar_one()))
    result: tuple[list[int] | None, Any, int] = memo[key]
    return result


def customer_condition(session: Session, f: TicketFilter) -> ColumnElement[bool]:
    """Tickets of the filter's customers.

    A few customers: their index, then a small sort. Many (a big domain such as
    ``from:acme.com``): walk the activity index and test membership instead — the
    ``+ 0`` hides the customer index from the planner, which would otherwise sort
    every ticket of thousands of customers to show fifty.
    """
    ids, sel, count = filter_customers(session, f)
    if ids is not None:
        return col(Ticket.customer_id).in_(ids) if ids else false()
    highest = session.execute(select(func.max(col(Customer.id)))).scalar() or 1
    if count > highest * 0.01:
        return (col(Ticket.customer_id) + 0).in_(sel)
    return col(Ticket.customer_id).in_(sel)
