"""Service-workflow changes: replies, drafts, merge, escalate, links, triage results.

Like every service function, each change commits together with its event-log rows
and keeps the SLA clocks current (:class:`~deskterm.store.sla_clock.SlaClock`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from deskterm.query import TicketFilter
from deskterm.store.base import Database
from deskterm.store.changes import (
    add_note_message,
    load_pair,
    load_ticket,
    log_event,
    new_action_id,
    record_action,
    status_side_effects,
    touch,
)
from deskterm.store.errors import Conflict, InvalidValue
from deskterm.store.models import (
    Customer,
    Message,
    Ticket,
    TicketLink,
    TicketTag,
    table_of,
)
from deskterm.store.queue import QueueQueries
from deskterm.store.sla_clock import SlaClock, missed_targets
from deskterm.store.types import utcnow
from deskterm.vocab import PRIORITIES

LINK_KINDS = ("related", "followup", "merged")


@dataclass
class TicketChanges:
    """What triage decided for one ticket, and why (one reason per applied rule)."""

    number: int
    queue: str | None = None
    priority: str | None = None
    assignee: str | None = None
    add_tags: set[str] = field(default_factory=set)
    rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TriageInput:
    """A ticket as triage re-runs see it: its state, tier, tags and inbound messages."""

    ticket: Ticket
    tier: str | None
    tags: list[str]
    messages: list[Message]


_MESSAGE = table_of(Message)
_TICKET = table_of(Ticket)
_CUSTOMER_MESSAGES = _MESSAGE.join(_TICKET, _TICKET.c.id == _MESSAGE.c.ticket_id)
# Built once: ingest asks for every inbound message, and building a statement costs
# more than running it.
_RECENT_CONTACT = (
    sa_select(_MESSAGE.c.direction, func.max(_MESSAGE.c.sent_at))
    .select_from(_CUSTOMER_MESSAGES)
    .where(
        _TICKET.c.customer_id == bindparam("customer"),
        _MESSAGE.c.sent_at >= bindparam("since", type_=_MESSAGE.c.sent_at.type),
        _MESSAGE.c.sent_at < bindparam("before", type_=_MESSAGE.c.sent_at.type),
        _MESSAGE.c.direction.in_(("inbound", "outbound")),
    )
    .group_by(_MESSAGE.c.direction)
)
_HAS_MESSAGES = (
    sa_select(_MESSAGE.c.id)
    .select_from(_CUSTOMER_MESSAGES)
    .where(_TICKET.c.customer_id == bindparam("customer"))
    .limit(1)
)


def recent_contact(
    conn: Connection, customer_id: int, before: datetime, window: timedelta
) -> tuple[datetime | None, datetime | None]:
    """(latest inbound, latest outbound) message time of a customer's tickets in
    ``[before - window, before)``, for the repeat-contact signal at ingest."""
    rows = conn.execute(
        _RECENT_CONTACT, {"customer": customer_id, "since": before - window, "before": before}
    )
    found: dict[str, datetime] = {row[0]: row[1] for row in rows}
    return found.get("inbound"), found.get("outbound")


def customer_has_messages(conn: Connection, customer_id: int) -> bool:
    """Whether any stored message belongs to one of the customer's tickets."""
    return conn.execute(_HAS_MESSAGES, {"customer": customer_id}).first() is not None


def _log_on_both(
    session: Session, event: str, first: Ticket, second: Ticket, actor: str, kind: str
) -> None:
    """A link or unlink is logged on both tickets, naming the other one (as the new
    value of a link, the old value of an unlink)."""
    now = utcnow()
    for ticket, other in ((first, second.id), (second, first.id)):
        touch(session, ticket, ticket.updated_at)
        value: dict[str, Any] = {"new": other} if event == "link" else {"old": other}
        log_event(
            session, event, actor=actor, ticket_id=ticket.id, detail={"kind": kind}, at=now, **value
        )


