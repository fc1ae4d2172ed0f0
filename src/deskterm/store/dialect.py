"""Everything that differs between SQLite and PostgreSQL, in one place.

Full-text search: SQLite uses an FTS5 table over ``message(subject, body)`` kept in
step by triggers; PostgreSQL a stored ``tsvector`` column with a GIN index. Both
return message ids newest first (highest id first), which is cheap on both engines;
ranking every hit by relevance is not, and support agents want the latest mail anyway.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, text

_FTS_TRIGGERS = {
    "message_fts_ai": """
        CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN
          INSERT INTO message_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
        END""",
    "message_fts_ad": """
        CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN
          INSERT INTO message_fts(message_fts, rowid, subject, body)
          VALUES ('delete', old.id, old.subject, old.body);
        END""",
    "message_fts_au": """
        CREATE TRIGGER message_fts_au AFTER UPDATE OF subject, body ON message BEGIN
          INSERT INTO message_fts(message_fts, rowid, subject, body)
          VALUES ('delete', old.id, old.subject, old.body);
          INSERT INTO message_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body);
        END""",
}

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


def install_search(conn: Connection) -> None:
    """Create the full-text index for the current dialect (used by the migrations)."""
    if is_sqlite(conn):
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE message_fts USING fts5("
            "subject, body, content='message', content_rowid='id', "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        for ddl in _FTS_TRIGGERS.values():
            conn.exec_driver_sql(ddl)
    else:
        conn.exec_driver_sql(
            "ALTER TABLE message ADD COLUMN search tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(body, ''))) STORED"
        )
        conn.exec_driver_sql("CREATE INDEX ix_message_search ON message USING gin (search)")


def drop_search(conn: Connection) -> None:
    """Remove the full-text index (downgrade of the initial migration)."""
    if is_sqlite(conn):
        for name in _FTS_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS message_fts")
    else:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_message_search")
        conn.exec_driver_sql("ALTER TABLE message DROP COLUMN IF EXISTS search")


def pause_search_index(conn: Connection) -> None:
    """Stop per-row index upkeep before a bulk load (SQLite only; see resume)."""
    if is_sqlite(conn):
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS message_fts_ai")


def resume_search_index(conn: Connection) -> None:
    """Rebuild the index once after a bulk load: ~2x faster than a trigger per row."""
    if is_sqlite(conn):
        conn.exec_driver_sql("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
        conn.exec_driver_sql(_FTS_TRIGGERS["message_fts_ai"])


def defer_search_index(conn: Connection) -> int | None:
    """Inside a write transaction, stop per-row index upkeep for a batch of inserts.

    Returns the highest message id before the batch (``None`` off SQLite). The
    caller must call :func:`catch_up_search_index` before committing: both happen in
    the same transaction, so no other connection ever sees the trigger missing, and a
    rollback restores it. Indexing a batch with one ``INSERT … SELECT`` is about 2.5x
    faster than a trigger firing per row.
    """
    if not is_sqlite(conn):
        return None
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS message_fts_ai")
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM message").scalar_one())


def catch_up_search_index(conn: Connection, since: int) -> None:
    """Index every message above ``since`` and restore per-row upkeep (see defer)."""
    conn.exec_driver_sql(
        "INSERT INTO message_fts(rowid, subject, body) "
        "SELECT id, subject, body FROM message WHERE id > ?",
        (since,),
    )
    conn.exec_driver_sql(_FTS_TRIGGERS["message_fts_ai"])


def repair_search_index(conn: Connection) -> bool:
    """Restore index upkeep if a bulk load was killed before it resumed it."""
    if not is_sqlite(conn):
        return False
    present = conn.exec_driver_sql(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'message_fts_ai'"
    ).scalar_one()
    if present:
        return False
    resume_search_index(conn)
    return True


def fts5_query(query: str) -> str:
    """Turn user words into a safe FTS5 expression.

    Every word becomes a quoted string (so ``AND``, ``-`` or ``:`` in a subject are
    words, not syntax), quoted phrases stay phrases, and a trailing ``*`` keeps prefix
    search (``pass*``). All terms must match.
    """
    parts: list[str] = []
    for phrase, word in _TOKEN.findall(query):
        term = phrase if phrase else word
        prefix = not phrase and term.endswith("*") and len(term) > 1
        term = term.rstrip("*") if prefix else term
        if not term.strip():
            continue
        quoted = '"' + term.replace('"', '""') + '"'
        parts.append(quoted + ("*" if prefix else ""))
    return " ".join(parts)


def _pg_query(query: str) -> str:
    """PostgreSQL: the same words and phrases, for ``websearch_to_tsquery``."""
    parts = []
    for phrase, word in _TOKEN.findall(query):
        if phrase:
            parts.append(f'"{phrase}"')
        elif word.strip('*"'):
            parts.append(word.rstrip("*").replace('"', ""))
    return " ".join(parts)


def search_message_ids(
    conn: Connection, query: str, limit: int, before_id: int | None = None
) -> list[int]:
    """Ids of messages matching ``query``, highest (newest) first, below ``before_id``."""
    params: dict[str, Any] = {"limit": limit, "before": before_id}
    below = "" if before_id is None else "AND {col} < :before"
    if is_sqlite(conn):
        expr = fts5_query(query)
        if not expr:
            return []
        params["q"] = expr
        sql = (
            "SELECT rowid FROM message_fts WHERE message_fts MATCH :q "
            f"{below.format(col='rowid')} ORDER BY rowid DESC LIMIT :limit"
        )
    else:
        expr = _pg_query(query)
        if not expr:
            return []
        params["q"] = expr
        sql = (
            "SELECT id FROM message WHERE search @@ websearch_to_tsquery('simple', :q) "
            f"{below.format(col='id')} ORDER BY id DESC LIMIT :limit"
        )
    return [row[0] for row in conn.execute(text(sql), params)]


def count_matches(conn: Connection, query: str) -> int:
    """How many messages match (for a result header; may cost more than a page)."""
    if is_sqlite(conn):
        expr = fts5_query(query)
        sql = "SELECT count(*) FROM message_fts WHERE message_fts MATCH :q"
    else:
        expr = _pg_query(query)
        sql = "SELECT count(*) FROM message WHERE search @@ websearch_to_tsquery('simple', :q)"
    if not expr:
        return 0
    return int(conn.execute(text(sql), {"q": expr}).scalar_one())


def backup(engine: Engine, dest: str) -> None:
    """Write a consistent copy of an SQLite store to ``dest`` while it stays in use.

    ``VACUUM INTO`` cannot run inside a transaction, so it goes straight to the driver.
    """
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (dest,))  # type: ignore[union-attr]
    finally:
        raw.close()


# -- knowledge base ------------------------------------------------------------------------
#
# Articles get their own index with stemming (``porter`` on SQLite, the ``english``
# configuration on PostgreSQL): "refunds" should find "refund". Unlike messages they
# are ranked by relevance — a few thousand articles rank in milliseconds. SQLite ranks
# with FTS5's bm25; PostgreSQL has no bm25, so the same formula is summed from
# per-term document counts and ``ts_rank`` (title weighs most, then tags, then body).

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


def message_ids_for_words(
    conn: Connection, words: Sequence[str], limit: int, *, require_all: bool
) -> list[int]:
    """Ids of the newest messages holding all (or any) of ``words``, newest first.

    The cost is bounded by ``limit`` however common the words are: FTS5 reads hits from
    the end of its index; PostgreSQL's GIN index cannot, so it looks in a window of the
    newest message ids first and widens it only while too few hits are found.
    """
    words = [w for w in words if w.strip()]
    if not words:
        return []
    if is_sqlite(conn):
        joiner = " AND " if require_all else " OR "
        expr = joiner.join('"' + w.replace('"', '""') + '"' for w in words)
        sql = (
            "SELECT rowid FROM message_fts WHERE message_fts MATCH :q "
            "ORDER BY rowid DESC LIMIT :limit"
        )
        return [r[0] for r in conn.execute(text(sql), {"q": expr, "limit": limit})]
    params: dict[str, Any] = {f"w{i}": w for i, w in enumerate(words)}
    joiner = " && " if require_all else " || "
    query = joiner.join(f"plainto_tsquery('simple', :w{i})" for i in range(len(words)))
    sql = (
        f"SELECT id FROM message WHERE search @@ ({query}) AND id > :floor "
        "ORDER BY id DESC LIMIT :limit"
    )
    top = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM message")).scalar_one())
    window = 20_000
    while True:
        params.update(limit=limit, floor=top - window)
        ids = [r[0] for r in conn.execute(text(sql), params)]
        if len(ids) >= limit or window >= top:
            return ids
        window *= 8
