"""Changes to many tickets at once (marks in the console, ``tickets update``) as a few
set-based statements, with one event row per ticket per field.

An action first writes the tickets it selected into ``action_ticket`` (one
``INSERT … SELECT`` for a query, one batched insert for numbers), then, in chunks of
ticket numbers, logs the events (``INSERT INTO event … SELECT`` from the tickets whose
value differs), changes exactly the tickets it logged, bumps their version and
activity, and brings their SLA clocks up to date. Everything commits together. Every
event carries the action's id, so :mod:`deskterm.store.undo` can take it back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    case,
    delete,
    func,
    insert,
    intersect,
    literal,
    select,
    update,
)
from sqlmodel import Session

from deskterm.query import TicketFilter
from deskterm.store.base import Database
from deskterm.store.bulk_sql import AT, TT, E, T, add_tag, remove_tag, without_open_heard
from deskterm.store.changes import new_action_id
from deskterm.store.errors import InvalidValue
from deskterm.store.models import (
    Action,
    Customer,
    table_of,
)
from deskterm.store.queue import QueueQueries
from deskterm.store.sla_clock import SlaClock
from deskterm.store.types import UTCDateTime, utcnow
from deskterm.vocab import PRIORITIES, STATUSES

A = table_of(Action)  # (the other tables: bulk_sql, whose statements these are)

CHUNK = 5000  # tickets per round of statements (and per progress step)
INTERSECT_RATIO = 4  # see by_indexes
FIELDS = ("status", "priority", "queue", "assignee")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Selection:
    """Which tickets an action is for: numbers (with the version each was seen at, or
    ``None``), or every ticket matching ``query``. With ``marked_at``, tickets of the
    query that changed after that moment are conflicts rather than changed unseen."""

    numbers: dict[int, int | None] = field(default_factory=dict)
    query: TicketFilter | None = None
    marked_at: datetime | None = None


@dataclass(frozen=True)
class Changes:
    """What to change; ``assignee=""`` unassigns."""

    status: str | None = None
    priority: str | None = None
    queue: str | None = None
    assignee: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()

    def values(self) -> dict[str, str | None]:
        """The field values to set (``None`` for an unassigned assignee)."""
        wanted: dict[str, str | None] = {}
        if self.status is not None:
            if self.status not in STATUSES:
                raise InvalidValue(
                    f"Status must be one of {', '.join(STATUSES)}, not {self.status!r}."
                )
            wanted["status"] = self.status
        if self.priority is not None:
            if self.priority not in PRIORITIES:
                raise InvalidValue(
                    f"Priority must be one of {', '.join(PRIORITIES)}, not {self.priority!r}."
                )
            wanted["priority"] = self.priority
        if self.queue is not None:
            if not self.queue.strip():
                raise InvalidValue("A queue name cannot be empty.")
            wanted["queue"] = self.queue.strip()
        if self.assignee is not None:
            wanted["assignee"] = self.assignee.strip() or None
        return wanted

    def tags(self) -> tuple[list[str], list[str]]:
        add = sorted({t.strip().lower() for t in self.add_tags if t.strip()})
        remove = sorted({t.strip().lower() for t in self.remove_tags if t.strip()} - set(add))
        return add, remove

    def is_empty(self) -> bool:
        return not self.values() and not any(self.tags())

    def label(self) -> str:
        """``status → solved, +vip`` for confirmations and the undo message."""
        parts = [f"{k} → {v or 'nobody'}" for k, v in self.values().items()]
        add, remove = self.tags()
        parts += [f"+{t}" for t in add] + [f"-{t}" for t in remove]
        return ", ".join(parts)


@dataclass
class BulkResult:
    """What an action did: how many tickets it matched and changed, and the tickets it
    left alone because someone changed them first (number, why)."""

    action_id: str | None
    label: str
    matched: int = 0
    changed: int = 0
    events: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action_id,
            "label": self.label,
            "matched": self.matched,
            "changed": self.changed,
            "events": self.events,
            "dry_run": self.dry_run,
            "conflicts": [{"number": n, "reason": r} for n, r in self.conflicts],
        }


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back after counting."""


