"""Mail files: detection, mbox (LF/CRLF, From quoting), maildir, the ordered parse pool."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from deskterm.connectors import mailjobs
from deskterm.connectors.mailfile import detect, mail_jobs, read_mail
from deskterm.connectors.mailjobs import parse_in_order
from deskterm.connectors.mailsource import MailJob, envelope_date
from deskterm.connectors.records import (
    AlreadyStored,
    InboundRecord,
    ParseFailure,
    SyncCheckpoint,
)
from tests.mail import corpus


def records(items: object) -> list[InboundRecord]:
    return [i for i in items if isinstance(i, InboundRecord)]  # type: ignore[attr-defined]


def test_detect(tmp_path: Path) -> None:
    maildir = corpus.write_maildir(tmp_path / "md", [corpus.message()])
    mbox = corpus.write_mbox(tmp_path / "box", [corpus.message()])
    eml = tmp_path / "one.eml"
    eml.write_bytes(corpus.message())
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\n")
    assert [detect(p) for p in (maildir, mbox, eml, junk, tmp_path)] == [
        "maildir", "mbox", "eml", "unknown", "tree",
    ]  # fmt: skip


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_mbox_split_and_from_quoting(tmp_path: Path, crlf: bool) -> None:
    body = (
        "First line.\nFrom the start we had issues.\n>From quoted already.\n\n"
        "From here on 10:30 2026\n"
    )
    messages = [
        corpus.message(body=body, msgid="<q1@x>"),
        corpus.message(body="second\n", msgid="<q2@x>", date=None),
        corpus.message(body="third\n", msgid="<q3@x>"),
    ]
    mbox = corpus.write_mbox(tmp_path / "quoted.mbox", messages, crlf=crlf)
    found = records(read_mail([mbox], workers=1))
    assert [r.message_id for r in found] == ["<q1@x>", "<q2@x>", "<q3@x>"]
    assert found[0].body == body.rstrip("\n")
    assert found[2].body == "third"
    # No Date: the envelope line's time stands in, and says so.
    assert found[1].date_source == "envelope"
    assert found[1].sent_at.isoformat() == "2026-03-02T10:00:00+00:00"


def test_mbox_positions_are_stable_keys(tmp_path: Path) -> None:
    mbox = corpus.write_mbox(tmp_path / "a.mbox", corpus.thread(3))
    first = [(r.source_key, r.raw_ref) for r in records(read_mail([mbox], workers=1))]
    again = [(r.source_key, r.raw_ref) for r in records(read_mail([mbox], workers=1))]
    assert first == again and len({k for k, _ in first}) == 3
    assert all(ref and ref.startswith(f"{mbox}#") for _, ref in first)


def test_maildir_cur_new_and_flag_suffixes(tmp_path: Path) -> None:
    root = corpus.write_maildir(tmp_path / "Maildir", corpus.thread(5))
    (root / "cur" / ".hidden").write_bytes(b"not mail")
    (root / "tmp" / "123.partial").write_bytes(corpus.message(msgid="<tmp@x>"))
    found = records(read_mail([root], workers=1))
    assert [r.message_id for r in found] == [f"<t{n}@example.com>" for n in range(5)]
    names = sorted(p.name for p in (root / "cur").iterdir())
    assert any(":2,S" in n for n in names) and any("!2,RS" in n for n in names)


def test_tree_finds_maildirs_mboxes_and_eml_and_reports_junk(tmp_path: Path) -> None:
    corpus.write_maildir(tmp_path / "archive" / "Maildir", [corpus.message(msgid="<a@x>")])
    corpus.write_mbox(tmp_path / "archive" / "old.mbox", [corpus.message(msgid="<b@x>")])
    (tmp_path / "archive" / "c.eml").write_bytes(corpus.message(msgid="<c@x>"))
    (tmp_path / "archive" / "README").write_text("not mail\n")
    bad = tmp_path / "bad.eml"
    bad.write_bytes(b"\x00\x01 binary junk")
    items = list(read_mail([tmp_path / "archive", bad], workers=1))
    assert sorted(r.message_id or "" for r in records(items)) == ["<a@x>", "<b@x>", "<c@x>"]
    failures = [i for i in items if isinstance(i, ParseFailure)]
    assert [(f.source, f.reason) for f in failures] == [
        (str(bad), "not a mail file (neither a message nor mbox)")
    ]


def test_unreadable_file_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    gone = MailJob(source="x", position="file", path=str(tmp_path / "gone.eml"))
    failure = mailjobs.parse_job(gone)
    assert isinstance(failure, ParseFailure) and failure.reason.startswith("cannot read")


def test_envelope_dates() -> None:
    assert envelope_date("From a@b Fri Jul  8 12:08:34 2011").isoformat() == (  # type: ignore[union-attr]
        "2011-07-08T12:08:34+00:00"
    )
    assert envelope_date("From - Sat Mar 19 10:00 +0000 2022") is not None
    assert envelope_date("From nobody") is None


@pytest.mark.parametrize("ahead", [False, True])
def test_pool_keeps_order_and_passes_checkpoints_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead: bool
) -> None:
    """With worker processes, a checkpoint still comes right after its records."""
    monkeypatch.setattr(mailjobs, "INLINE_BELOW", 10)
    monkeypatch.setattr(mailjobs, "CHUNK", 7)
    entries: list[object] = []
    for n in range(60):
        raw = corpus.message(msgid=f"<p{n}@x>", body=f"n={n}\n")
        entries.append(MailJob(source="t", position=str(n), data=raw, source_key=f"k{n}"))
        if n % 13 == 12:
            entries.append(SyncCheckpoint("acct", "INBOX", 1, n))
    entries.insert(5, MailJob(source="t", position="bad", data=b"\n\n"))
    out = list(parse_in_order(entries, workers=2, ahead=ahead))  # type: ignore[arg-type]
    kinds = [
        o.source_key if isinstance(o, InboundRecord) else f"cp{o.last_uid}"
        if isinstance(o, SyncCheckpoint) else "fail"
        for o in out
    ]  # fmt: skip
    expected: list[str] = []
    for n in range(60):
        expected.append(f"k{n}")
        if n % 13 == 12:
            expected.append(f"cp{n}")
    expected.insert(5, "fail")
    assert kinds == expected


def test_reading_ahead_fills_the_workers_window_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file import keeps the workers' window full: the first record is handed on
    only once a full window of chunks is queued, so the workers go on parsing while
    the caller stores what it was given."""
    monkeypatch.setattr(mailjobs, "INLINE_BELOW", 10)
    monkeypatch.setattr(mailjobs, "CHUNK", 5)
    monkeypatch.setattr(mailjobs, "IN_FLIGHT", 3)
    read = 0

    def source() -> Iterator[MailJob]:
        nonlocal read
        for n in range(200):
            read += 1
            raw = corpus.message(msgid=f"<a{n}@x>", body=f"n={n}\n")
            yield MailJob(source="t", position=str(n), data=raw, source_key=f"k{n}")
            if n == 15:
                time.sleep(1)  # the first chunks are parsed by now: done, yet not handed on

    out = parse_in_order(source(), workers=2, ahead=True)
    assert next(out).source_key == "k0"  # type: ignore[union-attr]
    assert read >= 2 * 3 * 5  # two workers' windows of three chunks of five
    assert [r.source_key for r in out] == [f"k{n}" for n in range(1, 200)]  # type: ignore[union-attr]


