"""The knowledge base in the store: indexed articles, similar solved tickets, usage.

Articles are files (``deskterm.kb`` reads them); the store keeps a copy of each for
the full-text index, and the event log records which article an agent put into a
reply (kind ``kb_article``) — the base of the usage and first-contact numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from deskterm.store.base import Database
from deskterm.store.changes import log_event
from deskterm.store.dialect.kb import analyze_articles, rank_articles
from deskterm.store.dialect.search import message_ids_for_words
from deskterm.store.errors import NotFound
from deskterm.store.models import Article, Event, HeardStep, Message, NoteVersion, Ticket
from deskterm.store.types import utcnow

USE_EVENT = "kb_article"
SOLVED = ("solved", "closed")
ANALYZE_AFTER = 100  # changed articles after which PostgreSQL's statistics are refreshed


@dataclass(frozen=True)
class ArticleRecord:
    """One article file as parsed, ready to be written to the index."""

    path: str
    title: str
    tags: tuple[str, ...]
    audience: str
    updated: str
    url: str | None
    ticket_id: int | None
    body: str
    content_hash: str


@dataclass(frozen=True)
class TicketText:
    """What a ticket says: its subject and the customer's opening and latest messages."""

    number: int
    subject: str
    customer_messages: list[str]


@dataclass(frozen=True)
class Candidate:
    """A solved ticket that shares words with the one being worked."""

    number: int
    subject: str
    text: str  # subject and body of the message that matched


@dataclass(frozen=True)
class SolvedSummary:
    """A solved ticket's outcome: how it was resolved and why it happened."""

    number: int
    subject: str
    status: str
    solved_at: datetime | None
    queue: str
    root_cause: str | None
    diagnosis: str
    resolution: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "subject": self.subject,
            "status": self.status,
            "solved_at": self.solved_at.isoformat() if self.solved_at else None,
            "queue": self.queue,
            "root_cause": self.root_cause,
            "diagnosis": self.diagnosis,
            "resolution_note": self.resolution,
        }


