"""Ticket detail and the service functions that change tickets.

Each change runs in one write transaction together with its event-log row, so the
log can never disagree with the data. ``expected_version`` gives optimistic
concurrency: a change based on a stale read fails with :class:`Conflict` instead of
silently overwriting a colleague's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from deskterm.store.base import Database
from deskterm.store.changes import (
    add_note_message,
    load_ticket,
    log_event,
    new_action_id,
    record_action,
    status_side_effects,
    touch,
)
from deskterm.store.errors import Conflict, InvalidValue, NotFound
from deskterm.store.models import (
    Attachment,
    Customer,
    Event,
    HeardStep,
    Identity,
    Message,
    NoteVersion,
    Ticket,
    TicketLink,
    TicketTag,
)
from deskterm.store.sla_clock import SlaClock
from deskterm.store.types import utcnow
from deskterm.vocab import EMOTIONS, HEARD_STEPS, PRIORITIES, STATUSES


def to_jsonable(obj: Any) -> Any:
    """A model, dataclass or datetime as plain JSON types."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump()
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


@dataclass
class TicketDetail:
    """Everything the ticket screen and ``tickets show`` need, read in one go."""

    ticket: Ticket
    customer: Customer | None
    identities: list[Identity]
    messages: list[Message]
    attachments: dict[int, list[Attachment]]
    heard: dict[str, HeardStep]
    note: NoteVersion | None
    tags: list[str]
    links: list[TicketLink] = field(default_factory=list)

    @property
    def merged_from(self) -> list[int]:
        """The tickets merged into this one (oldest number first)."""
        number = self.ticket.id
        return sorted(
            link.ticket_id
            for link in self.links
            if link.kind == "merged" and link.other_id == number and link.ticket_id != number
        )

    def merge_facts(self) -> list[str]:
        """``merged into #N`` / ``merged from #A, #B``, for both faces' ticket headers."""
        facts = []
        if self.ticket.merged_into_id is not None:
            facts.append(f"merged into #{self.ticket.merged_into_id}")
        if self.merged_from:
            t = self.ticket
            flags = (("first response", t.sla_first_response_missed),
                     ("resolution", t.sla_resolution_missed))  # fmt: skip
            missed = [name for name, flag in flags if flag]
            facts.append(
                "merged from "
                + ", ".join(f"#{n}" for n in self.merged_from)
                + (f" (SLA missed: {', '.join(missed)})" if missed else "")
            )
        return facts

    def to_dict(self) -> dict[str, Any]:
        ticket = to_jsonable(self.ticket)
        ticket["number"] = ticket.pop("id")
        ticket["tags"] = self.tags
        ticket["customer"] = self.customer.name if self.customer else ""
        ticket["merged_from"] = self.merged_from
        return {
            **ticket,
            "customer_profile": (
                {
                    **to_jsonable(self.customer),
                    "identities": [
                        {"kind": i.kind, "value": i.value, "display": i.display}
                        for i in self.identities
                    ],
                }
                if self.customer
                else None
            ),
            "messages": [
                {
                    **to_jsonable(m),
                    "attachments": [to_jsonable(a) for a in self.attachments.get(m.id or 0, [])],
                }
                for m in self.messages
            ],
            "heard": [
                {
                    "step": step,
                    "done": bool(self.heard[step].done) if step in self.heard else False,
                    "actor": self.heard[step].actor if step in self.heard else None,
                    "done_at": to_jsonable(self.heard[step].done_at)
                    if step in self.heard
                    else None,
                    "note": self.heard[step].note if step in self.heard else "",
                    "category": self.heard[step].category if step in self.heard else None,
                }
                for step in HEARD_STEPS
            ],
            "resolution_note": to_jsonable(self.note) if self.note else None,
            "links": [to_jsonable(link) for link in self.links],
        }


