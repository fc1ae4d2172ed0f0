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

import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from deskterm.query import Term, TextQuery
from deskterm.store.dialect import is_sqlite

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


def pause_search_index(conn: Connection) -> None:
    """Stop per-row index upkeep before a bulk load (SQLite only; see resume)."""
    if is_sqlite(conn):
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS message_fts_ai")


def resume_search_index(conn: Connection) -> None:
    """Rebuild the index once after a bulk load: ~2x faster than a trigger per row."""
    if is_sqlite(conn):
        conn.exec_driver_sql("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
        conn.exec_driver_sql(_FTS_TRIGGERS["message_fts_ai"])


def begin_copy_load(conn: Connection) -> None:
    """Before a whole-store copy in one transaction: stop index upkeep. PostgreSQL
    drops the GIN index (a rollback brings it back): built once at the end it costs a
    fraction of millions of per-row GIN inserts."""
    pause_search_index(conn)
    if not is_sqlite(conn):
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_message_search")


def end_copy_load(conn: Connection) -> None:
    """After the copy: build the search index once (see :func:`begin_copy_load`)."""
    resume_search_index(conn)
    if not is_sqlite(conn):
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        conn.exec_driver_sql("CREATE INDEX ix_message_search ON message USING gin (search)")


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


LIKE_ESCAPE = "\\"


def contains(text: str) -> str:
    """A LIKE pattern for "contains ``text``" in which ``%``, ``_`` and ``\\`` are
    literal; use it with ``escape=LIKE_ESCAPE``. The explicit escape character is a
    dialect matter: PostgreSQL escapes with a backslash by default, SQLite not at all,
    so ``C:\\Users`` matched differently without it."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
