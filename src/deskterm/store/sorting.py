"""Queue orders as keyset walks (PRODUCT.md §4: activity, created, priority, SLA due,
customer; and the Due list's reminder order).

An order is a list of *stages*. Each stage is one index range read by a seek, never a
sort of the table, and all of a stage's rows come before the next stage's. A cursor
is ``(stage, *key)``: the stage of the last row shown and that row's key there, the
ticket number last, so ties are broken and no row repeats or goes missing. Walking
backward (the console paging up) runs the same stages the other way round.

- ``activity``: newest activity first (the queue's own indexes: per-value branches,
  the tag index).
- ``created``: newest created first, on ``(created_at, id)``.
- ``priority``: urgent, high, normal, low; each by activity, on the priority index.
- ``sla``: the running clock due soonest first, so breached tickets (due in the past)
  lead, most overdue first; then tickets with no running clock, by activity.
- ``customer``: by customer name (ASCII case folded, code-point order on both
  databases), then customer, then ticket number; then tickets of nameless customers;
  then tickets without a customer.
- ``reminder``: snoozed tickets, soonest reminder first; then the rest by activity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, String, and_, literal, not_, or_, select, tuple_
from sqlmodel import Session, col

from deskterm.query import TicketFilter
from deskterm.store.dialect.order import name_key, unindexed
from deskterm.store.models import Customer, Ticket
from deskterm.store.queue_rows import ROW_COLUMNS, TicketRow, to_row
from deskterm.vocab import SORTS

Cursor = tuple[Any, ...]
"""``(stage, *key)``; callers treat it as opaque."""


class Pager(Protocol):
    """What the stages need from the queue queries."""

    def conditions(
        self, session: Session, f: TicketFilter, skip: str | None = None, *, walk: bool = False
    ) -> list[ColumnElement[bool]]: ...

    def few(self, session: Session, f: TicketFilter) -> bool: ...

    def activity_rows(
        self,
        session: Session,
        f: TicketFilter,
        extra: list[ColumnElement[bool]],
        cursor: Cursor | None,
        limit: int,
        *,
        newer: bool,
    ) -> list[TicketRow]: ...


def _any_row(_row: TicketRow) -> bool:
    return True


def _same(f: TicketFilter) -> TicketFilter | None:
    return f


@dataclass(frozen=True)
class Activity:
    """Rows by last activity, newest first, on the queue's activity indexes;
    ``narrow`` keeps one group of a filter (one priority) or ``None`` for none."""

    holds: Callable[[TicketRow], bool] = _any_row
    narrow: Callable[[TicketFilter], TicketFilter | None] = _same
    extra: tuple[ColumnElement[bool], ...] = ()
    descending: bool = True

    @staticmethod
    def key(row: TicketRow) -> Cursor:
        return (row.updated_at, row.number)

    def rows(
        self, pager: Pager, session: Session, f: TicketFilter, after: Cursor | None,
        limit: int, backward: bool,
    ) -> list[TicketRow]:  # fmt: skip
        narrowed = self.narrow(f)
        if narrowed is None:
            return []
        return pager.activity_rows(
            session, narrowed, list(self.extra), after, limit, newer=backward
        )


@dataclass(frozen=True)
class Seek:
    """Rows matching ``where`` in the order of ``keys`` (SQL expressions, the ticket
    number last), read from one index by a row-value seek. ``by_customer`` joins the
    customers and seeks their name index first (the ticket keys follow in a nested
    loop over each customer's tickets)."""

    keys: tuple[Any, ...]
    key: Callable[[TicketRow], Cursor]
    holds: Callable[[TicketRow], bool] = _any_row
    where: tuple[ColumnElement[bool], ...] = ()
    descending: bool = False
    by_customer: bool = False
    narrow: Callable[[TicketFilter], TicketFilter | None] = _same

    def bound(self, after: Cursor) -> list[Any]:
        """The cursor's values as SQL of the keys' types (a name through the same
        folding as the column)."""
        out: list[Any] = []
        for expr, value in zip(self.keys, after, strict=True):
            if isinstance(expr, name_key):
                out.append(name_key(literal(value, String())))
            else:
                out.append(literal(value, expr.type))
        return out

    def rows(
        self, pager: Pager, session: Session, f: TicketFilter, after: Cursor | None,
        limit: int, backward: bool,
    ) -> list[TicketRow]:  # fmt: skip
        narrowed = self.narrow(f)
        if narrowed is None:
            return []
        desc = self.descending != backward
        # A few snoozed tickets or one customer's: read them by their index and sort
        # them. Anything else: walk the sort's index, checking the filter on the way.
        few = pager.few(session, narrowed)
        keys = tuple(unindexed(k) for k in self.keys) if few else self.keys
        conds: list[ColumnElement[bool]] = []
        if after is not None:  # first: SQLite seeks on the first bound it is given
            bound = self.bound(after)
            if self.by_customer:  # the first key alone bounds the customer index seek
                conds.append(keys[0] <= bound[0] if desc else keys[0] >= bound[0])
            row, values = tuple_(*keys), tuple_(*bound)
            conds.append(row < values if desc else row > values)
        conds += [*pager.conditions(session, narrowed, walk=not few), *self.where]
        if self.by_customer:
            source = (
                select(*ROW_COLUMNS)
                .select_from(Customer)
                .join(Ticket, col(Ticket.customer_id) == Customer.id)
            )
        else:
            source = (
                select(*ROW_COLUMNS)
                .select_from(Ticket)
                .outerjoin(Customer, col(Customer.id) == Ticket.customer_id)
            )
        order = [key.desc() if desc else key.asc() for key in keys]
        stmt = source.where(*conds).order_by(*order).limit(limit)
        return [to_row(m) for m in session.connection().execute(stmt).mappings()]


Stage = Activity | Seek

PRIORITY_ORDER = ("urgent", "high", "normal", "low")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Snoozed: from the reminder index (a third of the tickets may be pending); a range,
# which SQLite's planner takes where it ignores the index for IS NOT NULL.
SNOOZED = and_(col(Ticket.remind_at) > EPOCH, unindexed(col(Ticket.status)) == "pending")


def is_snoozed(row: TicketRow) -> bool:
    return row.remind_at is not None and row.status == "pending"


def _priority_stage(priority: str) -> Activity:
    def narrow(f: TicketFilter) -> TicketFilter | None:
        if f.priority and priority not in f.priority:
            return None
        return replace(f, priority=(priority,))

    return Activity(holds=lambda row: row.priority == priority, narrow=narrow)


def _unless(flag: Callable[[TicketFilter], Any]) -> Callable[[TicketFilter], TicketFilter | None]:
    """Skip a stage the filter rules out (``sla:``, ``snoozed:`` take no rows there)."""
    return lambda f: None if flag(f) else f


_NAME = name_key(col(Customer.name))

ORDERS: dict[str, tuple[Stage, ...]] = {
    "activity": (Activity(),),
    "created": (
        Seek(
            (col(Ticket.created_at), col(Ticket.id)),
            lambda r: (r.created_at, r.number),
            descending=True,
        ),
    ),
    "priority": tuple(_priority_stage(p) for p in PRIORITY_ORDER),
    "sla": (
        Seek(
            (col(Ticket.sla_next_due), col(Ticket.id)),
            lambda r: (r.sla_next_due, r.number),
            holds=lambda r: r.sla_next_due is not None,
            where=(col(Ticket.sla_next_due).is_not(None),),
        ),
        Activity(  # by the activity index, not the (huge) IS NULL range of the due one
            extra=(unindexed(col(Ticket.sla_next_due)).is_(None),),
            narrow=_unless(lambda f: f.sla),
        ),
    ),
    "customer": (
        Seek(
            (_NAME, col(Customer.id), col(Ticket.id)),
            lambda r: (r.customer, r.customer_id, r.number),
            holds=lambda r: r.customer_id is not None and r.customer != "",
            where=(_NAME > "",),
            by_customer=True,
        ),
        Seek(
            (col(Customer.id), col(Ticket.id)),
            lambda r: (r.customer_id, r.number),
            holds=lambda r: r.customer_id is not None,
            where=(_NAME == "",),
            by_customer=True,
        ),
        Seek(
            (col(Ticket.id),),
            lambda r: (r.number,),
            where=(col(Ticket.customer_id).is_(None),),
        ),
    ),
    "reminder": (
        Seek(
            (col(Ticket.remind_at), col(Ticket.id)),
            lambda r: (r.remind_at, r.number),
            holds=is_snoozed,
            where=(SNOOZED,),
        ),
        Activity(
            extra=(or_(col(Ticket.remind_at).is_(None), not_(SNOOZED)),),  # NULL-safe NOT
            narrow=_unless(lambda f: f.snoozed),
        ),
    ),
}
assert set(ORDERS) == set(SORTS)


def stages_of(sort: str) -> tuple[Stage, ...]:
    """The stages of ``sort``; :class:`ValueError` naming the choices for another."""
    if sort not in ORDERS:
        raise ValueError(f"Sort by one of {', '.join(ORDERS)}, not {sort!r}.")
    return ORDERS[sort]


def cursor_of(row: TicketRow, sort: str, *, inclusive: bool = False) -> Cursor:
    """Where ``row`` stands in ``sort``: the cursor of the rows after it, or with
    ``inclusive`` of the rows from it on (its number nudged one step back)."""
    stages = stages_of(sort)
    index = next((i for i, s in enumerate(stages) if s.holds(row)), len(stages) - 1)
    key = stages[index].key(row)
    if inclusive:
        key = (*key[:-1], key[-1] + (1 if stages[index].descending else -1))
    return (index, *key)


def walk(
    pager: Pager, session: Session, f: TicketFilter, sort: str, cursor: Cursor | None,
    limit: int, *, backward: bool = False,
) -> tuple[list[TicketRow], Cursor | None]:  # fmt: skip
    """Up to ``limit`` rows past ``cursor`` in ``sort``'s order (``backward``: before
    it, nearest first), and the cursor of the last one."""
    stages = stages_of(sort)
    if cursor is None:
        first, at = (len(stages) - 1 if backward else 0), None
    else:
        first, at = int(cursor[0]), tuple(cursor[1:])
    rows: list[TicketRow] = []
    last: Cursor | None = None
    for index in range(first, -1, -1) if backward else range(first, len(stages)):
        stage = stages[index]
        got = stage.rows(pager, session, f, at if index == first else None,
                         limit - len(rows), backward)  # fmt: skip
        if got:
            rows.extend(got)
            last = (index, *stage.key(got[-1]))
        if len(rows) >= limit:
            break
    return rows, last