class WorkflowOps:
    """Replies, drafts and ticket operations for the CLI and the console."""

    def __init__(self, db: Database, clock: SlaClock, queue: QueueQueries) -> None:
        self.db = db
        self.clock = clock
        self.queue = queue

    # -- merge, escalate, link ------------------------------------------------------------

    def merge_tickets(
        self,
        source: int,
        target: int,
        actor: str,
        *,
        note: str = "",
        expected_version: int | None = None,
    ) -> Ticket:
        """Merge ``source`` into ``target``: its messages (with attachments) and tags move,
        it is closed and points at ``target`` through ``merged_into_id`` and a link.
        ``expected_version`` is the source's version as the agent saw it."""
        if source == target:
            raise InvalidValue("A ticket cannot be merged into itself.")
        with self.db.write() as session:
            src, dst = load_pair(session, source, target, (expected_version, None))
            for t in (src, dst):
                if t.merged_into_id is not None:
                    raise Conflict(f"Ticket #{t.id} was already merged into #{t.merged_into_id}.")
            now = utcnow()
            # A target either ticket missed stays missed (checked before anything moves).
            was = (dst.sla_first_response_missed, dst.sla_resolution_missed)
            pairs = zip(missed_targets(src, now), missed_targets(dst, now), strict=True)
            missed = [a or b for a, b in pairs]
            dst.sla_first_response_missed, dst.sla_resolution_missed = missed
            moved_ids = list(session.exec(select(Message.id).where(Message.ticket_id == source)))
            moved = len(moved_ids)
            aid = new_action_id()
            session.execute(
                update(Message).where(col(Message.ticket_id) == source).values(ticket_id=target)
            )
            src_tags = set(
                session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == source)).all()
            )
            dst_tags = set(
                session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == target)).all()
            )
            dst.message_count += src.message_count
            src.message_count = 0
            if dst.customer_id is None:
                dst.customer_id = src.customer_id
            if src.first_response_at is not None and src.first_response_at >= dst.created_at:
                dst.first_response_at = min(
                    dst.first_response_at or src.first_response_at, src.first_response_at
                )
            latest = session.exec(
                select(Message)
                .where(
                    Message.ticket_id == target,
                    Message.direction == "inbound",
                    col(Message.emotion).is_not(None),
                )
                .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
                .limit(1)
            ).first()
            if latest is not None:
                dst.emotion, dst.emotion_score = latest.emotion, latest.emotion_score
            touch(session, dst, max(now, src.updated_at))
            for tag in sorted(src_tags - dst_tags):
                session.add(TicketTag(ticket_id=target, tag=tag, updated_at=dst.updated_at))
            old_status = src.status
            src.merged_into_id = target
            if old_status != "closed":
                src.status = "closed"
                status_side_effects(src, old_status, "closed", now)
            touch(session, src, now)
            self._add_link(session, source, target, "merged")
            detail: dict[str, Any] = {
                "messages": moved,
                "message_ids": moved_ids,
                "target_sla_missed": list(was),  # for undo
            }
            if note:
                detail["note"] = note
            record_action(session, aid, actor, f"merge #{source} into #{target}", now)
            log_event(
                session,
                "merge",
                actor=actor,
                ticket_id=source,
                old=source,
                new=target,
                detail=detail,
                at=now,
                action_id=aid,
            )
            if old_status != "closed":
                log_event(
                    session,
                    "status",
                    actor=actor,
                    ticket_id=source,
                    old=old_status,
                    new="closed",
                    detail={"merged_into": target},
                    at=now,
                    action_id=aid,
                )
            log_event(
                session,
                "merge_in",
                actor=actor,
                ticket_id=target,
                old=source,
                new=target,
                detail=detail,
                at=now,
                action_id=aid,
            )
            if src_tags - dst_tags:
                log_event(
                    session,
                    "tags",
                    actor=actor,
                    ticket_id=target,
                    old=",".join(sorted(dst_tags)),
                    new=",".join(sorted(src_tags | dst_tags)),
                    detail={"merged_from": source},
                    at=now,
                    action_id=aid,
                )
            self.clock.apply(session, src, now)
            self.clock.apply(session, dst, now)
            return dst

    def escalate(
        self,
        number: int,
        note: str,
        actor: str,
        *,
        queue: str | None = None,
        priority: str | None = None,
        expected_version: int | None = None,
    ) -> Ticket:
        """Move a ticket to another queue and/or priority; the note saying why is required
        and is kept as an internal note in the conversation."""
        note = note.strip()
        if not note:
            raise InvalidValue("An escalation needs a note saying why.")
        queue = queue.strip() if queue is not None else None
        if not queue and not priority:
            raise InvalidValue("Escalate to a queue, a priority or both.")
        if priority is not None and priority not in PRIORITIES:
            raise InvalidValue(
                f"Priority must be one of {', '.join(PRIORITIES)}, not {priority!r}."
            )
        with self.db.write() as session:
            ticket = load_ticket(session, number, expected_version)
            now = utcnow()
            changes: dict[str, list[Any]] = {}
            for name, value in (("queue", queue), ("priority", priority)):
                if value and getattr(ticket, name) != value:
                    changes[name] = [getattr(ticket, name), value]
                    setattr(ticket, name, value)
            if not changes:
                raise InvalidValue(f"Ticket #{number} is already there.")
            for name, (old, new) in changes.items():
                log_event(
                    session,
                    name,
                    actor=actor,
                    ticket_id=number,
                    old=old,
                    new=new,
                    detail={"escalation": True},
                    at=now,
                )
            where = ", ".join(f"{name} {new}" for name, (_, new) in changes.items())
            msg = add_note_message(
                session, ticket, number, f"Escalated to {where}: {note}", actor, now
            )
            log_event(
                session,
                "escalate",
                actor=actor,
                ticket_id=number,
                new=where,
                detail={"note": note, "changes": changes, "message": msg.id},
                at=now,
            )
            self.clock.apply(session, ticket, now)
            return ticket

    def _linked(self, session: Session, a: int, b: int, kind: str) -> bool:
        return (
            session.exec(
                select(TicketLink).where(
                    TicketLink.kind == kind,
                    or_(
                        and_(col(TicketLink.ticket_id) == a, col(TicketLink.other_id) == b),
                        and_(col(TicketLink.ticket_id) == b, col(TicketLink.other_id) == a),
                    ),
                )
            ).first()
            is not None
        )

    def _add_link(self, session: Session, a: int, b: int, kind: str) -> bool:
        if self._linked(session, a, b, kind):
            return False
        session.add(TicketLink(ticket_id=a, other_id=b, kind=kind))
        return True

    def link_tickets(self, a: int, b: int, actor: str, kind: str = "related") -> bool:
        """Record that two tickets are related; returns False if they already were."""
        if a == b:
            raise InvalidValue("A ticket cannot be linked to itself.")
        if kind not in LINK_KINDS:
            raise InvalidValue(f"Link kind must be one of {', '.join(LINK_KINDS)}.")
        with self.db.write() as session:
            first, second = load_pair(session, a, b)
            if not self._add_link(session, a, b, kind):
                return False
            _log_on_both(session, "link", first, second, actor, kind)
            return True

    def unlink_tickets(self, a: int, b: int, actor: str, kind: str = "related") -> bool:
        """Remove a link; returns False if there was none."""
        with self.db.write() as session:
            first, second = load_pair(session, a, b)
            links = delete(TicketLink).where(
                col(TicketLink.kind) == kind,
                or_(
                    and_(col(TicketLink.ticket_id) == a, col(TicketLink.other_id) == b),
                    and_(col(TicketLink.ticket_id) == b, col(TicketLink.other_id) == a),
                ),
            )
            if not self._linked(session, a, b, kind):
                return False
            session.execute(links)
            _log_on_both(session, "unlink", first, second, actor, kind)
            return True

    # -- triage ---------------------------------------------------------------------------

    def triage_inputs(
        self, f: TicketFilter | None, after_id: int = 0, limit: int = 200
    ) -> list[TriageInput]:
        """A batch of tickets matching ``f`` with id above ``after_id`` (ascending), with
        what rules look at."""
        f = f or TicketFilter()
        with self.db.read() as session:
            conds = self.queue.conditions(session, f)
            tickets = list(
                session.exec(
                    select(Ticket)
                    .where(col(Ticket.id) > after_id, col(Ticket.merged_into_id).is_(None), *conds)
                    .order_by(col(Ticket.id))
                    .limit(limit)
                ).all()
            )
            ids = [t.id for t in tickets]
            if not ids:
                return []
            tiers = dict(
                session.exec(
                    select(Customer.id, Customer.tier).where(
                        col(Customer.id).in_({t.customer_id for t in tickets if t.customer_id})
                    )
                ).all()
            )
            tags: dict[int, list[str]] = {}
            for tid, tag in session.exec(
                select(TicketTag.ticket_id, TicketTag.tag)
                .where(col(TicketTag.ticket_id).in_(ids))
                .order_by(col(TicketTag.tag))
            ).all():
                tags.setdefault(tid, []).append(tag)
            messages: dict[int, list[Message]] = {}
            for msg in session.exec(
                select(Message)
                .where(col(Message.ticket_id).in_(ids), Message.direction == "inbound")
                .order_by(col(Message.sent_at), col(Message.id))
            ).all():
                messages.setdefault(msg.ticket_id, []).append(msg)
        return [
            TriageInput(
                t, tiers.get(t.customer_id), tags.get(t.id or 0, []), messages.get(t.id or 0, [])
            )
            for t in tickets
        ]

    def apply_ticket_changes(self, changes: Sequence[TicketChanges], actor: str) -> int:
        """Write triage results: field changes with their events, plus one ``rule`` event
        per applied rule. Returns how many tickets changed."""
        changed = 0
        with self.db.write() as session:
            now = utcnow()
            for change in changes:
                ticket = load_ticket(session, change.number, None)
                fields: dict[str, list[Any]] = {}
                for name in ("queue", "priority", "assignee"):
                    value = getattr(change, name)
                    if value is not None and getattr(ticket, name) != value:
                        fields[name] = [getattr(ticket, name), value]
                        setattr(ticket, name, value)
                current = set(
                    session.exec(
                        select(TicketTag.tag).where(TicketTag.ticket_id == change.number)
                    ).all()
                )
                new_tags = {t.lower() for t in change.add_tags} - current
                for rule in change.rules:
                    log_event(
                        session,
                        "rule",
                        actor=actor,
                        ticket_id=change.number,
                        new=rule.get("rule"),
                        detail=rule,
                        at=now,
                    )
                if not fields and not new_tags:
                    continue
                changed += 1
                for name, (old, new) in fields.items():
                    log_event(
                        session,
                        name,
                        actor=actor,
                        ticket_id=change.number,
                        old=old,
                        new=new,
                        detail={"triage": True},
                        at=now,
                    )
                touch(session, ticket, ticket.updated_at)
                if new_tags:
                    for tag in sorted(new_tags):
                        session.add(
                            TicketTag(
                                ticket_id=change.number, tag=tag, updated_at=ticket.updated_at
                            )
                        )
                    log_event(
                        session,
                        "tags",
                        actor=actor,
                        ticket_id=change.number,
                        old=",".join(sorted(current)),
                        new=",".join(sorted(current | new_tags)),
                        detail={"triage": True},
                        at=now,
                    )
                if "priority" in fields:
                    self.clock.apply(session, ticket, now)
        return changed
