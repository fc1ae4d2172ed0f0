"""What makes a bulk mail import cheaper must not change what it stores: bigger
batches for mail files, bounded run caches, the import connection's SQLite settings,
and the content hash's fast path."""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deskterm.connectors.records import _UNICODE_DROP, InboundRecord, Party, content_hash
from deskterm.ingest import state as ingest_state
from deskterm.ingest.pacing import BULK_FACTOR
from deskterm.ingest.pipeline import Ingestor
from deskterm.ingest.service import import_paths
from deskterm.settings import Settings, parse_settings
from deskterm.store import Store
from tests.mail import corpus


def settings(**ingest: Any) -> Settings:
    return parse_settings(
        {"agent": {"name": "Ana Souza", "email": "support@example.com"}, "ingest": ingest}
    )


def test_mail_files_are_written_in_bigger_batches_unless_the_config_sets_one(
    store: Store,
) -> None:
    default = settings()
    assert Ingestor(store, default).batch_size == 500
    assert Ingestor(store, default, bulk=True).batch_size == 500 * BULK_FACTOR
    assert Ingestor(store, settings(batch_size=50), bulk=True).batch_size == 50


def test_the_import_connection_checkpoints_less_and_never_grows_its_page_cache(
    store: Store,
) -> None:
    with store.ingest.ingest_unit(alone=True) as writer:
        pragma = writer.conn.exec_driver_sql
        assert pragma("PRAGMA wal_autocheckpoint").scalar_one() == 20_000
        assert pragma("PRAGMA cache_size").scalar_one() == -32 * 1024
    # With others writing, the import checkpoints at SQLite's default itself.
    with store.ingest.ingest_unit() as writer:
        assert writer.conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
    with store.ingest.ingest_unit(alone=True) as writer:
        pragma = writer.conn.exec_driver_sql
        pragma("PRAGMA cache_size=-2048")  # as the console sets a small one
    with store.ingest.ingest_unit() as writer:
        assert writer.conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -2048


def threads(root: Path, count: int) -> Path:
    """``count`` threads of three messages (customer, agent, customer), interleaved so
    that each thread's replies come long after its first message."""
    base = corpus.BASE
    messages = []
    for step in range(3):
        for n in range(count):
            sender = f"Customer {n} <c{n}@acme.com>"
            agent = "Ana Souza <support@example.com>"
            refs = [f"<t{n}.{k}@acme.com>" for k in range(step)]
            messages.append(
                corpus.message(
                    sender=agent if step == 1 else sender,
                    to=sender if step == 1 else agent,
                    subject=("Re: " if step else "") + f"Order {n} never arrived",
                    body=f"Message {step} of thread {n}.\n",
                    msgid=f"<t{n}.{step}@acme.com>",
                    date=base + timedelta(hours=step, minutes=n),
                    in_reply_to=refs[-1] if refs else None,
                    references=refs,
                )
            )
    return corpus.write_maildir(root, messages)


def placed(store: Store) -> list[tuple[Any, ...]]:
    with store.db.engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT m.message_id, m.ticket_id, t.message_count, t.status "
                "FROM message m JOIN ticket t ON t.id = m.ticket_id ORDER BY m.message_id"
            )
        )


def test_threads_are_followed_the_same_when_the_run_forgets_old_tickets_and_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maildir = threads(tmp_path / "maildir", 60)
    config = settings(batch_size=20)
    results: list[list[tuple[Any, ...]]] = []
    for limit in (None, 3):
        if limit is not None:  # a run that keeps almost nothing between batches
            monkeypatch.setattr(ingest_state, "_KNOWN_LIMIT", limit)
            monkeypatch.setattr(ingest_state, "_THREADS_LIMIT", limit)
        store = Store.open(tmp_path / f"store-{limit}.db")
        try:
            summary = import_paths(store, config, "mail", [maildir], workers=1)
            assert (summary.messages_new, summary.tickets_created) == (180, 60)
            results.append(placed(store))
        finally:
            store.close()
    assert results[0] == results[1]
    assert {row[2] for row in results[0]} == {3}  # every thread whole on one ticket


