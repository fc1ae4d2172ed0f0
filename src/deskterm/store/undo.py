"""Undo the last action (a bulk change or a single one) from the event log.

The action's events say what each ticket held before; undo writes those values back
with events of its own (grouped under a new action that ``undoes`` the first), set by
set: one statement per field and restored value. A ticket whose field no longer holds
the value the action gave it was changed by someone since; it is left as it is and
listed as a conflict.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, literal, select, update
from sqlmodel import Session

from deskterm.store.base import Database
from deskterm.store.bulk_ops import CHUNK, FIELDS, A, BulkResult, count_events, finish_chunk
from deskterm.store.bulk_sql import TT, E, T
from deskterm.store.changes import load_ticket, log_event, new_action_id
from deskterm.store.errors import NotFound
from deskterm.store.models import Message, TicketLink, TicketTag, table_of
from deskterm.store.sla_clock import SlaClock
from deskterm.store.types import UTCDateTime, utcnow

_COLUMNS = ["ticket_id", "kind", "old", "new", "actor", "at", "action_id"]


class UndoOps:
    """The last action of an agent, and taking it back."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock

    def last_action(self, actor: str) -> tuple[str, str, int] | None:
        """(id, label, ticket count) of ``actor``'s latest action not undone yet."""
        with self.db.read() as session:
            row = session.execute(
                select(A.c.id, A.c.label, A.c.count)
                .where(A.c.actor == actor, A.c.undone_by.is_(None), A.c.undoes.is_(None))
                .order_by(A.c.at.desc())
                .limit(1)
            ).first()
        return None if row is None else (row[0], row[1], row[2])

    def undo(self, actor: str) -> BulkResult:
        """Take back ``actor``'s last action: "Undid: status → solved on 37 tickets"."""
        last = self.last_action(actor)
        if last is None:
            raise NotFound("There is nothing to undo.")
        original, label, _count = last
        uid = new_action_id()
        result = BulkResult(uid, label)
        now = utcnow()
        with self.db.write_connection() as conn:
            claimed = conn.execute(
                update(A).where(A.c.id == original, A.c.undone_by.is_(None)).values(undone_by=uid)
            ).rowcount
            if not claimed:
                raise NotFound("That action was undone already.")
            kinds = set(
                conn.execute(select(E.c.kind).where(E.c.action_id == original).distinct()).scalars()
            )
            at = literal(now, UTCDateTime)
            for kind in sorted(kinds & set(FIELDS)):
                self._fields(conn, original, uid, kind, actor, at, now, result)
            if "tag_added" in kinds or "tag_removed" in kinds:
                self._tags(conn, original, uid, actor, at, result)
            if kinds & {"tags", "merge", "emotion_corrected"}:
                self._single(conn, original, uid, actor, now, result)
            ids = list(
                conn.execute(
                    select(E.c.ticket_id)
                    .where(E.c.action_id == uid)
                    .distinct()
                    .order_by(E.c.ticket_id)
                ).scalars()
            )
            for i in range(0, len(ids), CHUNK):
                lo, hi = ids[i], ids[min(i + CHUNK, len(ids)) - 1]
                finish_chunk(conn, self.clock, uid, lo, hi, now)
            result.changed, result.events = count_events(conn, uid)
            result.matched = result.changed + len(result.conflicts)
            conn.execute(
                insert(A).values(
                    id=uid,
                    actor=actor,
                    at=now,
                    label=f"undo {label}",
                    count=len(ids),
                    undoes=original,
                )
            )
        result.label = f"Undid: {label} on {result.changed:,} ticket" + (
            "" if result.changed == 1 else "s"
        )
        return result

    def _fields(
        self,
        conn: Connection,
        original: str,
        uid: str,
        kind: str,
        actor: str,
        at: Any,
        now: datetime,
        result: BulkResult,
    ) -> None:
        """Put one field back where it still holds what the action set."""
        column = T.c[kind]
        joined = and_(E.c.ticket_id == T.c.id, E.c.action_id == original, E.c.kind == kind)
        stale = conn.execute(
            select(E.c.ticket_id)
            .select_from(E.join(T, joined))
            .where(column.is_distinct_from(E.c.new))
            .order_by(E.c.ticket_id)
        ).scalars()
        result.conflicts += [(n, f"{kind} changed since") for n in stale]
        conn.execute(
            insert(E).from_select(
                _COLUMNS,
                select(E.c.ticket_id, E.c.kind, column, E.c.old, literal(actor), at, literal(uid))
                .select_from(E.join(T, joined))
                .where(column.is_not_distinct_from(E.c.new)),
            )
        )
        restored = conn.execute(
            select(E.c.new).where(E.c.action_id == uid, E.c.kind == kind).distinct()
        ).scalars()
        for value in list(restored):
            mine = select(E.c.ticket_id).where(
                E.c.action_id == uid, E.c.kind == kind, E.c.new.is_not_distinct_from(value)
            )
            values: dict[str, Any] = {kind: value}
            if kind == "status" and value != "pending":
                values["remind_at"] = None  # a snooze ends with its pending status
            if kind == "status" and value not in ("solved", "closed"):
                values |= {"solved_at": None, "closed_at": None}
            elif kind == "status" and value == "solved":
                values |= {"closed_at": None}
            conn.execute(update(T).where(T.c.id.in_(mine)).values(values))

    def _tags(
        self, conn: Connection, original: str, uid: str, actor: str, at: Any, result: BulkResult
    ) -> None:
        """Remove tags the action added and add back those it removed."""
        for kind, undo_kind, tag_col in (
            ("tag_added", "tag_removed", E.c.new),
            ("tag_removed", "tag_added", E.c.old),
        ):
            tags = list(
                conn.execute(
                    select(tag_col).where(E.c.action_id == original, E.c.kind == kind).distinct()
                ).scalars()
            )
            for tag in tags:
                of_action = select(E.c.ticket_id).where(
                    E.c.action_id == original, E.c.kind == kind, tag_col == tag
                )
                has = select(TT.c.ticket_id).where(TT.c.tag == tag)
                target = T.c.id.in_(has) if kind == "tag_added" else T.c.id.not_in(has)
                old, new = (literal(tag), literal(None)) if kind == "tag_added" else (
                    literal(None), literal(tag))  # fmt: skip
                conn.execute(
                    insert(E).from_select(
                        _COLUMNS,
                        select(
                            T.c.id, literal(undo_kind), old, new, literal(actor), at, literal(uid)
                        ).where(T.c.id.in_(of_action), target),
                    )
                )
                mine = select(E.c.ticket_id).where(
                    E.c.action_id == uid, E.c.kind == undo_kind,
                    (E.c.old if kind == "tag_added" else E.c.new) == tag,
                )  # fmt: skip
                if kind == "tag_added":
                    conn.execute(TT.delete().where(TT.c.tag == tag, TT.c.ticket_id.in_(mine)))
                else:
                    conn.execute(
                        insert(TT).from_select(
                            ["ticket_id", "tag", "updated_at"],
                            select(E.c.ticket_id, literal(tag), at).where(
                                E.c.action_id == uid, E.c.kind == "tag_added", E.c.new == tag
                            ),
                        )
                    )

    def _single(
        self, conn: Connection, original: str, uid: str, actor: str, now: datetime,
        result: BulkResult,
    ) -> None:  # fmt: skip
        """Tag replacements and merges: one ticket each, so row by row is fine."""
        with Session(bind=conn) as session:
            events = session.execute(
                select(E).where(E.c.action_id == original).order_by(E.c.id.desc())
            ).all()
            for ev in events:
                if ev.kind == "tags":
                    load_ticket(session, ev.ticket_id, None)
                    current = ",".join(
                        sorted(
                            session.execute(
                                select(TT.c.tag).where(TT.c.ticket_id == ev.ticket_id)
                            ).scalars()
                        )
                    )
                    if current != (ev.new or ""):
                        result.conflicts.append((ev.ticket_id, "tags changed since"))
                        continue
                    session.execute(TT.delete().where(TT.c.ticket_id == ev.ticket_id))
                    for tag in (ev.old or "").split(","):
                        if tag:
                            session.add(TicketTag(ticket_id=ev.ticket_id, tag=tag, updated_at=now))
                    log_event(session, "tags", actor=actor, ticket_id=ev.ticket_id,
                              old=current, new=ev.old or "", at=now, action_id=uid)  # fmt: skip
                elif ev.kind == "merge":
                    self._unmerge(session, ev, uid, actor, now, result)
                elif ev.kind == "emotion_corrected":
                    self._uncorrect(session, ev, uid, actor, now, result)
            session.flush()

    def _uncorrect(
        self, session: Session, ev: Any, uid: str, actor: str, now: datetime, result: BulkResult
    ) -> None:
        """Put back the emotion (and the model's strength) an agent's correction replaced,
        unless a newer estimate or correction came since."""
        ticket = load_ticket(session, ev.ticket_id, None)
        if ticket.emotion != ev.new:
            result.conflicts.append((ev.ticket_id, "emotion changed since"))
            return
        ticket.emotion = ev.old
        ticket.emotion_score = json.loads(ev.detail or "{}").get("old_score")
        session.add(ticket)
        log_event(session, "emotion_restored", actor=actor, ticket_id=ev.ticket_id,
                  old=ev.new, new=ev.old, at=now, action_id=uid)  # fmt: skip

    def _unmerge(
        self, session: Session, ev: Any, uid: str, actor: str, now: datetime, result: BulkResult
    ) -> None:
        """Move a merge's messages back to the source ticket and reopen the link."""
        source, target = int(ev.old), int(ev.new)
        src = load_ticket(session, source, None)
        dst = load_ticket(session, target, None)
        detail = json.loads(ev.detail or "{}")
        moved = detail.get("message_ids")
        if not moved:
            result.conflicts.append((source, "the merge did not record its messages"))
            return
        messages = table_of(Message)
        session.execute(
            update(messages)
            .where(messages.c.id.in_(moved), messages.c.ticket_id == target)
            .values(ticket_id=source)
        )
        count = session.execute(
            select(func.count()).where(messages.c.ticket_id == source)
        ).scalar_one()
        dst.message_count = max(dst.message_count - count, 0)
        src.message_count = count
        src.merged_into_id = None
        if "target_sla_missed" in detail:
            dst.sla_first_response_missed, dst.sla_resolution_missed = detail["target_sla_missed"]
        links = table_of(TicketLink)
        session.execute(
            links.delete().where(
                links.c.ticket_id == source, links.c.other_id == target, links.c.kind == "merged"
            )
        )
        for number in (source, target):  # both tickets changed: both get an event
            log_event(session, "unmerge", actor=actor, ticket_id=number, old=target,
                      new=source, detail={"messages": count}, at=now, action_id=uid)  # fmt: skip