@dataclass
class _Clocks:
    """The SLA columns of one ticket, as the SLA policy's ``refresh`` reads them."""

    id: int
    status: str
    priority: str
    created_at: datetime
    first_response_at: datetime | None
    sla_first_response_due: datetime | None
    sla_resolution_due: datetime | None
    sla_next_due: datetime | None
    sla_warn_at: datetime | None
    sla_paused_at: datetime | None
    sla_paused_seconds: float
    customer_id: int | None


_SLA_COLUMNS = (
    "sla_first_response_due",
    "sla_resolution_due",
    "sla_next_due",
    "sla_warn_at",
    "sla_paused_at",
    "sla_paused_seconds",
)


def _chunks(ids: Sequence[int]) -> list[tuple[int, int]]:
    """(first, last) number of each chunk of the sorted ``ids``."""
    return [(ids[i], ids[min(i + CHUNK, len(ids)) - 1]) for i in range(0, len(ids), CHUNK)]


def in_action(action_id: str, lo: int, hi: int, kind: str | None = None) -> Any:
    """Ticket numbers of an action's events (of one ``kind``) within a chunk."""
    conds = [E.c.action_id == action_id, E.c.ticket_id.between(lo, hi)]
    if kind is not None:
        conds.append(E.c.kind == kind)
    return select(E.c.ticket_id).where(*conds)


def status_values(new: str, now: datetime) -> dict[str, Any]:
    """Solved/closed times and the reopen count, as SET expressions for a status change
    (the set-based twin of :func:`deskterm.store.changes.status_side_effects`)."""
    was_done = T.c.status.in_(("solved", "closed"))
    if new == "solved":
        return {"status": new, "solved_at": now}
    if new == "closed":
        return {"status": new, "closed_at": now, "solved_at": func.coalesce(T.c.solved_at, now)}
    return {
        "status": new,
        "reopen_count": T.c.reopen_count + case((was_done, 1), else_=0),
        "solved_at": case((was_done, None), else_=T.c.solved_at),
        "closed_at": case((was_done, None), else_=T.c.closed_at),
        "remind_at": None if new != "pending" else T.c.remind_at,
    }


def count_events(conn: Connection, action_id: str) -> tuple[int, int]:
    """(tickets, events) an action logged."""
    row = conn.execute(
        select(func.count(func.distinct(E.c.ticket_id)), func.count()).where(
            E.c.action_id == action_id
        )
    ).one()
    return int(row[0]), int(row[1])


def field_values(wanted: dict[str, str | None], now: datetime) -> dict[str, Any]:
    """SET expressions for the wanted fields, each guarded by "the old value differs"
    (exactly the tickets whose event was logged), so one UPDATE serves every field
    and the version bump; SET reads the row as it was before the statement."""
    values: dict[str, Any] = {}
    for name, value in wanted.items():
        differs = T.c[name].is_distinct_from(value)
        sets = status_values(str(value), now) if name == "status" else {name: value}
        for column, expr in sets.items():
            values[column] = case((differs, expr), else_=T.c[column])
    return values


def finish_chunk(
    conn: Connection,
    clock: SlaClock,
    action_id: str,
    lo: int,
    hi: int,
    now: datetime,
    wanted: dict[str, str | None] | None = None,
) -> None:
    """The wanted fields, version and activity of every ticket the action logged in
    the chunk (one UPDATE, so each index entry of a row moves once), the tag index's
    copy of the sort key, and the SLA clocks of status/priority changes. (The undo
    sets its fields itself, ticket by ticket's old value, and passes no ``wanted``.)"""
    touched = in_action(action_id, lo, hi)
    conn.execute(
        update(T)
        .where(T.c.id.in_(touched))
        .values(
            **field_values(wanted or {}, now),
            version=T.c.version + 1,
            updated_at=case((T.c.updated_at < now, now), else_=T.c.updated_at),
        )
    )
    activity = select(T.c.updated_at).where(T.c.id == TT.c.ticket_id).scalar_subquery()
    conn.execute(  # (tags added just now have it already: not rewritten)
        update(TT)
        .where(TT.c.ticket_id.in_(touched), TT.c.updated_at.is_distinct_from(activity))
        .values(updated_at=activity)
    )
    clocked = select(E.c.ticket_id).where(
        E.c.action_id == action_id,
        E.c.ticket_id.between(lo, hi),
        E.c.kind.in_(("status", "priority")),
    )
    refresh_clocks(conn, clock, clocked, now)


