"""Knowledge-base article search.

Articles get their own index with stemming (``porter`` on SQLite, the ``english``
configuration on PostgreSQL): "refunds" should find "refund". Unlike messages they
are ranked by relevance — a few thousand articles rank in milliseconds. SQLite ranks
with FTS5's bm25; PostgreSQL has no bm25, so the same formula is summed from
per-term document counts and ``ts_rank`` (title weighs most, then tags, then body).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from deskterm.store.dialect import is_sqlite

_ARTICLE_TRIGGERS = {
    "article_fts_ai": """
        CREATE TRIGGER article_fts_ai AFTER INSERT ON article BEGIN
          INSERT INTO article_fts(rowid, title, tags, body)
          VALUES (new.id, new.title, new.tags, new.body);
        END""",
    "article_fts_ad": """
        CREATE TRIGGER article_fts_ad AFTER DELETE ON article BEGIN
          INSERT INTO article_fts(article_fts, rowid, title, tags, body)
          VALUES ('delete', old.id, old.title, old.tags, old.body);
        END""",
    "article_fts_au": """
        CREATE TRIGGER article_fts_au AFTER UPDATE OF title, tags, body ON article BEGIN
          INSERT INTO article_fts(article_fts, rowid, title, tags, body)
          VALUES ('delete', old.id, old.title, old.tags, old.body);
          INSERT INTO article_fts(rowid, title, tags, body)
          VALUES (new.id, new.title, new.tags, new.body);
        END""",
}
ARTICLE_WEIGHTS = (10.0, 4.0, 1.0)  # title, tags, body
_PG_COUNT_CAP = 1000


def install_article_search(conn: Connection) -> None:
    """Create the articles' full-text index (used by the knowledge-base migration)."""
    if is_sqlite(conn):
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE article_fts USING fts5("
            "title, tags, body, content='article', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        for ddl in _ARTICLE_TRIGGERS.values():
            conn.exec_driver_sql(ddl)
    else:
        conn.exec_driver_sql(
            "ALTER TABLE article ADD COLUMN search tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', replace(coalesce(tags, ''), ',', ' ')), 'B') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'D')) STORED"
        )
        # No pending list: articles change rarely, and every query would scan the list
        # of entries not yet merged (after a re-index of 5,000 articles: 25 → 150 ms).
        conn.exec_driver_sql(
            "CREATE INDEX ix_article_search ON article USING gin (search) WITH (fastupdate = off)"
        )


def analyze_articles(conn: Connection) -> None:
    """Refresh PostgreSQL's statistics after many articles changed."""
    if not is_sqlite(conn):
        conn.exec_driver_sql("ANALYZE article")


def drop_article_search(conn: Connection) -> None:
    if is_sqlite(conn):
        for name in _ARTICLE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS article_fts")
    else:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_article_search")


def rank_articles(
    conn: Connection, terms: Sequence[tuple[str, int]], limit: int, *, require_all: bool = False
) -> list[tuple[int, float]]:
    """``(article id, score)`` best first for weighted words (any word, or all of them).

    ``terms`` are plain words with integer weights; a weight counts the word that many
    times in the bm25 sum, so subject words can weigh more than body words.
    """
    terms = [(word, weight) for word, weight in terms if word.strip() and weight > 0]
    if not terms:
        return []
    if is_sqlite(conn):
        quoted = ['"' + word.replace('"', '""') + '"' for word, _ in terms]
        if require_all:
            expr = " AND ".join(quoted)
        else:
            expr = " OR ".join(q for q, (_, w) in zip(quoted, terms, strict=True) for _ in range(w))
        weights = ", ".join(str(w) for w in ARTICLE_WEIGHTS)
        sql = (
            f"SELECT rowid, -bm25(article_fts, {weights}) AS score FROM article_fts "
            "WHERE article_fts MATCH :q ORDER BY score DESC, rowid LIMIT :limit"
        )
        return [(r[0], float(r[1])) for r in conn.execute(text(sql), {"q": expr, "limit": limit})]
    return _pg_rank_articles(conn, terms, limit, require_all)


def _pg_rank_articles(
    conn: Connection, terms: Sequence[tuple[str, int]], limit: int, require_all: bool
) -> list[tuple[int, float]]:
    """bm25 from per-term counts and ``ts_rank``, over a bounded candidate set.

    Counts stop at :data:`_PG_COUNT_CAP` (a word in that many articles weighs almost
    nothing anyway), and only articles holding one of the eight most telling words are
    scored: ``ts_rank`` per word per article is what costs on PostgreSQL.
    """
    params: dict[str, Any] = {f"t{i}": word for i, (word, _) in enumerate(terms)}
    queries = [f"plainto_tsquery('english', :t{i})" for i in range(len(terms))]
    counts = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM article), "
            + ", ".join(
                f"(SELECT count(*) FROM (SELECT 1 FROM article WHERE search @@ {q} "
                f"LIMIT {_PG_COUNT_CAP}) AS c)"
                for q in queries
            )
        ),
        params,
    ).one()
    total = max(int(counts[0]), 1)
    scored: list[tuple[float, int]] = []
    for i, (_, weight) in enumerate(terms):
        df = int(counts[i + 1])
        if df:
            scored.append((weight * math.log((total - df + 0.5) / (df + 0.5) + 1.0), i))
    if not scored:
        return []
    parts = [
        f"{factor:.6f} * ts_rank('{{0.1, 0.2, 0.4, 1.0}}', search, {queries[i]}, 1)"
        for factor, i in scored
    ]
    if require_all:
        where = " && ".join(queries)
    else:
        telling = sorted(scored, reverse=True)[:8]
        where = " || ".join(queries[i] for _, i in telling)
    params["limit"] = limit
    sql = (
        f"SELECT id, ({' + '.join(parts)}) * 10 AS score FROM article "
        f"WHERE search @@ ({where}) ORDER BY score DESC, id LIMIT :limit"
    )
    return [(r[0], float(r[1])) for r in conn.execute(text(sql), params)]