def test_skip_stored_does_not_parse_known_messages(tmp_path: Path) -> None:
    maildir = corpus.write_maildir(tmp_path / "md", corpus.thread(4))
    first = records(read_mail([maildir], workers=1))
    known = {first[1].source_key, first[3].source_key}
    asked: list[list[str]] = []

    def lookup(keys: Iterable[str]) -> set[str]:
        asked.append(list(keys))
        return known & set(keys)

    items = list(read_mail([maildir], workers=1, known=lookup))
    assert [type(i).__name__ for i in items] == [
        "InboundRecord", "AlreadyStored", "InboundRecord", "AlreadyStored",
    ]  # fmt: skip
    assert {i.source_key for i in items if isinstance(i, AlreadyStored)} == known
    assert len(asked) == 1 and len(asked[0]) == 4


def test_jobs_for_an_empty_mbox_and_empty_eml(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    assert [f.reason for f in mail_jobs([empty]) if isinstance(f, ParseFailure)] == ["empty file"]


def test_unquoted_from_line_in_a_body_does_not_split(tmp_path: Path) -> None:
    """mboxo writers leave body lines like this unquoted; it is no envelope line."""
    raw = (
        b"From a@x Mon Mar  2 09:00:00 2026\n"
        + corpus.message(msgid="<u1@x>", body="Hi,\n\nFrom what I can see it fails.\n")
        + b"\nFrom b@x Mon Mar  2 10:00:00 2026\n"
        + corpus.message(msgid="<u2@x>")
    )
    mbox = tmp_path / "mboxo"
    mbox.write_bytes(raw)
    found = records(read_mail([mbox], workers=1))
    assert [r.message_id for r in found] == ["<u1@x>", "<u2@x>"]
    assert found[0].body.endswith("From what I can see it fails.")


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    out, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(children.get(child, []))
    return out


def test_a_parser_process_that_dies_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed mid-import (say, by the OOM killer): its chunk is parsed again."""
    monkeypatch.setattr(mailjobs, "INLINE_BELOW", 10)
    jobs = [
        MailJob(source="t", position=str(n), data=corpus.html_only(), source_key=f"k{n}")
        for n in range(1500)
    ]
    out = parse_in_order(jobs, workers=2)
    keys = [next(out).source_key]  # type: ignore[union-attr]
    servers = [p for p in _descendants(os.getpid()) if b"forkserver" in _cmdline(p)]
    workers = [w for p in servers for w in _descendants(p)]
    assert workers, "no parser processes found"
    os.kill(workers[0], signal.SIGKILL)
    keys += [r.source_key for r in out]  # type: ignore[union-attr]
    assert keys == [f"k{n}" for n in range(1500)]
    assert workers[0] not in _descendants(os.getpid())


def _support_maildir(root: Path, threads: int = 120) -> Path:
    """Threads of four (customer and agent alternating): more messages than are
    parsed in-process, so parse workers run."""
    mails = [
        m
        for t in range(threads)
        for m in corpus.thread(4, prefix=f"n{t}-", customer=f"C {t} <c{t}@example.org>",
                               subject=f"Question {t}")
    ]  # fmt: skip
    return corpus.write_maildir(root, mails)


def test_a_new_store_gets_the_same_import_as_one_created_first(
    tmp_path: Path, isolated_home: Path
) -> None:
    """Into a store that does not exist yet, parsing starts before the store is
    created (nothing in it to skip); the result is what an import into a store
    created beforehand stores."""
    from typer.testing import CliRunner

    from deskterm.cli import app

    runner = CliRunner()
    maildir = _support_maildir(tmp_path / "maildir")
    new, old = str(tmp_path / "new.db"), str(tmp_path / "old.db")
    assert runner.invoke(app, ["--db", old, "db", "upgrade"]).exit_code == 0
    outputs = [runner.invoke(app, ["--db", db, "import", "mail", str(maildir), "--json"])
               for db in (new, old)]  # fmt: skip
    assert [r.exit_code for r in outputs] == [0, 0]
    assert outputs[0].stdout == outputs[1].stdout
    assert '"messages_new": 480' in outputs[0].stdout
    query = (
        "SELECT m.message_id, m.direction, m.emotion, m.content_hash, t.subject, t.status "
        "FROM message m JOIN ticket t ON t.id = m.ticket_id ORDER BY m.message_id"
    )
    with sqlite3.connect(new) as a, sqlite3.connect(old) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_a_store_that_cannot_be_created_stops_the_parsers_started_for_it(
    tmp_path: Path, isolated_home: Path
) -> None:
    from typer.testing import CliRunner

    from deskterm.cli import app

    maildir = _support_maildir(tmp_path / "maildir")
    db = str(tmp_path / "missing" / "mail.db")
    result = CliRunner().invoke(app, ["--db", db, "import", "mail", str(maildir)])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    servers = [p for p in _descendants(os.getpid()) if b"forkserver" in _cmdline(p)]
    deadline = time.monotonic() + 10
    while any(_descendants(s) for s in servers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for s in servers for w in _descendants(s)], "parse workers left running"
