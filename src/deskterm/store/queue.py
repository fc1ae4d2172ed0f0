"""Queue queries: filtered pages by keyset in any order (:mod:`.sorting`), and counts.

Every page is an index range scan. A filter with several values (``status:new,open``)
runs one small ``ORDER BY … LIMIT`` per value, joined with ``UNION ALL`` and cut to
the page, so even "all open tickets of a million" costs a few index probes.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlmodel import Session, col

from deskterm.query import UNASSIGNED, TicketFilter, parse_text
from deskterm.store.base import Database
from deskterm.store.customer_filter import (
    UNION_MAX,
    customer_condition,
    customer_select,
    filter_customers,
)
from deskterm.store.dialect.order import unindexed
from deskterm.store.dialect.search import count_matches, search_message_ids
from deskterm.store.models import Customer, Message, Ticket, TicketTag, table_of
from deskterm.store.queue_rows import PAGE, ROW_COLUMNS, Page, TicketRow, to_row
from deskterm.store.sla_clock import SlaClock
from deskterm.store.sorting import SNOOZED, Cursor, cursor_of, walk

__all__ = ["PAGE", "Cursor", "Page", "QueueQueries", "TicketRow"]

_DISTINCT = {
    "queue": ("ticket", "queue"),
    "assignee": ("ticket", "assignee"),
    "tag": ("ticket_tag", "tag"),
}


class QueueQueries:
    """Read side of the queue: pages, counts, full-text hits and pick lists."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock

    # -- filter building -------------------------------------------------------------

    def conditions(
        self, session: Session, f: TicketFilter, skip: str | None = None, *, walk: bool = False
    ) -> list[ColumnElement[bool]]:
        """The WHERE conditions of a filter (``skip`` leaves one out for UNION paging);
        SLA changes and triage re-runs select their tickets with these too.

        ``walk``: the rows come from walking a sort's index (created, SLA due…), so
        SQLite must not drive the page from a filter column's index and sort what it
        finds (a status holds a third of the tickets); customer and tag filters, which
        are selective, keep theirs."""
        conds: list[ColumnElement[bool]] = []

        def column(c: Any) -> Any:
            return unindexed(col(c)) if walk else col(c)

        for name, field in (
            ("status", Ticket.status),
            ("priority", Ticket.priority),
            ("queue", Ticket.queue),
            ("channel", Ticket.channel),
        ):
            values = getattr(f, name)
            if values and name != skip:
                conds.append(column(field).in_(values))
        if f.assignee and skip != "assignee":
            named = [a for a in f.assignee if a != UNASSIGNED]
            parts: list[ColumnElement[bool]] = []
            if named:
                parts.append(column(Ticket.assignee).in_(named))
            if UNASSIGNED in f.assignee:
                parts.append(column(Ticket.assignee).is_(None))
            conds.append(or_(*parts))
        if (f.customer or f.customer_ids) and skip != "customer":
            conds.append(customer_condition(session, f))
        for n, tag in enumerate(f.tags[1:] if skip == "tags" else f.tags):
            other = table_of(TicketTag).alias(f"tag_{n}")
            conds.append(
                exists()
                .where(and_(other.c.ticket_id == Ticket.id, other.c.tag == tag))
                .correlate(Ticket)
            )
        conds.extend(self.clock.conditions(f, walk=walk))
        if f.snoozed:
            conds.append(SNOOZED)
        return conds

    @staticmethod
    def few(session: Session, f: TicketFilter) -> bool:
        """Whether the filter names few tickets by an index of their own (snoozed ones,
        a few customers'), so a page reads those and sorts them."""
        if f.snoozed:
            return True
        return bool(f.customer or f.customer_ids) and filter_customers(session, f)[0] is not None

    def _branches(self, session: Session, f: TicketFilter) -> tuple[str | None, list[Any]]:
        """Pick the filter whose values become UNION branches, and its values."""
        for name in ("status", "priority", "queue", "channel", "assignee"):
            values = getattr(f, name)
            if 1 < len(values) <= UNION_MAX:
                return name, list(values)
        if f.customer or f.customer_ids:
            ids = filter_customers(session, f)[0]
            if ids is not None and 1 < len(ids) <= UNION_MAX:
                return "customer", ids
        return None, []

    def _base(self, conds: Sequence[ColumnElement[bool]]) -> Select[Any]:
        return (
            select(*ROW_COLUMNS)
            .select_from(Ticket)
            .outerjoin(Customer, col(Customer.id) == Ticket.customer_id)
            .where(*conds)
        )

    # -- public queries ---------------------------------------------------------------

    def list_tickets(
        self,
        f: TicketFilter | None = None,
        after: Cursor | None = None,
        limit: int = PAGE,
        sort: str = "activity",
    ) -> Page:
        """One page of tickets in ``sort``'s order (see :mod:`deskterm.store.sorting`),
        after ``after`` (a page's ``next`` or :meth:`cursor`).

        With ``f.text`` the page comes from full-text search instead, newest matching
        message first whatever ``sort`` says; see :meth:`_search_tickets`.
        """
        f = f or TicketFilter()
        with self.db.read() as session:
            if f.text:
                hits, last = self._search_tickets(session, f, after, limit)
                return Page(hits, last)
            rows, nxt = walk(self, session, f, sort, after, limit)
        return Page(rows, nxt if len(rows) == limit else None)

    @staticmethod
    def cursor(row: TicketRow, sort: str = "activity", *, inclusive: bool = False) -> Cursor:
        """The cursor of the rows after ``row`` in ``sort`` (``inclusive``: from it on)."""
        return cursor_of(row, sort, inclusive=inclusive)

    def activity_rows(
        self,
        session: Session,
        f: TicketFilter,
        extra: list[ColumnElement[bool]],
        cursor: Cursor | None,
        limit: int,
        *,
        newer: bool,
    ) -> list[TicketRow]:
        """The activity walk for :mod:`deskterm.store.sorting`'s stages."""
        return self._page(session, f, cursor, limit, newer=newer, extra=extra)

    def _page(
        self,
        session: Session,
        f: TicketFilter,
        cursor: Cursor | None,
        limit: int,
        *,
        newer: bool = False,
        extra: Sequence[ColumnElement[bool]] = (),
    ) -> list[TicketRow]:
        """Up to ``limit`` rows past ``cursor`` by last activity: older ones, newest
        first (the queue's pages), or with ``newer`` the newer ones, oldest first (the
        console paging upwards). ``extra`` conditions narrow it (a sort's stage)."""
        # Snoozed tickets are few: read them from the reminder index and sort them,
        # rather than walk the whole activity index looking for them; with a few
        # customers, their index (not a status's or a priority's) drives the page.
        few = self.few(session, f)
        when, number = (
            (unindexed(col(Ticket.updated_at)), unindexed(col(Ticket.id)))
            if f.snoozed and not f.tags
            else (col(Ticket.updated_at), col(Ticket.id))
        )
        order = (when.asc(), number.asc()) if newer else (when.desc(), number.desc())

        def past(key: Any, at: Cursor) -> Any:
            return key > tuple_(*at) if newer else key < tuple_(*at)

        if f.tags:
            # Drive from the tag index, which carries the sort key.
            conds = [*self.conditions(session, f, skip="tags"), *extra]
            tag_key = tuple_(TicketTag.updated_at, TicketTag.ticket_id)
            stmt = (
                select(*ROW_COLUMNS)
                .select_from(TicketTag)
                .join(Ticket, col(Ticket.id) == TicketTag.ticket_id)
                .outerjoin(Customer, col(Customer.id) == Ticket.customer_id)
                .where(col(TicketTag.tag) == f.tags[0], *conds)
            )
            if cursor is not None:
                stmt = stmt.where(past(tag_key, cursor))
            tag_order = (
                (col(TicketTag.updated_at).asc(), col(TicketTag.ticket_id).asc())
                if newer
                else (col(TicketTag.updated_at).desc(), col(TicketTag.ticket_id).desc())
            )
            stmt = stmt.order_by(*tag_order).limit(limit)
            return [to_row(m) for m in self._rows(session, stmt)]
        keyset = [] if cursor is None else [past(tuple_(when, number), cursor)]
        branch, values = self._branches(session, f)
        if branch is None:
            conds = self.conditions(session, f, walk=few)
            stmt = self._base([*conds, *extra, *keyset]).order_by(*order)
            return [to_row(m) for m in self._rows(session, stmt.limit(limit))]
        conds = [*self.conditions(session, f, skip=branch), *extra, *keyset]
        column = {
            "status": col(Ticket.status),
            "priority": col(Ticket.priority),
            "queue": col(Ticket.queue),
            "channel": col(Ticket.channel),
            "assignee": col(Ticket.assignee),
            "customer": col(Ticket.customer_id),
        }[branch]
        # One small index-ordered query per value, merged here: cheaper than asking the
        # database to sort a UNION, and each statement stays simple enough to cache.
        runs = []
        for value in values:
            cond = (
                column.is_(None)
                if branch == "assignee" and value == UNASSIGNED
                else column == value
            )
            stmt = self._base([*conds, cond]).order_by(*order).limit(limit)
            runs.append([to_row(m) for m in self._rows(session, stmt)])
        merged = heapq.merge(*runs, key=lambda r: (r.updated_at, r.number), reverse=not newer)
        return list(itertools.islice(merged, limit))

    @staticmethod
    def _rows(session: Session, stmt: Select[Any]) -> Any:
        """Rows as mappings through Core (the ORM layer adds nothing for plain columns)."""
        return session.connection().execute(stmt).mappings()

    def watermark(self) -> tuple[Any, Any]:
        """(latest activity, highest ticket number): moves when a ticket is created or
        changed, so a console can tell "tickets changed" from other commits cheaply
        (two index lookups)."""
        with self.db.read() as session:
            row = session.execute(
                select(
                    select(func.max(col(Ticket.updated_at))).scalar_subquery(),
                    select(func.max(col(Ticket.id))).scalar_subquery(),
                )
            ).one()
        return row[0], row[1]

    def count_tickets(self, f: TicketFilter | None = None) -> int:
        """How many tickets match (without full-text words, which are not counted)."""
        f = f or TicketFilter()
        with self.db.read() as session:
            if f.tags:  # count from the tag index rather than probing every ticket
                conds = self.conditions(session, f, skip="tags")
                stmt = (
                    select(func.count())
                    .select_from(TicketTag)
                    .where(col(TicketTag.tag) == f.tags[0])
                )
                if conds:
                    stmt = stmt.join(Ticket, col(Ticket.id) == TicketTag.ticket_id).where(*conds)
            else:
                stmt = select(func.count()).select_from(Ticket).where(*self.conditions(session, f))
            return int(session.execute(stmt).scalar_one())

    def _search_tickets(
        self, session: Session, f: TicketFilter, before: Any, limit: int
    ) -> tuple[list[TicketRow], int | None]:
        """Tickets with a message matching ``f.text``, by newest matching message.

        The cursor is a message id. A ticket can match again on a later page through an
        older message; callers that page drop tickets they already show.
        """
        conn = session.connection()
        words = parse_text(f.text)
        conds = self.conditions(session, f)
        found: dict[int, TicketRow] = {}
        last_hit: int | None = None
        position = before if isinstance(before, int) else None
        chunk = max(limit * 4, 200)
        while len(found) < limit:
            ids = search_message_ids(conn, words, chunk, position)
            if not ids:
                last_hit = None
                break
            owners: dict[int, int] = dict(
                session.execute(
                    select(col(Message.id), col(Message.ticket_id)).where(col(Message.id).in_(ids))
                ).all()
            )
            wanted = {owners[i] for i in ids if i in owners} - found.keys()
            rows = {
                r.number: r
                for r in (
                    to_row(m)
                    for m in session.execute(
                        self._base([*conds, col(Ticket.id).in_(wanted)])
                    ).mappings()
                )
            }
            for mid in ids:
                ticket = owners.get(mid)
                if ticket in rows and ticket not in found:
                    found[ticket] = rows[ticket]
                    last_hit = mid
                    if len(found) == limit:
                        break
            position = ids[-1]
            if len(ids) < chunk:
                if len(found) < limit:
                    last_hit = None
                break
        return list(found.values()), last_hit

    def search_messages(
        self, query: str, limit: int = PAGE, before: int | None = None
    ) -> list[dict[str, Any]]:
        """Messages matching ``query``, newest first, with their ticket's number and subject.

        ``query`` is the full-text part of the query language; :class:`QueryError`
        for one it cannot read, as ``tickets list -q`` gives."""
        words = parse_text(query)
        with self.db.read() as session:
            ids = search_message_ids(session.connection(), words, limit, before)
            if not ids:
                return []
            stmt = (
                select(
                    col(Message.id),
                    col(Message.ticket_id),
                    col(Message.direction),
                    col(Message.channel),
                    col(Message.author_name),
                    col(Message.sent_at),
                    col(Message.subject),
                    func.substr(Message.body, 1, 240).label("excerpt"),
                    col(Ticket.subject).label("ticket_subject"),
                    col(Ticket.status),
                )
                .join(Ticket, col(Ticket.id) == Message.ticket_id)
                .where(col(Message.id).in_(ids))
            )
            by_id = {m["id"]: dict(m) for m in session.execute(stmt).mappings()}
        hits = []
        for mid in ids:
            if mid in by_id:
                hit = by_id[mid]
                hit["sent_at"] = hit["sent_at"].isoformat()
                hits.append(hit)
        return hits

    def count_search(self, query: str) -> int:
        """How many messages match ``query``."""
        words = parse_text(query)
        with self.db.read() as session:
            return count_matches(session.connection(), words)

    def list_tickets_before(
        self,
        f: TicketFilter | None = None,
        before: Cursor | None = None,
        limit: int = PAGE,
        sort: str = "activity",
    ) -> list[TicketRow]:
        """Up to ``limit`` tickets just before ``before`` in ``sort``'s order, in that
        order (the console paging upwards).

        With ``before=None`` this is the last page of the view. Full-text filters are
        not supported here (their order is by matching message).
        """
        f = f or TicketFilter()
        if f.text:
            raise ValueError("list_tickets_before does not page full-text results")
        with self.db.read() as session:
            rows, _ = walk(self, session, f, sort, before, limit, backward=True)
        return rows[::-1]

    def distinct_values(self, field: str, limit: int = 200) -> list[str]:
        """The distinct values of ``queue``, ``assignee`` or ``tag``, sorted.

        A recursive skip-scan: one index seek per distinct value, so it stays instant
        on a million tickets where ``SELECT DISTINCT`` would read the whole index.
        """
        table, column = _DISTINCT[field]
        sql = text(
            f"WITH RECURSIVE v(x, n) AS ("  # names come from _DISTINCT only
            f" SELECT (SELECT MIN({column}) FROM {table}), 1"
            f" UNION ALL"
            f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.x), n + 1"
            f" FROM v WHERE v.x IS NOT NULL AND n < :limit"
            f") SELECT x FROM v WHERE x IS NOT NULL"
        )
        with self.db.read() as session:
            return [str(x) for x in session.execute(sql, {"limit": limit}).scalars()]

    def tags_of(self, numbers: Sequence[int]) -> dict[int, list[str]]:
        """The tags of these tickets, sorted (one query for a whole page)."""
        if not numbers:
            return {}
        found: dict[int, list[str]] = {}
        with self.db.read() as session:
            stmt = (
                select(col(TicketTag.ticket_id), col(TicketTag.tag))
                .where(col(TicketTag.ticket_id).in_(list(numbers)))
                .order_by(col(TicketTag.ticket_id), col(TicketTag.tag))
            )
            for number, tag in session.execute(stmt):
                found.setdefault(number, []).append(tag)
        return found

    def matching_customers(self, ref: str, limit: int = 6) -> list[tuple[int, str]]:
        """(id, name) of the unmerged customers ``customer:REF`` matches (id, address,
        domain, phone or part of a name), by id, so a face can name one customer the
        way the queue filter does."""
        with self.db.read() as session:
            stmt = (
                select(col(Customer.id), col(Customer.name))
                .where(col(Customer.id).in_(customer_select([ref])))
                .where(col(Customer.merged_into_id).is_(None))
                .order_by(col(Customer.id))
                .limit(limit)
            )
            return [(cid, name) for cid, name in session.execute(stmt)]
