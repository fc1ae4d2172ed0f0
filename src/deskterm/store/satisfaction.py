"""Satisfaction scores (CSAT, CES, NPS): one event per response, the latest on the ticket.

The event log is the record (``kind`` = ``csat``/``ces``/``nps``, ``new`` = the score,
``detail`` = comment and source) so the report can count responses in any range; the
ticket's ``csat``/``ces``/``nps`` columns hold the latest score for the profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from deskterm.store.base import Database
from deskterm.store.errors import InvalidValue, NotFound
from deskterm.store.models import Customer, Event, Identity, Ticket
from deskterm.store.types import utcnow

# Inclusive score range of each kind: CSAT 1-5, CES 1-7, NPS 0-10.
SCALES = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}


def check_score(kind: str, score: int) -> None:
    """Raise :class:`InvalidValue` with one sentence unless ``score`` fits ``kind``."""
    if kind not in SCALES:
        raise InvalidValue(f"Kind must be one of {', '.join(SCALES)}, not {kind!r}.")
    low, high = SCALES[kind]
    if not low <= score <= high:
        raise InvalidValue(f"A {kind.upper()} score is {low} to {high}, not {score}.")


@dataclass(frozen=True)
class Response:
    """One satisfaction response to record: on ticket ``number`` or the customer ``email``'s
    ticket solved last before ``at``."""

    kind: str
    score: int
    at: datetime
    number: int | None = None
    email: str | None = None
    comment: str = ""


class Satisfaction:
    """``store.satisfaction``: record and import satisfaction responses."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def rate(self, number: int, kind: str, score: int, actor: str, *, comment: str = "") -> Ticket:
        """Record an agent-entered response on ticket ``number`` now."""
        check_score(kind, score)
        with self.db.write() as session:
            ticket = session.get(Ticket, number)
            if ticket is None:
                raise NotFound(f"There is no ticket #{number}.")
            self._record(session, ticket, Response(kind, score, utcnow(), number, None, comment),
                         actor, "agent")  # fmt: skip
            return ticket

    def import_response(self, response: Response, actor: str) -> bool:
        """Record an imported response; ``False`` when the same one is already recorded
        (same ticket, kind, score and time), so importing a file twice adds nothing."""
        check_score(response.kind, response.score)
        with self.db.write() as session:
            ticket = self._target(session, response)
            same = session.exec(
                select(func.count())
                .select_from(Event)
                .where(
                    Event.ticket_id == ticket.id,
                    Event.kind == response.kind,
                    Event.new == str(response.score),
                    Event.at == response.at,
                )
            ).one()
            if same:
                return False
            self._record(session, ticket, response, actor, "import")
            return True

    def _target(self, session: Session, r: Response) -> Ticket:
        if r.number is not None:
            ticket = session.get(Ticket, r.number)
            if ticket is None:
                raise NotFound(f"There is no ticket #{r.number}.")
            return ticket
        email = (r.email or "").strip().lower()
        customer = session.exec(
            select(Identity.customer_id).where(Identity.kind == "email", Identity.value == email)
        ).first()
        if customer is None:
            raise NotFound(f"No customer has the address {email}.")
        merged = session.get(Customer, customer)
        while merged is not None and merged.merged_into_id is not None:
            customer = merged.merged_into_id
            merged = session.get(Customer, customer)
        # The ticket the survey was about: the last one solved before the answer came,
        # else the customer's latest.
        ticket = session.exec(
            select(Ticket)
            .where(Ticket.customer_id == customer, col(Ticket.merged_into_id).is_(None))
            .order_by(
                (col(Ticket.solved_at) <= r.at).desc(),
                col(Ticket.solved_at).desc(),
                col(Ticket.created_at).desc(),
            )
            .limit(1)
        ).first()
        if ticket is None:
            raise NotFound(f"The customer {email} has no tickets.")
        return ticket

    def _record(
        self, session: Session, ticket: Ticket, r: Response, actor: str, source: str
    ) -> None:
        later = session.exec(
            select(func.count())
            .select_from(Event)
            .where(Event.ticket_id == ticket.id, Event.kind == r.kind, col(Event.at) > r.at)
        ).one()
        detail = {"source": source, **({"comment": r.comment} if r.comment else {})}
        session.add(
            Event(
                ticket_id=ticket.id, customer_id=ticket.customer_id, kind=r.kind,
                new=str(r.score), actor=actor, at=r.at, detail=json.dumps(detail, sort_keys=True),
            )
        )  # fmt: skip
        if not later:
            # No version bump: a score is not an edit of the ticket, and an agent who has
            # the ticket open must not get a conflict on their next change because of it.
            setattr(ticket, r.kind, r.score)
            session.add(ticket)


@dataclass(frozen=True)
class Rated:
    """One recorded response, as the customer profile lists it."""

    kind: str
    score: int
    at: datetime
    ticket: int
    comment: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "score": self.score,
            "at": self.at.isoformat(),
            "ticket": self.ticket,
            "comment": self.comment,
        }


def customer_responses(
    session: Session, customer_id: int, limit: int | None
) -> tuple[list[Rated], int]:
    """The customer's responses newest first (at most ``limit``) and how many there are.

    Found through the tickets the customer has now, so responses on tickets that came
    with a customer merge are theirs too.
    """
    mine = (
        select(Event)
        .join(Ticket, col(Ticket.id) == col(Event.ticket_id))
        .where(Ticket.customer_id == customer_id, col(Event.kind).in_(tuple(SCALES)))
    )
    total = session.exec(select(func.count()).select_from(mine.subquery())).one()
    rows = session.exec(
        mine.order_by(col(Event.at).desc(), col(Event.id).desc()).limit(limit)
    ).all()
    out = []
    for e in rows:
        comment = json.loads(e.detail).get("comment", "") if e.detail else ""
        out.append(Rated(e.kind, int(e.new or 0), e.at, e.ticket_id or 0, str(comment)))
    return out, int(total)
