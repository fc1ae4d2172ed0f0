"""What the mail limits leave out is said: in the stored message, and as a failure.

MIME parts beyond ``MAX_PARTS``, parts nested beyond ``MAX_DEPTH`` and the rest of a
message over ``max_message_bytes`` are not read; each such message is still imported,
says what is missing at the end of its body, and comes with a recorded failure so the
summary counts it. Memory for big mail is measured by ``bench/bench_mail_size.py``.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.connectors.imap import ImapSync
from deskterm.connectors.mailfile import read_mail
from deskterm.connectors.mailjobs import STREAM_ABOVE, parse_items
from deskterm.connectors.mailsource import MailJob
from deskterm.connectors.mime import MAX_DEPTH, MAX_PARTS, ParseOptions, RawKey, raw_key
from deskterm.connectors.records import AlreadyStored, InboundRecord, ParseFailure
from tests.mail import corpus
from tests.mail.conftest import Imap

HEAD = (
    "From: Bea Costa <bea@acme.example>\nTo: support@example.com\nSubject: Logs\n"
    "Date: Mon, 2 Nov 2026 09:00:00 +0000\nMessage-ID: <{id}@acme.example>\n"
    "MIME-Version: 1.0\n"
)


def many_parts(count: int) -> bytes:
    parts = "".join(f"--b\nContent-Type: text/plain\n\npart {n}\n" for n in range(count))
    return (HEAD.format(id="many") + 'Content-Type: multipart/mixed; boundary="b"\n\n'
            + parts + "--b--\n").encode()  # fmt: skip


def deep_parts(depth: int) -> bytes:
    body = "Content-Type: text/plain\n\nthe bottom\n"
    for level in range(depth):
        body = (f'Content-Type: multipart/mixed; boundary="b{level}"\n\n'
                f"--b{level}\n{body}--b{level}--\n")  # fmt: skip
    return (HEAD.format(id="deep") + body).encode()


def big_attachment(size: int) -> bytes:
    data = random.Random(size).randbytes(size * 3 // 4)
    return (
        (
            HEAD.format(id=f"big{size}") + 'Content-Type: multipart/mixed; boundary="b"\n\n'
            "--b\nContent-Type: text/plain\n\nThe logs are attached.\n--b\n"
            'Content-Type: application/octet-stream; name="logs.bin"\n'
            "Content-Transfer-Encoding: base64\n\n"
        ).encode()
        + base64.encodebytes(data)
        + b"--b--\n"
    )


def imported(path: Path, **options: Any) -> tuple[list[InboundRecord], list[ParseFailure]]:
    items = list(read_mail([path], ParseOptions(**options), workers=1))
    return (
        [i for i in items if isinstance(i, InboundRecord)],
        [i for i in items if isinstance(i, ParseFailure)],
    )


def test_parts_beyond_the_part_limit_are_counted_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "many.eml"
    path.write_bytes(many_parts(MAX_PARTS + 10))
    [record], [failure] = imported(path)
    # The multipart itself is the first part looked at.
    note = f"11 MIME parts beyond the first {MAX_PARTS} not read"
    assert record.body.endswith(f"part {MAX_PARTS - 2}\n\n[deskterm: {note}]")
    assert (failure.source, failure.position) == (str(path), "file")
    assert failure.reason == f"imported without part of it: {note}"


def test_parts_beyond_the_depth_limit_are_counted_and_marked(tmp_path: Path) -> None:
    path = tmp_path / "deep.eml"
    path.write_bytes(deep_parts(MAX_DEPTH + 5))
    [record], [failure] = imported(path)
    note = f"1 MIME part nested more than {MAX_DEPTH} levels deep not read"
    assert record.body == f"[deskterm: {note}]"
    assert failure.reason.endswith(note)
    path.write_bytes(deep_parts(MAX_DEPTH))
    [record], failures = imported(path)
    assert (record.body, failures) == ("the bottom", [])


def test_a_message_over_the_size_limit_is_read_only_to_it(tmp_path: Path) -> None:
    raw = big_attachment(3 << 20)
    path = tmp_path / "big.eml"
    path.write_bytes(raw)
    [record], [failure] = imported(path, max_message_bytes=1 << 20)
    size = len(raw) / (1 << 20)
    note = (
        f"only the first 1.0 MB of this {size:.1f} MB message were read (the per-message "
        "size limit); the rest, attachments included, is not stored"
    )
    assert record.body == f"The logs are attached.\n\n[deskterm: {note}]"
    assert failure.reason == f"imported without part of it: {note}"
    # The key is the whole file's, so a re-import with a higher limit is a duplicate
    # (the limit does not change what the message is).
    assert record.source_key == raw_key(raw)
    again = list(read_mail([path], workers=1, known=lambda keys: set(keys)))
    assert again == [AlreadyStored(raw_key(raw))]
    [whole], [] = imported(path)  # under the default limit of 50 MB
    assert whole.attachments[0].size == (3 << 20) * 3 // 4


def test_a_big_message_in_an_mbox_is_cut_and_its_neighbours_are_not(tmp_path: Path) -> None:
    small = corpus.message(body="before\n", msgid="<s1@x>")
    after = corpus.message(body="after\n", msgid="<s2@x>")
    mbox = corpus.write_mbox(tmp_path / "box", [small, big_attachment(STREAM_ABOVE * 2), after])
    records, [failure] = imported(mbox, max_message_bytes=STREAM_ABOVE)
    assert [r.body.split("\n")[0] for r in records] == ["before", "The logs are attached.", "after"]
    assert failure.position.startswith("message 2 ")
    assert "[deskterm: only the first 4.0 MB of this" in records[1].body


@pytest.mark.parametrize("seed", range(20))
def test_the_streamed_key_is_the_whole_key(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.choice(b"ab \t\r\n") for _ in range(rng.randrange(0, 400)))
    key = RawKey()
    at = 0
    while at < len(data):
        step = rng.randrange(1, 9)
        key.update(data[at : at + step])
        at += step
    assert (
        key.key()
        == "mail:" + __import__("hashlib").sha1(data.replace(b"\r\n", b"\n").rstrip()).hexdigest()
    )
    assert raw_key(data) == key.key()


def test_limits_reach_the_summary_and_the_store(tmp_path: Path, isolated_home: Path) -> None:
    path = tmp_path / "many.eml"
    path.write_bytes(many_parts(MAX_PARTS + 1))
    db = str(tmp_path / "s.db")
    result = CliRunner().invoke(app, ["--db", db, "import", "mail", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["messages_new"], summary["messages_failed"]) == (1, 1)
    assert "2 MIME parts beyond the first" in summary["failures"][0]["reason"]
    from deskterm.store import Store

    store = Store.open(Path(db))
    try:
        [ticket] = store.queue.list_tickets(limit=5).rows
        body = store.tickets.get_ticket(ticket.number).messages[0].body
    finally:
        store.close()
    assert body.endswith(f"[deskterm: 2 MIME parts beyond the first {MAX_PARTS} not read]")


@pytest.mark.imap
def test_imap_fetches_only_the_head_of_a_message_over_the_limit(imap: Imap) -> None:
    from deskterm.settings import load_settings

    raw = big_attachment(300_000)
    imap.append(corpus.message(body="small\n", msgid="<i1@x>"))
    imap.append(raw)
    [account] = load_settings(imap.config).accounts.values()
    sync = ImapSync(account, account.password(), lambda a, f: None, max_message_bytes=100_000)
    try:
        jobs = [i for i in sync.items() if isinstance(i, MailJob)]
    finally:
        sync.close()
    assert [len(j.data or b"") for j in jobs][1] == 100_000
    items = [i for job in jobs for i in parse_items(job)]
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["InboundRecord", "InboundRecord", "ParseFailure"]
    assert isinstance(items[1], InboundRecord)
    assert "only the first 0.1 MB of this 0.3 MB message" in items[1].body
