"""Everything that differs between SQLite and PostgreSQL, in one place.

Full-text search: SQLite uses an FTS5 table over ``message(subject, body)`` kept in
step by triggers; PostgreSQL a stored ``tsvector`` column with a GIN index. Both
return message ids newest first (highest id first), which is cheap on both engines;
ranking every hit by relevance is not, and support agents want the latest mail anyway.

Both stores must find the same tickets for the same words (PRODUCT.md §7), so both cut
text into the same words: FTS5's ``unicode61`` tokenizer (runs of letters and digits,
case and Latin accents folded) on SQLite; on PostgreSQL the ``deskterm_search_words``
function rewrites the text into exactly those words before the ``simple``
configuration indexes them. Neither side stems: FTS5 cannot use PostgreSQL's Snowball
stemmers, so ``english`` on one side only would make ``refunds`` find ``refund`` on
PostgreSQL alone; ``refund*`` finds both words on both. The query language is parsed
once (:func:`deskterm.query.parse_text`) and compiled here for each engine.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, insert, text

from deskterm.query import Term, TextQuery
from deskterm.store.types import UTCDateTime

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


def is_sqlite(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite"


# -- change notifications (live updates and presence across processes) -----------------

CHANGE_CHANNEL = "deskterm_changes"
_NOTIFY_TABLES = ("ticket", "presence")


def install_change_notify(conn: Connection) -> None:
    """PostgreSQL: every committed change to a ticket or to presence sends a NOTIFY
    (delivered at commit; identical payloads in one transaction are sent once), so
    consoles wake at once instead of polling. SQLite needs nothing: consoles read
    ``PRAGMA data_version``, which moves when another connection commits."""
    if is_sqlite(conn):
        return
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION deskterm_notify() RETURNS trigger AS $$ BEGIN "
        f"PERFORM pg_notify('{CHANGE_CHANNEL}', TG_TABLE_NAME); RETURN NULL; END; "
        "$$ LANGUAGE plpgsql"
    )
    for table in _NOTIFY_TABLES:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION deskterm_notify()"
        )


def drop_change_notify(conn: Connection) -> None:
    if is_sqlite(conn):
        return
    for table in _NOTIFY_TABLES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS deskterm_notify()")


class ChangeWatch:
    """Waits until another process commits a change (or a timeout passes).

    SQLite: ``PRAGMA data_version`` on a connection of its own, polled every
    :attr:`POLL` seconds (it moves only when *another* connection commits).
    PostgreSQL: ``LISTEN`` on its own autocommit connection; the triggers above
    wake it at commit time.
    """

    POLL = 0.2

    def __init__(self, engine: Engine) -> None:
        self.sqlite = engine.dialect.name == "sqlite"
        if self.sqlite:
            self._raw = engine.raw_connection()
            self._version = self._data_version()
        else:
            import psycopg

            url = engine.url.set(drivername="postgresql")
            self._pg = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._pg.execute(f"LISTEN {CHANGE_CHANNEL}")

    def _data_version(self) -> int:
        cursor = self._raw.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        finally:
            cursor.close()

    def wait(self, timeout: float) -> bool:
        """True as soon as something was committed elsewhere; False after ``timeout``."""
        import time

        if not self.sqlite:
            woke = False
            for _note in self._pg.notifies(timeout=timeout, stop_after=1):
                woke = True
            # Drain what else arrived, so one burst of commits wakes us once.
            for _note in self._pg.notifies(timeout=0):
                pass
            return woke
        deadline = time.monotonic() + timeout
        while True:
            version = self._data_version()
            if version != self._version:
                self._version = version
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.POLL)

    def close(self) -> None:
        if self.sqlite:
            self._raw.close()
        else:
            self._pg.close()


def upsert(conn: Connection, table: Any) -> Any:
    """An ``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` for this
    dialect (both spell ``ON CONFLICT`` alike, through different constructs)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (sqlite if is_sqlite(conn) else postgresql).insert(table)


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
        conn.exec_driver_sql(_search_words_function())
        conn.exec_driver_sql(
            "ALTER TABLE message ADD COLUMN search tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', deskterm_search_words("
            "coalesce(subject, '') || ' ' || coalesce(body, '')))) STORED"
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
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS deskterm_search_words(text)")


def reset_sequences(conn: Connection, tables: list[Any]) -> None:
    """After rows were inserted with their ids (a copy), PostgreSQL's id sequences must
    continue after the highest id; SQLite takes the next rowid by itself."""
    if is_sqlite(conn):
        return
    for table in tables:
        if "id" in table.c and table.c.id.autoincrement:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            )


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


_LATIN_MARKS = re.compile("([a-z])[\u0300-\u036f]+")


def search_words(text: str) -> list[str]:
    """The words PostgreSQL indexes for ``text``, as FTS5 ``unicode61 remove_diacritics
    2`` does on SQLite: runs of letters and digits, lower-cased, Latin accents removed.

    This is the Python twin of the ``deskterm_search_words`` SQL function that builds
    PostgreSQL's index, so a typed word becomes exactly the lexeme stored for it.
    """
    folded = "".join(c.lower() for c in text)  # per character, as towlower() does
    if not folded.isascii():
        decomposed = _LATIN_MARKS.sub(r"\1", unicodedata.normalize("NFD", folded))
        folded = unicodedata.normalize("NFC", decomposed).replace("\u03c2", "\u03c3")
    words, word = [], []
    for char in folded:
        if _is_word_char(char):
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def _is_word_char(char: str) -> bool:
    """FTS5 ``unicode61``'s token characters: letters, digits and private use."""
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def _separator_class() -> str:
    """A regex bracket expression of every character that is not a word character,
    spelled as code point ranges so it does not depend on the server's locale."""
    ranges: list[tuple[int, int]] = []
    for code in range(1, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF or _is_word_char(chr(code)):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))

    def escape(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return "[" + "".join(escape(a) + (f"-{escape(b)}" if b > a else "") for a, b in ranges) + "]"


def _search_words_function() -> str:
    """DDL of ``deskterm_search_words(text)``: the text PostgreSQL's ``simple`` parser
    sees, cut into the same words as FTS5 sees (see :func:`search_words`).

    Without it, PostgreSQL's parser keeps ``ana@acme.com``, ``example.com/x`` or
    ``1.5`` whole, reads ``ORD-366859`` as ``ord`` and ``-366859``, and keeps accents,
    so the same word found different tickets on the two stores. Pure-ASCII text (most
    mail) skips the Unicode normalisation and the long character class: together they
    cost three times the rest.
    """
    return (
        "CREATE OR REPLACE FUNCTION deskterm_search_words(doc text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$ SELECT CASE "
        "WHEN doc ~ '[^\\x01-\\x7f]' THEN regexp_replace(replace(normalize(regexp_replace("
        "normalize(lower(doc), NFD), '([a-z])[\\u0300-\\u036f]+', '\\1', 'g'), NFC), "
        f"'\u03c2', '\u03c3'), '{_separator_class()}+', ' ', 'g') "
        "ELSE regexp_replace(lower(doc), '[^0-9a-z]+', ' ', 'g') END $fn$"
    )


def fts5_query(query: TextQuery) -> str | None:
    """The query as an FTS5 expression; ``None`` when no term has a word to look for.

    Every term is one quoted FTS5 string (quotes doubled), so apostrophes,
    backslashes and FTS5 syntax (``AND``, ``:``, ``^``, ``-``) in it are only text;
    FTS5 cuts the string into words with the tokenizer that built the index, and a
    trailing ``*`` marks the last of them as a prefix.
    """
    clauses, excluded = _searchable(query)
    if not clauses:
        return None

    def term(t: Term) -> str:
        return '"' + t.text.replace('"', '""') + '"' + ("*" if t.prefix else "")

    every = " AND ".join("(" + " OR ".join(map(term, clause)) + ")" for clause in clauses)
    return " NOT ".join([f"({every})", *map(term, excluded)])


def tsquery(query: TextQuery) -> str | None:
    """The query for PostgreSQL's ``to_tsquery('simple', …)``; ``None`` as above.

    Words are quoted lexemes from :func:`search_words` (letters and digits only, so
    nothing in them is tsquery syntax); a phrase is ``<->``, a prefix ``:*``.
    """
    clauses, excluded = _searchable(query)
    if not clauses:
        return None

    def term(t: Term) -> str:
        lexemes = [
            "'" + w.replace("'", "''").replace("\\", "\\\\") + "'" for w in search_words(t.text)
        ]
        if t.prefix:
            lexemes[-1] += ":*"
        return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"

    every = " & ".join("(" + " | ".join(map(term, clause)) + ")" for clause in clauses)
    return " & ".join([every, *(f"!{term(t)}" for t in excluded)])


def _searchable(query: TextQuery) -> tuple[list[list[Term]], list[Term]]:
    """The query without terms that hold no word (``&&``, ``-``, an emoji): both
    databases would ignore them differently, so neither sees them."""
    clauses = [[t for t in clause if search_words(t.text)] for clause in query.clauses]
    excluded = [t for t in query.excluded if search_words(t.text)]
    return [c for c in clauses if c], excluded


def _match(conn: Connection, query: TextQuery) -> tuple[str, str, str, str] | None:
    """(table, id column, condition, its ``:q``) for messages matching ``query``."""
    if is_sqlite(conn):
        expr = fts5_query(query)
        return None if expr is None else ("message_fts", "rowid", "message_fts MATCH :q", expr)
    expr = tsquery(query)
    return None if expr is None else ("message", "id", "search @@ to_tsquery('simple', :q)", expr)


_RECENT_PER_HIT = 200  # messages read from the newest before trusting the index instead


def search_message_ids(
    conn: Connection, query: TextQuery, limit: int, before_id: int | None = None
) -> list[int]:
    """Ids of messages matching ``query``, highest (newest) first, below ``before_id``.

    On PostgreSQL a common word is found fastest by walking the newest messages and a
    rare one through the GIN index, and the planner cannot tell them apart: it guesses
    0.5 % for any word it has no statistics for and walks, so an absent word read every
    message (300 ms at 300k messages, seconds at 3M). So walk at most
    ``limit × _RECENT_PER_HIT`` of the newest messages (enough when at least 0.5 %
    match); if that does not fill the page the word is rare, and all its hits come from
    the index (at most 0.5 % of the messages) and are sorted.
    """
    match = _match(conn, query)
    if match is None:
        return []
    table, key, condition, expr = match
    below = "" if before_id is None else f"AND {key} < :before"
    params: dict[str, Any] = {"q": expr, "limit": limit, "before": before_id}
    if is_sqlite(conn):  # FTS5 reads its index backwards from the newest row by itself
        sql = (
            f"SELECT {key} FROM {table} WHERE {condition} {below} ORDER BY {key} DESC LIMIT :limit"
        )
        return [row[0] for row in conn.execute(text(sql), params)]
    recent = (
        f"SELECT id FROM (SELECT id, search FROM message WHERE true {below} ORDER BY id DESC "
        f"LIMIT :budget) AS recent WHERE {condition} ORDER BY id DESC LIMIT :limit"
    )
    ids = [
        row[0] for row in conn.execute(text(recent), {**params, "budget": limit * _RECENT_PER_HIT})
    ]
    if len(ids) == limit:
        return ids
    rare = (
        f"WITH hit AS MATERIALIZED (SELECT id FROM message WHERE {condition} {below}) "
        "SELECT id FROM hit ORDER BY id DESC LIMIT :limit"
    )
    return [row[0] for row in conn.execute(text(rare), params)]


def count_matches(conn: Connection, query: TextQuery) -> int:
    """How many messages match (for a result header; may cost more than a page)."""
    match = _match(conn, query)
    if match is None:
        return 0
    table, _key, condition, expr = match
    sql = f"SELECT count(*) FROM {table} WHERE {condition}"
    return int(conn.execute(text(sql), {"q": expr}).scalar_one())


LIKE_ESCAPE = "\\"


def contains(text: str) -> str:
    """A LIKE pattern for "contains ``text``" in which ``%``, ``_`` and ``\\`` are
    literal; use it with ``escape=LIKE_ESCAPE``. The explicit escape character is a
    dialect matter: PostgreSQL escapes with a backslash by default, SQLite not at all,
    so ``C:\\Users`` matched differently without it."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def integrity_check(conn: Connection) -> str:
    """SQLite's ``quick_check`` (``"ok"`` or its first complaint); PostgreSQL checks its
    pages itself, so there it is ``"ok"``."""
    if not is_sqlite(conn):
        return "ok"
    return str(conn.exec_driver_sql("PRAGMA quick_check").scalar())


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


# -- metrics: date arithmetic and percentiles (store/metrics.py builds on these) --------


def seconds_between(dialect_name: str, later: str, earlier: str) -> str:
    """SQL for the seconds from ``earlier`` to ``later`` (two timestamp expressions)."""
    if dialect_name == "sqlite":
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
    return f"extract(epoch from ({later} - {earlier}))"


def period_start(dialect_name: str, expr: str, unit: str) -> str:
    """SQL for the ``YYYY-MM-DD`` start of the UTC week (Monday) or month of ``expr``."""
    if dialect_name == "sqlite":
        if unit == "week":
            return f"date({expr}, 'weekday 0', '-6 days')"
        return f"strftime('%Y-%m-01', {expr})"
    return f"to_char(date_trunc('{unit}', {expr} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


def hour_and_weekday(dialect_name: str, expr: str) -> tuple[str, str]:
    """SQL for the UTC hour (0-23) and weekday (0 = Monday) of ``expr``."""
    if dialect_name == "sqlite":
        return (
            f"CAST(strftime('%H', {expr}) AS INTEGER)",
            f"((CAST(strftime('%w', {expr}) AS INTEGER) + 6) % 7)",
        )
    return (
        f"CAST(extract(hour from {expr} AT TIME ZONE 'UTC') AS INTEGER)",
        f"CAST(extract(isodow from {expr} AT TIME ZONE 'UTC') AS INTEGER) - 1",
    )


def median_p90(dialect_name: str, values: str) -> str:
    """SQL answering ``(k, n, median, p90)`` per group over the rows of ``values``.

    ``values`` is a query with columns ``k`` (group) and ``x`` (non-null numbers).
    Both engines interpolate linearly between the closest ranks, as PostgreSQL's
    ``percentile_cont`` does; SQLite has no percentile aggregate, so there the ranks
    come from window functions over the same rows.
    """
    if dialect_name != "sqlite":
        return (
            "SELECT k, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY x), "
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY x) FROM ({values}) v GROUP BY k"
        )

    def at(p: float) -> str:
        pos = f"({p} * (n - 1))"
        lo = f"sum(CASE WHEN i = CAST({pos} AS INTEGER) THEN x END)"
        hi = f"sum(CASE WHEN i = min(CAST({pos} AS INTEGER) + 1, n - 1) THEN x END)"
        frac = f"(max({pos}) - max(CAST({pos} AS INTEGER)))"
        return f"{lo} + {frac} * ({hi} - {lo})"

    return (
        f"SELECT k, max(n), {at(0.5)}, {at(0.9)} FROM ("
        "SELECT k, x, row_number() OVER (PARTITION BY k ORDER BY x) - 1 AS i, "
        # The same window as the rank (one sort), over the whole partition.
        "count(*) OVER (PARTITION BY k ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND "
        f"UNBOUNDED FOLLOWING) AS n FROM ({values}) v) r GROUP BY k"
    )


def utc_day_and_second(dialect_name: str, expr: str) -> tuple[str, str]:
    """SQL for the UTC day number (days since 1970-01-01) and the second of that day."""
    if dialect_name == "sqlite":
        epoch = f"((julianday({expr}) - 2440587.5) * 86400.0)"
        day = f"CAST({epoch} / 86400 AS INTEGER)"
    else:
        epoch = f"extract(epoch from {expr})"
        day = f"CAST(floor({epoch} / 86400) AS INTEGER)"
    return day, f"({epoch} - {day} * 86400)"


def clamp(dialect_name: str, value: str, high: str) -> str:
    """SQL for ``value`` limited to ``[0, high]``."""
    if dialect_name == "sqlite":
        return f"max(0, min({value}, {high}))"
    return f"greatest(0, least({value}, {high}))"


# -- batched inserts (ingest) -----------------------------------------------------------


class RowWriter:
    """The inserts of one write transaction, each described once: a table and row
    dicts (the table's Python-side defaults filled in, as SQLAlchemy would).

    PostgreSQL runs them as Core ``insert(table)`` with ``executemany``. SQLite runs the
    same INSERT as plain DB-API calls with tuples: that skips SQLAlchemy's per-row
    parameter processing, the largest cost of a chat import after SQLite itself
    (datetimes are converted exactly as :class:`UTCDateTime` stores them).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = is_sqlite(conn)
        self._cursor: Any = None
        self._last_id: dict[str, int] = {}

    @property
    def cursor(self) -> Any:
        """SQLite: a DB-API cursor on this connection and transaction."""
        if self._cursor is None:
            self._cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    @staticmethod
    def complete(table: Any, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` with the table's Python-side defaults filled in (a copy if any)."""
        return _with_defaults(table, row)

    def insert_many(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows that all have the same keys."""
        if not rows:
            return
        rows = [_with_defaults(table, r) for r in rows]
        if not self.sqlite:
            self.conn.execute(insert(table), rows)
            return
        sql, convert = _prepared(self.conn, table, tuple(rows[0]))
        self.cursor.executemany(sql, [convert(r) for r in rows])

    def insert_id(self, table: Any, row: dict[str, Any]) -> int:
        """Insert one row; its new id. On SQLite a tenth of the cost of a Core
        statement, which matters when an import meets thousands of new customers."""
        row = _with_defaults(table, row)
        if not self.sqlite:
            return int(self.conn.execute(_returning_id(table), row).scalar_one())
        sql, convert = _prepared(self.conn, table, tuple(row))
        cursor = self.cursor
        cursor.execute(sql, convert(row))
        return int(cursor.lastrowid)

    def execute_many(self, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Run a Core statement (an UPDATE) once per row of parameters. On SQLite it is
        compiled once and run on the cursor with tuples, the parameters typed
        :class:`UTCDateTime` converted as that type stores them."""
        if not rows:
            return
        if not self.sqlite:
            self.conn.execute(statement, rows)
            return
        compiled = _COMPILED.get(id(statement))
        if compiled is None:
            done = statement.compile(dialect=self.conn.dialect)
            names = list(done.positiontup or ())
            # Values the statement carries itself (the 1 of "version + 1").
            fixed = {n: b.value for n, b in done.binds.items() if not b.required}
            times = frozenset(n for n, b in done.binds.items() if isinstance(b.type, UTCDateTime))
            compiled = _COMPILED[id(statement)] = (str(done), _RowTuples(names, times), fixed)
        sql, convert, fixed = compiled
        self.cursor.executemany(sql, [convert(fixed | r if fixed else r) for r in rows])

    def reserve_id(self, table: Any) -> int:
        """An id for a row this transaction inserts later (with ``insert_many``).

        SQLite: the transaction holds the write lock (``BEGIN IMMEDIATE``), so the ids
        after the highest are its own. PostgreSQL: the next value of the table's
        sequence, never handed out twice.
        """
        if not self.sqlite:
            return int(
                self.conn.execute(
                    text("SELECT nextval(pg_get_serial_sequence(:t, 'id'))"), {"t": table.name}
                ).scalar_one()
            )
        last = self._last_id.get(table.name)
        if last is None:
            last = int(
                self.cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()[0]
            )
        self._last_id[table.name] = last + 1
        return last + 1


def _defaults_of(table: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(column, value maker) for every column with a Python-side default."""
    out: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        default = column.default
        if default is None:
            continue
        if default.is_callable:
            out.append((column.name, partial(default.arg, None)))
        elif default.is_scalar:
            out.append((column.name, partial(lambda v: v, default.arg)))
    return out


_DEFAULTS: dict[str, list[tuple[str, Callable[[], Any]]]] = {}
_RETURNING: dict[str, Any] = {}
_PREPARED: dict[tuple[str, tuple[str, ...]], tuple[str, _RowTuples]] = {}
# id of a statement built once at import time → its SQLite SQL and row converter
_COMPILED: dict[int, tuple[str, _RowTuples, dict[str, Any]]] = {}


def _with_defaults(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    defaults = _DEFAULTS.get(table.name)
    if defaults is None:
        defaults = _DEFAULTS[table.name] = _defaults_of(table)
    missing = [(name, make) for name, make in defaults if name not in row]
    if not missing:
        return row
    row = dict(row)
    for name, make in missing:
        row[name] = make()
    return row


def _returning_id(table: Any) -> Any:
    statement = _RETURNING.get(table.name)
    if statement is None:
        statement = _RETURNING[table.name] = insert(table).returning(table.c.id)
    return statement


def _prepared(conn: Connection, table: Any, columns: tuple[str, ...]) -> tuple[str, _RowTuples]:
    """SQLite: the INSERT for these columns and the row converter, built once."""
    key = (table.name, columns)
    prepared = _PREPARED.get(key)
    if prepared is None:
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" * len(columns))
        times = frozenset(c.name for c in table.columns if isinstance(c.type, UTCDateTime))
        prepared = _PREPARED[key] = (
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",
            _RowTuples(list(columns), times),
        )
    return prepared


def _sqlite_time(value: datetime | None) -> str | None:
    """A datetime exactly as :class:`UTCDateTime` stores it on SQLite (naive UTC text
    with microseconds), so rows written here and through SQLAlchemy sort together."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


class _RowTuples:
    """Turns row dicts into tuples for one column list, converting datetimes (a batch
    shares one ``created_at`` and neighbours often share ``sent_at``: the last
    conversion per column is reused)."""

    def __init__(self, columns: list[str], times: frozenset[str]) -> None:
        getter = itemgetter(*columns)
        self.get = getter if len(columns) > 1 else lambda row: (getter(row),)
        self.times = [i for i, c in enumerate(columns) if c in times]
        self._last: dict[int, tuple[Any, str | None]] = {}

    def __call__(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = list(self.get(row))
        last = self._last
        memo: dict[int, str | None] = {}  # one datetime in several places (an UPDATE's)
        for i in self.times:
            value = values[i]
            if value is None:
                continue
            seen = last.get(i)
            if seen is not None and seen[0] is value:
                values[i] = seen[1]
                continue
            converted = memo.get(id(value))
            if converted is None:
                converted = memo[id(value)] = _sqlite_time(value)
            values[i] = converted
            last[i] = (value, converted)
        return tuple(values)
