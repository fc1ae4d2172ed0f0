"""Knowledge for one ticket: suggested articles, similar solved tickets, new drafts.

The CLI (``deskterm kb``, ``tickets show --json``) and the console's knowledge panel
call these functions, so both faces rank the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskterm.kb.articles import ArticleFile, KbError
from deskterm.kb.terms import subject_words, token_set, weighted_terms, words
from deskterm.textsafe import clean_line

if TYPE_CHECKING:
    from deskterm.store import Store
    from deskterm.store.kb import SolvedSummary
    from deskterm.store.models import Article

SUGGESTIONS = 5
SIMILAR = 8
CANDIDATE_MESSAGES = 400  # newest matching messages read for similar tickets (the bound)
MIN_SHARED = 0.3  # a similar ticket shares at least this part of the weighted words


@dataclass(frozen=True)
class Suggestion:
    """An article with its relevance to the ticket (bm25, higher is better)."""

    article: Article
    path: Path
    score: float

    def to_dict(self) -> dict[str, Any]:
        # Six significant digits, not decimals: with very few articles, bm25 gives words
        # found in half of them a tiny weight, and the score must still show above 0.
        score = float(f"{self.score:.6g}")
        return {"title": self.article.title, "path": str(self.path), "score": score}


@dataclass(frozen=True)
class Similar:
    """A solved ticket like this one, with what resolved it."""

    summary: SolvedSummary
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary.to_dict(), "score": round(self.score, 3)}


def suggest_articles(
    store: Store, folder: Path, number: int, limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The articles most relevant to ticket ``number``, best first."""
    text = store.kb.ticket_text(number)
    terms = weighted_terms(text.subject, text.customer_messages)
    return [
        Suggestion(article, folder / article.path, score)
        for article, score in store.kb.rank(terms, limit)
    ]


def search_articles(store: Store, folder: Path, query: str, limit: int = 20) -> list[Suggestion]:
    """Articles holding every word of ``query`` (any word if none holds all), by bm25."""
    terms = [(w, 1) for w in dict.fromkeys(words(query))]
    if not terms:
        terms = [(w, 1) for w in query.split() if w.strip()]
    ranked = store.kb.rank(terms, limit, require_all=True) or store.kb.rank(terms, limit)
    return [Suggestion(article, folder / article.path, score) for article, score in ranked]


def similar_tickets(store: Store, number: int, limit: int = SIMILAR) -> list[Similar]:
    """Solved tickets most like ``number``, with their resolution notes and root cause.

    Candidates come from the message index, newest first and bounded: the messages
    holding all the subject's words, then any of the ticket's key words. Candidates are
    then scored by the weighted words they share with this ticket, so the cost does not
    grow with the store.
    """
    text = store.kb.ticket_text(number)
    terms = dict(weighted_terms(text.subject, text.customer_messages))
    if not terms:
        return []
    subject = list(dict.fromkeys(subject_words(text.subject)))[:5]
    found = {}
    if len(subject) >= 2:
        for c in store.kb.candidates(subject, number, CANDIDATE_MESSAGES, require_all=True):
            found[c.number] = c
    if len(found) < limit * 3:
        key = list(terms)[:8]
        for c in store.kb.candidates(key, number, CANDIDATE_MESSAGES, require_all=False):
            found.setdefault(c.number, c)
    scored = []
    for c in found.values():
        held = token_set(c.text[:3000])
        in_subject = token_set(c.subject)
        score = sum(w for word, w in terms.items() if word in held)
        score += sum(2 for word in subject if word in in_subject)
        if score > 0:
            scored.append((score, c.number))
    total = sum(terms.values()) + 2 * len(subject) or 1
    scored.sort(key=lambda s: (-s[0], -s[1]))
    top = [(s, n) for s, n in scored[:limit] if s / total >= MIN_SHARED]
    summaries = store.kb.solved_summaries([n for _, n in top])
    return [Similar(summaries[n], s / total) for s, n in top if n in summaries]


def insertion(article: Article, how: str, base_url: str | None) -> str:
    """The text to put into a reply: the article's body, or a link to it."""
    if how == "body":
        return article.body.strip("\n") + "\n"
    if article.url:
        return f"{article.title}: {article.url}\n"
    if article.audience != "public":
        title = clean_line(article.title)
        raise KbError(f"{title!r} is an internal article; it has no public link.")
    if not base_url:
        raise KbError("Set [kb] base_url in the config to insert links to articles.")
    slug = article.path.removesuffix(".md")
    return f"{article.title}: {base_url.rstrip('/')}/{slug}\n"


def use_article(
    store: Store, number: int, article: Article, how: str, actor: str, base_url: str | None
) -> str:
    """The text to insert into ticket ``number``'s reply; the use is event-logged."""
    text = insertion(article, how, base_url)
    store.kb.log_use(number, article.path, article.title, how, actor)
    return text


def draft_from_ticket(store: Store, number: int, today: str) -> ArticleFile:
    """A draft article from a ticket's resolution notes and Diagnose result, linked back."""
    detail = store.tickets.get_ticket(number)
    ticket = detail.ticket
    diagnose = detail.heard.get("D")
    cause = ticket.root_cause or (diagnose.category if diagnose else None)
    notes = detail.note.body.strip() if detail.note else ""
    if not notes and not cause:
        raise KbError(
            f"Ticket #{number} has no resolution notes or root cause to turn into an article."
        )
    parts = [
        "## Problem",
        ticket.subject.strip() or "(describe the customer's problem)",
        "",
        "## Solution",
        notes or "(describe what resolves it)",
    ]
    if cause or (diagnose and diagnose.note):
        parts += [
            "",
            "## Root cause",
            " — ".join(p for p in (cause, diagnose.note if diagnose else "") if p),
        ]
    tags = [t for t in (ticket.queue, cause.replace(" ", "-") if cause else "") if t]
    return ArticleFile(
        title=ticket.subject.strip() or f"Ticket {number}",
        body="\n".join(parts) + "\n",
        tags=tuple(dict.fromkeys(t.lower() for t in tags)),
        audience="internal",
        updated=today,
        ticket=number,
    )