def _reference_hash(record: InboundRecord) -> str:
    """The content hash as first written: NFC, whitespace out, a regex pass for
    control and replacement characters, case folded."""
    import hashlib

    text = unicodedata.normalize(
        "NFC", "\x1f".join((record.author.value, record.subject, record.body))
    )
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\ufffd]+", "", "".join(text.split()))
    return hashlib.sha1(text.casefold().encode("utf-8", "surrogatepass")).hexdigest()


@pytest.mark.parametrize(
    "body",
    [
        "Plain ASCII text.\r\nSecond line.",
        "ASCII with\tTABS, \x0bVT\x0c FF \x1c-\x1f\x1f seps, NUL\x00 \x01 BEL\x07 DEL\x7f ~!",
        "MiXeD CaSe [\\]^_` {|}@ 0123456789" * 3_000,  # ASCII over one piece
        "Caf\u0065\u0301 and caf\u00e9",  # NFC joins the first into the second
        "Null\x00 bytes\x7f and C1 \x85\x9f controls",
        "Broken \ufffd replacement and a\u00a0no-break space",
        "Zero\u200bwidth and Stra\u00dfe",
        "x" * 70_000 + "\x01" + "y" * 70_000,
        # Case folds that grow (ß, ﬃ, İ), final sigma, combining marks, NUL, C1, U+FFFD.
        "".join(random.Random(7).choices("aB ÉßΣς\u0301\n\t\x00\x85\ufffdﬃİ", k=200_000)),
    ],
    ids=lambda body: f"{body[:12]!r}-{len(body)}",
)
def test_the_content_hash_is_the_same_as_before_its_fast_path(body: str) -> None:
    from datetime import UTC, datetime

    record = InboundRecord(
        channel="email",
        source_key="k",
        author=Party("email", "a@b.c"),
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
        subject="Subject",
        body=body,
    )
    assert content_hash(record) == _reference_hash(record)


def test_the_content_hash_leaves_out_exactly_whitespace_controls_and_u_fffd() -> None:
    """Every code point: the hash drops it alone iff it is whitespace (what split()
    splits on), a control character or U+FFFD (the UTF-8 table in records.py)."""
    from datetime import UTC, datetime

    def digest(text: str) -> str:
        record = InboundRecord(
            channel="email", source_key="k", author=Party("email", "a@b.c"),
            sent_at=datetime(2026, 1, 1, tzinfo=UTC), subject="", body=text,
        )  # fmt: skip
        return content_hash(record)

    empty = digest("")
    dropped = [
        c for c in range(0x80, sys.maxunicode + 1)
        if not 0xD800 <= c < 0xE000 and _UNICODE_DROP.fullmatch(chr(c).encode())
    ]  # fmt: skip
    expected = [
        c for c in range(0x80, sys.maxunicode + 1)
        if chr(c).isspace() or 0x80 <= c < 0xA0 or c == 0xFFFD
    ]  # fmt: skip
    assert dropped == expected
    assert all(digest(chr(c)) == empty for c in expected)
    assert all(digest(chr(c)) == empty for c in [*range(0x21), 0x7F])
    assert digest("\u00e9") != empty


def test_a_maildir_import_with_the_default_config_matches_an_explicit_small_batch(
    tmp_path: Path, isolated_home: Path
) -> None:
    """Mail files in batches of 2,000 (the default) or of 500 (set in the config)
    store the same tickets."""
    maildir = threads(tmp_path / "maildir", 700)  # 2,100 messages: two bulk batches
    results: list[list[tuple[Any, ...]]] = []
    for config in (settings(), settings(batch_size=500)):
        store = Store.open(tmp_path / f"store-{len(results)}.db")
        try:
            summary = import_paths(store, config, "mail", [maildir], workers=1)
            assert summary.messages_new == 2100
            results.append(placed(store))
        finally:
            store.close()
    assert results[0] == results[1]