class TicketServices:
    """Ticket reads and changes shared by the CLI and the TUI."""

    def __init__(self, db: Database, clock: SlaClock) -> None:
        self.db = db
        self.clock = clock

    def get_ticket(self, number: int) -> TicketDetail:
        """The ticket with its customer, messages (oldest first), HEARD, notes and tags."""
        with self.db.read() as session:
            ticket = session.get(Ticket, number)
            if ticket is None:
                raise NotFound(f"There is no ticket #{number}.")
            customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
            identities = (
                list(
                    session.exec(
                        select(Identity)
                        .where(Identity.customer_id == customer.id)
                        .order_by(col(Identity.kind), col(Identity.id))
                    ).all()
                )
                if customer
                else []
            )
            messages = list(
                session.exec(
                    select(Message)
                    .where(Message.ticket_id == number)
                    .order_by(col(Message.sent_at), col(Message.id))
                ).all()
            )
            attachments: dict[int, list[Attachment]] = {}
            ids = [m.id for m in messages]
            if ids:
                for att in session.exec(
                    select(Attachment).where(col(Attachment.message_id).in_(ids))
                ).all():
                    attachments.setdefault(att.message_id, []).append(att)
            heard = {
                h.step: h
                for h in session.exec(select(HeardStep).where(HeardStep.ticket_id == number))
            }
            note = session.exec(
                select(NoteVersion)
                .where(NoteVersion.ticket_id == number)
                .order_by(col(NoteVersion.version).desc())
                .limit(1)
            ).first()
            tags = list(
                session.exec(
                    select(TicketTag.tag)
                    .where(TicketTag.ticket_id == number)
                    .order_by(col(TicketTag.tag))
                ).all()
            )
            links = list(
                session.exec(
                    select(TicketLink).where(
                        (col(TicketLink.ticket_id) == number) | (col(TicketLink.other_id) == number)
                    )
                ).all()
            )
        return TicketDetail(
            ticket, customer, identities, messages, attachments, heard, note, tags, links
        )

    def ticket_version(self, number: int) -> int:
        """The ticket's current version (for optimistic concurrency checks)."""
        with self.db.read() as session:
            version = session.exec(select(Ticket.version).where(Ticket.id == number)).first()
        if version is None:
            raise NotFound(f"There is no ticket #{number}.")
        return version

    def update(
        self,
        number: int,
        actor: str,
        *,
        expected_version: int | None = None,
        status: str | None = None,
        priority: str | None = None,
        queue: str | None = None,
        assignee: str | None = None,
        unassign: bool = False,
        tags: list[str] | None = None,
        emotion: str | None = None,
    ) -> Ticket:
        """Change several fields at once: one version check, one transaction, one
        event per field that changed. ``assignee=""`` or ``unassign`` unassigns;
        ``tags`` replaces the tags. ``emotion`` is an agent's correction of the
        estimate (event ``emotion_corrected``; it holds until a newer customer message
        is scored, see docs/metrics.md)."""
        wanted: dict[str, Any] = {}
        if status is not None:
            if status not in STATUSES:
                raise InvalidValue(f"Status must be one of {', '.join(STATUSES)}, not {status!r}.")
            wanted["status"] = status
        if priority is not None:
            if priority not in PRIORITIES:
                raise InvalidValue(
                    f"Priority must be one of {', '.join(PRIORITIES)}, not {priority!r}."
                )
            wanted["priority"] = priority
        if queue is not None:
            if not queue.strip():
                raise InvalidValue("A queue name cannot be empty.")
            wanted["queue"] = queue.strip()
        if assignee is not None or unassign:
            wanted["assignee"] = (assignee or "").strip() or None
        if emotion is not None:
            if emotion not in EMOTIONS:
                raise InvalidValue(
                    f"Emotion must be one of {', '.join(EMOTIONS)}, not {emotion!r}."
                )
            wanted["emotion"] = emotion
        with self.db.write() as session:
            ticket = load_ticket(session, number, expected_version)
            now = utcnow()
            aid = new_action_id()
            changed = tags is not None and _replace_tags(session, ticket, tags, actor, now, aid)
            labels = ["tags"] if changed else []
            for field_name, value in wanted.items():
                old = getattr(ticket, field_name)
                if old == value:
                    continue
                changed = True
                labels.append(f"{field_name} → {value or 'nobody'}")
                setattr(ticket, field_name, value)
                if field_name == "status":
                    status_side_effects(ticket, old, value, now)
                detail = None
                if field_name == "emotion":  # the agent's word, not a model's strength
                    detail = {"old_score": ticket.emotion_score}  # for undo
                    ticket.emotion_score = None
                log_event(
                    session,
                    "emotion_corrected" if field_name == "emotion" else field_name,
                    actor=actor,
                    ticket_id=number,
                    old=old,
                    new=value,
                    detail=detail,
                    at=now,
                    action_id=aid,
                )
                self.clock.after_change(session, ticket, field_name)
            if changed:  # one change, one version step, however many fields
                touch(session, ticket, now)
                record_action(session, aid, actor, ", ".join(labels), now)
            return ticket

    def set_status(
        self, number: int, status: str, actor: str, expected_version: int | None = None
    ) -> Ticket:
        return self.update(number, actor, status=status, expected_version=expected_version)

    def set_priority(
        self, number: int, priority: str, actor: str, expected_version: int | None = None
    ) -> Ticket:
        return self.update(number, actor, priority=priority, expected_version=expected_version)

    def set_queue(
        self, number: int, queue: str, actor: str, expected_version: int | None = None
    ) -> Ticket:
        return self.update(number, actor, queue=queue, expected_version=expected_version)

    def assign(
        self, number: int, assignee: str | None, actor: str, expected_version: int | None = None
    ) -> Ticket:
        """Assign to an agent by name; ``None`` or an empty name unassigns."""
        return self.update(
            number, actor, assignee=assignee, unassign=True, expected_version=expected_version
        )

    def set_tags(
        self, number: int, tags: list[str], actor: str, expected_version: int | None = None
    ) -> list[str]:
        """Replace the ticket's tags (lower-cased, de-duplicated)."""
        with self.db.write() as session:
            ticket = load_ticket(session, number, expected_version)
            now = utcnow()
            aid = new_action_id()
            if _replace_tags(session, ticket, tags, actor, now, aid):
                touch(session, ticket, now)
                record_action(session, aid, actor, "tags", now)
        return sorted({t.strip().lower() for t in tags if t.strip()})

    def set_heard(
        self,
        number: int,
        step: str,
        done: bool,
        actor: str,
        *,
        note: str | None = None,
        category: str | None = None,
        expected_version: int | None = None,
    ) -> HeardStep:
        """Mark a HEARD step done or not; Diagnose may carry a root-cause category."""
        step = step.upper()
        if step not in HEARD_STEPS:
            raise InvalidValue(f"HEARD step must be one of {', '.join(HEARD_STEPS)}.")
        with self.db.write() as session:
            ticket = load_ticket(session, number, expected_version)
            row = session.get(HeardStep, (number, step)) or HeardStep(ticket_id=number, step=step)
            now = utcnow()
            row.done = done
            row.actor = actor
            row.done_at = now if done else None
            if note is not None:
                row.note = note
            if category is not None or not done:
                row.category = category if done else None
                if step == "D":
                    ticket.root_cause = row.category
            session.add(row)
            touch(session, ticket, now)
            log_event(
                session,
                "heard",
                actor=actor,
                ticket_id=number,
                old=step,
                new="done" if done else "undone",
                detail={"category": row.category, "note": row.note} if done else None,
                at=now,
            )
            return row

    def save_note(
        self,
        number: int,
        body: str,
        actor: str,
        base_version: int | None = None,
        *,
        expected_version: int | None = None,
    ) -> NoteVersion:
        """Save a new version of the resolution notes.

        ``base_version`` is the notes version the editor started from (and
        ``expected_version`` the ticket's); if someone else saved since,
        :class:`Conflict` is raised and nothing is overwritten: both texts stay, the
        saved one in the store and the caller's in its draft. Saving text equal to the
        latest version is a no-op that returns it.
        """
        with self.db.write() as session:
            ticket = load_ticket(session, number, expected_version)
            latest = session.exec(
                select(NoteVersion)
                .where(NoteVersion.ticket_id == number)
                .order_by(col(NoteVersion.version).desc())
                .limit(1)
            ).first()
            latest_version = latest.version if latest else 0
            if latest is not None and latest.body == body:
                return latest
            if base_version is not None and base_version != latest_version:
                who = latest.author if latest else "someone"
                raise Conflict(
                    f"The notes of ticket #{number} were saved by {who} since you started; "
                    "your text is kept as a draft.",
                    number=number,
                )
            now = utcnow()
            version = NoteVersion(
                ticket_id=number, version=latest_version + 1, body=body, author=actor, saved_at=now
            )
            session.add(version)
            touch(session, ticket, now)
            log_event(
                session,
                "note",
                actor=actor,
                ticket_id=number,
                old=latest_version,
                new=version.version,
                at=now,
            )
            return version

    def note_versions(self, number: int) -> list[NoteVersion]:
        """Every saved version of the resolution notes, oldest first."""
        with self.db.read() as session:
            return list(
                session.exec(
                    select(NoteVersion)
                    .where(NoteVersion.ticket_id == number)
                    .order_by(col(NoteVersion.version))
                ).all()
            )

    def add_internal_note(self, number: int, body: str, actor: str) -> Message:
        """An internal note in the conversation: never sent, visible to agents only."""
        body = body.strip()
        if not body:
            raise InvalidValue("An internal note cannot be empty.")
        with self.db.write() as session:
            ticket = load_ticket(session, number, None)
            now = utcnow()
            msg = add_note_message(session, ticket, number, body, actor, now)
            log_event(session, "internal_note", actor=actor, ticket_id=number, new=msg.id, at=now)
            return msg

    def events(self, number: int) -> list[Event]:
        """The ticket's event log, oldest first."""
        with self.db.read() as session:
            return list(
                session.exec(
                    select(Event).where(Event.ticket_id == number).order_by(col(Event.id))
                ).all()
            )

    def ticket_of_message(self, source_key: str) -> int | None:
        """The ticket holding the message stored under ``source_key`` (if any)."""
        with self.db.read() as session:
            return session.exec(
                select(Message.ticket_id).where(Message.source_key == source_key)
            ).first()

    def ticket_count(self) -> int:
        with self.db.read() as session:
            return int(session.exec(select(func.count()).select_from(Ticket)).one())


def _replace_tags(
    session: Session, ticket: Ticket, tags: list[str], actor: str, now: datetime, aid: str
) -> bool:
    """Replace a locked ticket's tags (lower-cased, de-duplicated), logged; whether they
    changed (the caller touches the ticket once for the whole change)."""
    number = ticket.id
    assert number is not None  # a stored ticket
    wanted = sorted({t.strip().lower() for t in tags if t.strip()})
    current = sorted(session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == number)).all())
    if current == wanted:
        return False
    session.execute(delete(TicketTag).where(col(TicketTag.ticket_id) == number))
    for tag in wanted:
        session.add(TicketTag(ticket_id=number, tag=tag, updated_at=max(ticket.updated_at, now)))
    log_event(
        session,
        "tags",
        actor=actor,
        ticket_id=number,
        old=",".join(current),
        new=",".join(wanted),
        at=now,
        action_id=aid,
    )
    return True