class KnowledgeBase:
    """Articles' index and the queries of the knowledge panel and its report."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- the index -----------------------------------------------------------------------

    def hashes(self) -> dict[str, str]:
        """``path -> content_hash`` of every indexed article (to find changed files)."""
        with self.db.read() as session:
            return dict(session.exec(select(Article.path, Article.content_hash)).all())

    def apply(self, changed: Sequence[ArticleRecord], removed: Sequence[str]) -> None:
        """Write changed articles and drop removed ones, all in one transaction."""
        if not changed and not removed:
            return
        now = utcnow()
        with self.db.write() as session:
            if removed:
                session.execute(delete(Article).where(col(Article.path).in_(list(removed))))
            paths = [r.path for r in changed]
            existing = {
                a.path: a
                for start in range(0, len(paths), 500)
                for a in session.exec(
                    select(Article).where(col(Article.path).in_(paths[start : start + 500]))
                )
            }
            for record in changed:
                row = existing.get(record.path) or Article(path=record.path)
                row.title, row.tags = record.title, ",".join(record.tags)
                row.audience, row.updated, row.url = record.audience, record.updated, record.url
                row.ticket_id, row.body = record.ticket_id, record.body
                row.content_hash, row.indexed_at = record.content_hash, now
                session.add(row)
        if len(changed) + len(removed) >= ANALYZE_AFTER:
            with self.db.engine.begin() as conn:
                analyze_articles(conn)

    def list_articles(
        self, *, tag: str | None = None, audience: str | None = None
    ) -> list[Article]:
        """Every indexed article by title (optionally one tag or audience)."""
        stmt = select(Article).order_by(col(Article.title), col(Article.path))
        if audience:
            stmt = stmt.where(Article.audience == audience)
        with self.db.read() as session:
            rows = list(session.exec(stmt).all())
        if tag:
            rows = [a for a in rows if tag.lower() in a.tags.split(",")]
        return rows

    def get(self, path: str) -> Article:
        with self.db.read() as session:
            row = session.exec(select(Article).where(Article.path == path)).first()
        if row is None:
            raise NotFound(f"There is no article {path!r} in the index.")
        return row

    def by_ids(self, ids: Sequence[int]) -> dict[int, Article]:
        if not ids:
            return {}
        with self.db.read() as session:
            rows = session.exec(select(Article).where(col(Article.id).in_(list(ids)))).all()
        return {a.id: a for a in rows if a.id is not None}

    def rank(
        self, terms: Sequence[tuple[str, int]], limit: int, *, require_all: bool = False
    ) -> list[tuple[Article, float]]:
        """Articles for weighted words, most relevant first (bm25)."""
        with self.db.read() as session:
            conn = session.connection()
            ranked = rank_articles(conn, terms, limit, require_all=require_all)
        found = self.by_ids([i for i, _ in ranked])
        return [(found[i], score) for i, score in ranked if i in found]

    # -- tickets -------------------------------------------------------------------------

    def ticket_text(self, number: int, latest: int = 2) -> TicketText:
        """The subject and the customer's first and ``latest`` last messages."""
        with self.db.read() as session:
            subject = session.exec(select(Ticket.subject).where(Ticket.id == number)).first()
            if subject is None:
                raise NotFound(f"There is no ticket #{number}.")
            inbound = (Message.ticket_id == number, Message.direction == "inbound")
            first = session.exec(
                select(Message.id, Message.body)
                .where(*inbound)
                .order_by(col(Message.sent_at), col(Message.id))
                .limit(1)
            ).all()
            last = session.exec(
                select(Message.id, Message.body)
                .where(*inbound)
                .order_by(col(Message.sent_at).desc(), col(Message.id).desc())
                .limit(latest)
            ).all()
        bodies = dict([*first, *reversed(last)])
        return TicketText(number, subject, list(bodies.values()))

    def candidates(
        self, words: Sequence[str], exclude: int, limit: int, *, require_all: bool
    ) -> list[Candidate]:
        """Solved tickets (not ``exclude``) among the newest ``limit`` messages holding
        ``words`` (all of them, or any): a bounded set, however large the store."""
        with self.db.read() as session:
            conn = session.connection()
            ids = message_ids_for_words(conn, words, limit, require_all=require_all)
            if not ids:
                return []
            # Two primary-key lookups: a join lets the planner walk the status index.
            messages = session.exec(
                select(Message.id, Message.ticket_id, Message.subject, Message.body).where(
                    col(Message.id).in_(ids)
                )
            ).all()
            wanted = {m[1] for m in messages} - {exclude}
            tickets = {
                number: subject
                for number, subject, status, merged in session.exec(
                    select(Ticket.id, Ticket.subject, Ticket.status, Ticket.merged_into_id).where(
                        col(Ticket.id).in_(wanted)
                    )
                )
                if status in SOLVED and merged is None
            }
        seen: dict[int, Candidate] = {}
        for _, number, msg_subject, body in sorted(messages, key=lambda m: -(m[0] or 0)):
            if number in tickets and number not in seen:
                subject = tickets[number]
                seen[number] = Candidate(number, subject, f"{subject}\n{msg_subject}\n{body}")
        return list(seen.values())

    def solved_summaries(self, numbers: Sequence[int]) -> dict[int, SolvedSummary]:
        """Resolution notes (latest version) and Diagnose result of solved tickets."""
        if not numbers:
            return {}
        wanted = list(numbers)
        with self.db.read() as session:
            tickets = session.exec(select(Ticket).where(col(Ticket.id).in_(wanted))).all()
            latest = (
                sa_select(col(NoteVersion.ticket_id), func.max(NoteVersion.version).label("v"))
                .where(col(NoteVersion.ticket_id).in_(wanted))
                .group_by(col(NoteVersion.ticket_id))
                .subquery()
            )
            notes: dict[int, str] = dict(
                session.execute(
                    sa_select(col(NoteVersion.ticket_id), col(NoteVersion.body)).join(
                        latest,
                        and_(
                            col(NoteVersion.ticket_id) == latest.c.ticket_id,
                            col(NoteVersion.version) == latest.c.v,
                        ),
                    )
                ).all()
            )
            diagnose = {
                h.ticket_id: h
                for h in session.exec(
                    select(HeardStep).where(
                        col(HeardStep.ticket_id).in_(wanted), HeardStep.step == "D"
                    )
                )
            }
        out = {}
        for t in tickets:
            if t.id is None:
                continue
            step = diagnose.get(t.id)
            out[t.id] = SolvedSummary(
                number=t.id,
                subject=t.subject,
                status=t.status,
                solved_at=t.solved_at,
                queue=t.queue,
                root_cause=t.root_cause or (step.category if step else None),
                diagnosis=step.note if step else "",
                resolution=str(notes.get(t.id, "")),
            )
        return out

    # -- use and its report --------------------------------------------------------------

    def log_use(self, number: int, path: str, title: str, how: str, actor: str) -> None:
        """Record that an article went into a reply on ticket ``number``."""
        with self.db.write() as session:
            if session.get(Ticket, number) is None:
                raise NotFound(f"There is no ticket #{number}.")
            log_event(
                session,
                USE_EVENT,
                actor=actor,
                ticket_id=number,
                new=path,
                detail={"title": title, "how": how},
            )

    def used_articles(self, number: int) -> list[str]:
        """Paths of the articles used on one ticket, in the order first used."""
        with self.db.read() as session:
            paths = session.exec(
                select(Event.new)
                .where(Event.ticket_id == number, Event.kind == USE_EVENT)
                .order_by(col(Event.id))
            ).all()
        return list(dict.fromkeys(p for p in paths if p))

    def usage(self, since: datetime | None, until: datetime | None) -> dict[str, Any]:
        """Articles used per ticket, and first-contact resolution with and without one.

        First-contact resolution: a ticket solved (or closed) in the range with exactly
        one public agent reply and never reopened. "With an article" means an article
        was put into one of its replies.
        """
        uses = (
            select(Event.ticket_id, Event.new)
            .where(Event.kind == USE_EVENT)
            .order_by(col(Event.id))
        )
        if since is not None:
            uses = uses.where(col(Event.at) >= since)
        if until is not None:
            uses = uses.where(col(Event.at) < until)
        with self.db.read() as session:
            per_ticket: dict[int, list[str]] = {}
            for number, path in session.exec(uses):
                if number is not None and path:
                    used = per_ticket.setdefault(number, [])
                    if path not in used:
                        used.append(path)
            fcr = self._fcr(session, since, until)
        counts: dict[str, int] = {}
        for paths in per_ticket.values():
            for p in paths:
                counts[p] = counts.get(p, 0) + 1
        return {
            "tickets_with_articles": len(per_ticket),
            "article_uses": sum(len(p) for p in per_ticket.values()),
            "articles_per_ticket": (
                round(sum(len(p) for p in per_ticket.values()) / len(per_ticket), 3)
                if per_ticket
                else 0.0
            ),
            "per_ticket": [
                {"number": n, "articles": p} for n, p in sorted(per_ticket.items(), reverse=True)
            ],
            "top_articles": [
                {"path": p, "tickets": c}
                for p, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "first_contact_resolution": fcr,
        }

    @staticmethod
    def _fcr(session: Any, since: datetime | None, until: datetime | None) -> dict[str, Any]:
        replies = (
            sa_select(func.count())
            .where(col(Message.ticket_id) == col(Ticket.id), col(Message.direction) == "outbound")
            .scalar_subquery()
        )
        used = exists().where(col(Event.ticket_id) == col(Ticket.id), col(Event.kind) == USE_EVENT)
        first_contact = and_(replies == 1, col(Ticket.reopen_count) == 0)
        conds: list[Any] = [col(Ticket.status).in_(SOLVED), col(Ticket.solved_at).is_not(None)]
        if since is not None:
            conds.append(col(Ticket.solved_at) >= since)
        if until is not None:
            conds.append(col(Ticket.solved_at) < until)
        row = session.execute(
            sa_select(
                func.count().filter(used),
                func.count().filter(and_(used, first_contact)),
                func.count().filter(~used),
                func.count().filter(and_(~used, first_contact)),
            ).where(*conds)
        ).one()

        def part(solved: int, fcr: int) -> dict[str, Any]:
            rate = round(fcr / solved, 4) if solved else None
            return {"solved": int(solved), "first_contact": int(fcr), "rate": rate}

        return {"with_article": part(row[0], row[1]), "without_article": part(row[2], row[3])}


__all__ = ["ArticleRecord", "Candidate", "KnowledgeBase", "SolvedSummary", "TicketText"]