def refresh_clocks(conn: Connection, clock: SlaClock, ids: Any, now: datetime) -> None:
    """Recompute the SLA due times of the tickets ``ids`` selects; one batched UPDATE
    for those that moved."""
    names = [c for c in _Clocks.__dataclass_fields__ if c != "customer_id"]
    rows = conn.execute(
        select(*(T.c[n] for n in names), T.c.customer_id).where(T.c.id.in_(ids))
    ).all()
    if not rows:
        return
    policy = clock.policy
    tiers: dict[int, str] = {}
    if policy.uses_tiers:
        wanted = {r.customer_id for r in rows if r.customer_id is not None}
        customers = table_of(Customer)
        tiers = {
            row[0]: row[1]
            for row in conn.execute(
                select(customers.c.id, customers.c.tier).where(customers.c.id.in_(wanted))
            )
        }
    moved = []
    for row in rows:
        t = _Clocks(**row._mapping)
        if policy.refresh(t, tiers.get(t.customer_id or 0), now):
            moved.append({"_id": t.id, **{c: getattr(t, c) for c in _SLA_COLUMNS}})
    if moved:
        conn.execute(
            update(T)
            .where(T.c.id == bindparam("_id"))
            .values({c: bindparam(c, type_=T.c[c].type) for c in _SLA_COLUMNS}),
            moved,
        )


def by_indexes(conn: Connection, f: TicketFilter) -> Any | None:
    """With two or more field filters, the ticket numbers they select, read from the
    fields' indexes (which hold the number) so that only the selected ticket rows are
    read: the smallest field's walk, intersected with every other no more than
    ``INTERSECT_RATIO`` times its size (an index entry costs about a fifth of a row
    read). SQLite, without statistics, would otherwise walk whichever index it likes
    and read every row it names to test the rest: 80k rows for ``queue:accounts
    priority:urgent``'s 10k on the 1M store. The sizes are counts on the same indexes."""
    parts = [
        select(T.c.id).where(T.c[name].in_(values))
        for name in ("status", "priority", "queue", "channel")
        if (values := getattr(f, name))
    ]
    if len(parts) < 2:
        return None
    sized = sorted(
        ((conn.execute(select(func.count()).select_from(p.subquery())).scalar_one(), i, p)
         for i, p in enumerate(parts)),
        key=lambda t: (t[0], t[1]),
    )  # fmt: skip
    least = sized[0][0]
    chosen = [p for n, _, p in sized if n <= max(least, 1) * INTERSECT_RATIO]
    return intersect(*chosen) if len(chosen) > 1 else chosen[0]


class BulkOps:
    """Set-based changes to many tickets, each one undoable action."""

    def __init__(self, db: Database, clock: SlaClock, queue: QueueQueries) -> None:
        self.db = db
        self.clock = clock
        self.queue = queue

    def count(self, f: TicketFilter) -> int:
        """How many tickets "mark all" would mark (a count on an index; nothing loaded)."""
        if f.text:
            raise InvalidValue("Marking by words is not supported; use fields such as tag:.")
        return self.queue.count_tickets(f)

    def apply(
        self,
        selection: Selection,
        changes: Changes,
        actor: str,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        heard_required: bool = False,
    ) -> BulkResult:
        """Change the selected tickets; conflicts are listed in the result, never
        silently skipped. With ``dry_run`` everything is counted, then rolled back.
        With ``heard_required`` (the HEARD solve policy), tickets with HEARD steps open
        are not solved or closed but listed."""
        wanted = changes.values()
        add, remove = changes.tags()
        if not wanted and not add and not remove:
            raise InvalidValue(
                "Nothing to change: give a status, priority, queue, assignee or tag."
            )
        if selection.query is not None and selection.query.text:
            raise InvalidValue(
                "Bulk changes select tickets by fields, not by words; list the numbers "
                "with 'tickets list --ids' and pipe them in."
            )
        result = BulkResult(new_action_id(), changes.label(), dry_run=dry_run)
        try:
            with self.db.write_connection() as conn:
                heard = heard_required and wanted.get("status") in ("solved", "closed")
                self._run(conn, selection, wanted, add, remove, actor, result, progress, heard)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            result.action_id = None
        return result

    def _run(
        self,
        conn: Connection,
        selection: Selection,
        wanted: dict[str, str | None],
        add: list[str],
        remove: list[str],
        actor: str,
        result: BulkResult,
        progress: Progress | None,
        heard: bool,
    ) -> None:
        aid = result.action_id
        assert aid is not None
        now = utcnow()
        ids = self._select(conn, aid, selection, result)
        if heard:
            ids = without_open_heard(conn, aid, ids, result)
        result.matched = len(ids) + len(result.conflicts)
        at = literal(now, UTCDateTime)
        done = 0
        for lo, hi in _chunks(ids):
            members = select(AT.c.ticket_id).where(
                AT.c.action_id == aid, AT.c.ticket_id.between(lo, hi)
            )
            for name, value in wanted.items():
                column = T.c[name]
                conn.execute(
                    insert(E).from_select(
                        ["ticket_id", "kind", "old", "new", "actor", "at", "action_id"],
                        select(
                            T.c.id,
                            literal(name),
                            column,
                            literal(value),
                            literal(actor),
                            at,
                            literal(aid),
                        ).where(T.c.id.in_(members), column.is_distinct_from(value)),
                    )
                )
            for tag in add:
                add_tag(conn, aid, members, tag, actor, at)
            for tag in remove:
                remove_tag(conn, aid, members, lo, hi, tag, actor, at)
            finish_chunk(conn, self.clock, aid, lo, hi, now, wanted)
            done += min(CHUNK, len(ids) - done)
            if progress is not None:
                progress(done, len(ids))
        result.changed, result.events = count_events(conn, aid)
        conn.execute(delete(AT).where(AT.c.action_id == aid))
        if result.changed:
            conn.execute(
                insert(A).values(
                    id=aid, actor=actor, at=now, label=result.label, count=result.changed
                )
            )

    def _select(
        self, conn: Connection, aid: str, selection: Selection, result: BulkResult
    ) -> list[int]:
        """Fill ``action_ticket`` with the tickets to change; conflicts go to ``result``."""
        if selection.query is not None:
            candidates = by_indexes(conn, selection.query)
            with Session(bind=conn) as session:
                conds = self.queue.conditions(session, selection.query, walk=candidates is not None)
            if candidates is not None:
                conds.append(T.c.id.in_(candidates))
            fresh = list(conds)
            if selection.marked_at is not None:
                fresh.append(T.c.updated_at <= literal(selection.marked_at, UTCDateTime))
                changed = conn.execute(
                    select(T.c.id)
                    .where(*conds, T.c.updated_at > literal(selection.marked_at, UTCDateTime))
                    .order_by(T.c.id)
                ).scalars()
                result.conflicts += [(n, "changed since you marked it") for n in changed]
            conn.execute(
                insert(AT).from_select(
                    ["action_id", "ticket_id"], select(literal(aid), T.c.id).where(*fresh)
                )
            )
        if selection.numbers:
            conn.execute(
                insert(AT).from_select(
                    ["action_id", "ticket_id"],
                    select(literal(aid), T.c.id).where(
                        T.c.id == bindparam("n", type_=Integer),
                        T.c.version == func.coalesce(bindparam("v", type_=Integer), T.c.version),
                        ~select(AT.c.ticket_id)
                        .where(AT.c.action_id == aid, AT.c.ticket_id == T.c.id)
                        .exists(),
                    ),
                ),
                [{"n": n, "v": v} for n, v in selection.numbers.items()],
            )
        ids = list(
            conn.execute(
                select(AT.c.ticket_id).where(AT.c.action_id == aid).order_by(AT.c.ticket_id)
            ).scalars()
        )
        missing = sorted(set(selection.numbers) - set(ids))
        if missing:
            versions: dict[int, int] = dict(
                conn.execute(select(T.c.id, T.c.version).where(T.c.id.in_(missing))).all()
            )
            for n in missing:
                if n not in versions:
                    result.conflicts.append((n, "no such ticket"))
                else:
                    result.conflicts.append(
                        (
                            n,
                            f"changed since you saw it (version {selection.numbers[n]} → "
                            f"{versions[n]})",
                        )
                    )
        return ids
