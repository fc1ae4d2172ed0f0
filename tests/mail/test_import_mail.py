"""``deskterm import mail`` end to end: idempotence, threading, identities, failures,
attachments, and resuming after Ctrl-C or a kill."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.desk import open_store
from deskterm.store.types import utcnow
from tests.mail import corpus

runner = CliRunner()
CONFIG = '[agent]\nname = "Ana Souza"\nemail = "support@example.com"\n'


@pytest.fixture
def config(isolated_home: Path) -> Path:
    path = isolated_home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG)
    return path


@pytest.fixture
def db(tmp_path: Path, config: Path) -> str:
    return str(tmp_path / "mail.db")


def imp(db: str, *paths: Path, code: int = 0) -> dict[str, Any]:
    result = runner.invoke(app, ["--db", db, "import", "mail", *map(str, paths), "--json"])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return dict(json.loads(result.stdout))


def rows(db: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def eml(dir_: Path, name: str, raw: bytes) -> Path:
    path = dir_ / name
    path.write_bytes(raw)
    return path


def test_import_then_reimport_changes_nothing(db: str, tmp_path: Path) -> None:
    maildir = corpus.write_maildir(
        tmp_path / "md",
        [*corpus.thread(4), corpus.iso2022jp(), corpus.html_only(), corpus.escapes()],
    )
    single = eml(tmp_path, "one.eml", corpus.koi8r())
    first = imp(db, maildir, single)
    counts = (first["messages_new"], first["messages_duplicate"], first["messages_failed"])
    assert counts == (8, 0, 0)
    assert first["tickets_created"] == 5
    before = rows(db, "select count(*), max(id) from message")
    again = imp(db, maildir, single)
    assert (again["messages_new"], again["messages_duplicate"]) == (0, 8)
    assert again["tickets_created"] == again["tickets_updated"] == 0
    assert rows(db, "select count(*), max(id) from message") == before
    assert rows(db, "select count(*) from ticket") == [(5,)]


def test_same_mail_from_mbox_and_maildir_is_stored_once(db: str, tmp_path: Path) -> None:
    mails = [*corpus.thread(3), corpus.no_message_id("Nothing identifies me but my text.\n")]
    corpus.write_maildir(tmp_path / "md", mails)
    # The mbox copy differs in bytes: CRLF line ends and a mail client's Status header.
    with_status = [m.replace(b"MIME-Version", b"Status: RO\nMIME-Version") for m in mails]
    corpus.write_mbox(tmp_path / "copy.mbox", with_status, crlf=True)
    assert imp(db, tmp_path / "md")["messages_new"] == 4
    second = imp(db, tmp_path / "copy.mbox")
    assert (second["messages_new"], second["messages_duplicate"]) == (0, 4)
    assert rows(db, "select count(*) from message") == [(4,)]


def test_reused_message_id_with_other_content_is_kept(db: str, tmp_path: Path) -> None:
    a = corpus.message(msgid="<same@x>", body="first text\n")
    b = corpus.message(msgid="<same@x>", body="entirely different text\n")
    summary = imp(db, eml(tmp_path, "a.eml", a), eml(tmp_path, "b.eml", b))
    assert summary["messages_new"] == 2


def test_thread_identities_and_direction(db: str, tmp_path: Path) -> None:
    imp(db, corpus.write_maildir(tmp_path / "md", corpus.thread(4)))
    tickets = rows(db, "select id, customer_id, message_count, status from ticket")
    assert len(tickets) == 1 and tickets[0][2] == 4 and tickets[0][3] == "open"
    customer = rows(db, "select c.id, c.name from customer c")
    assert customer == [(tickets[0][1], "Maria Silva")]
    assert rows(db, "select kind, value from identity") == [("email", "maria@acme.com")]
    directions = rows(db, "select direction from message order by sent_at")
    assert [d for (d,) in directions] == ["inbound", "outbound", "inbound", "outbound"]


def test_threading_by_references_and_out_of_order(db: str, tmp_path: Path) -> None:
    root = corpus.message(msgid="<r0@x>", subject="Export fails")
    refs_only = corpus.message(msgid="<r2@x>", subject="Re: Export fails (other words)",
                               references=["<r0@x>", "<r1@x>"],
                               date=corpus.BASE + timedelta(hours=2))  # fmt: skip
    reply = corpus.message(msgid="<r1@x>", subject="Re: Export fails", in_reply_to="<r0@x>",
                           date=corpus.BASE + timedelta(hours=1))  # fmt: skip
    # The reply arrives first, then what it answers, then a References-only follow-up.
    imp(db, eml(tmp_path, "1.eml", reply))
    imp(db, eml(tmp_path, "2.eml", root))
    imp(db, eml(tmp_path, "3.eml", refs_only))
    assert rows(db, "select count(distinct ticket_id), count(*) from message") == [(1, 3)]


def test_subject_threading_same_customer_inside_the_window(db: str, tmp_path: Path) -> None:
    base = corpus.BASE
    mails = {
        "a": corpus.message(msgid="<s1@x>", subject="[Support] Refund for order 88"),
        "b": corpus.message(msgid="<s2@x>", subject="RE: AW: Fwd: refund  for order 88",
                            date=base + timedelta(days=2)),
        "c": corpus.message(msgid="<s3@x>", subject="WG: Fw: Refund for order 88",
                            sender="Other Person <other@globex.io>",
                            date=base + timedelta(days=2)),
        "d": corpus.message(msgid="<s4@x>", subject="Re: Refund for order 88",
                            date=base + timedelta(days=40)),
    }  # fmt: skip
    imp(db, *(eml(tmp_path, f"{k}.eml", v) for k, v in mails.items()))
    tickets = dict(rows(db, "select message_id, ticket_id from message"))
    assert tickets["<s1@x>"] == tickets["<s2@x>"]
    assert tickets["<s3@x>"] != tickets["<s1@x>"]  # another customer
    assert tickets["<s4@x>"] != tickets["<s1@x>"]  # outside the 14-day window


def test_reply_to_solved_reopens_and_to_closed_starts_a_linked_ticket(
    db: str, tmp_path: Path
) -> None:
    now = utcnow()
    imp(db, eml(tmp_path, "1.eml", corpus.message(msgid="<o1@x>", date=now - timedelta(hours=2))))
    (ticket,) = [t for (t,) in rows(db, "select id from ticket")]
    store = open_store(db)
    store.tickets.set_status(ticket, "solved", "ana")
    reply = corpus.message(msgid="<o2@x>", in_reply_to="<o1@x>", subject="Re: Cannot log in",
                           date=now + timedelta(minutes=1))  # fmt: skip
    summary = imp(db, eml(tmp_path, "2.eml", reply))
    assert summary["tickets_reopened"] == 1 and summary["tickets_created"] == 0
    assert rows(db, "select status, reopen_count from ticket where id = ?", ticket) == [("open", 1)]
    assert rows(db, "select count(*) from event where kind = 'reopen'") == [(1,)]

    store.tickets.set_status(ticket, "closed", "ana")
    store.close()
    late = corpus.message(msgid="<o3@x>", in_reply_to="<o2@x>", subject="Re: Cannot log in",
                          date=now + timedelta(days=1))  # fmt: skip
    summary = imp(db, eml(tmp_path, "3.eml", late))
    assert summary["tickets_created"] == 1 and summary["tickets_reopened"] == 0
    new = rows(db, "select id, parent_id, status from ticket where id != ?", ticket)
    assert new[0][1] == ticket and new[0][2] == "new"
    assert rows(db, "select ticket_id, other_id, kind from ticket_link") == [
        (new[0][0], ticket, "followup")
    ]
    # Another reply to the closed ticket's mail joins that follow-up, not a third one.
    later = corpus.message(msgid="<o4@x>", in_reply_to="<o1@x>", subject="Re: Cannot log in",
                           date=now + timedelta(days=2))  # fmt: skip
    assert imp(db, eml(tmp_path, "4.eml", later))["tickets_created"] == 0
    assert rows(db, "select ticket_id from message where message_id = '<o4@x>'") == [(new[0][0],)]
    assert rows(db, "select status from ticket where id = ?", ticket) == [("closed",)]


def test_ticket_token_is_trusted_only_for_its_own_customer(db: str, tmp_path: Path) -> None:
    imp(db, eml(tmp_path, "1.eml", corpus.message(msgid="<k1@x>", subject="Billing")))
    (ticket,) = [t for (t,) in rows(db, "select id from ticket")]
    own = corpus.message(msgid="<k2@x>", subject=f"Something else [#{ticket}]")
    stranger = corpus.message(msgid="<k3@x>", subject=f"Hijack [#{ticket}]",
                              sender="Mallory <mallory@evil.example>")  # fmt: skip
    imp(db, eml(tmp_path, "2.eml", own), eml(tmp_path, "3.eml", stranger))
    placed = dict(rows(db, "select message_id, ticket_id from message"))
    assert placed["<k2@x>"] == ticket
    assert placed["<k3@x>"] != ticket


def test_bad_items_are_recorded_and_the_batch_goes_on(db: str, tmp_path: Path) -> None:
    good = eml(tmp_path, "good.eml", corpus.message())
    junk = eml(tmp_path, "junk.eml", b"\x00\x01\x02 nothing like mail")
    nofrom = eml(tmp_path, "nofrom.eml", b"Subject: hi\nTo: a@b.c\n\nbody\n")
    summary = imp(db, junk, good, nofrom)
    assert (summary["messages_new"], summary["messages_failed"]) == (1, 2)
    result = runner.invoke(app, ["--db", db, "import", "failures", "--json"])
    assert result.exit_code == 0
    listed = {(f["source"], f["reason"]) for f in json.loads(result.stdout)}
    assert listed == {
        (str(junk), "not a mail file (neither a message nor mbox)"),
        (str(nofrom), "no sender address (From is missing or empty)"),
    }
    # Importing the same bad files again updates the failures, it does not double them
    # (and exits 1: every item failed).
    imp(db, junk, nofrom, code=1)
    assert rows(db, "select count(*) from import_failure") == [(2,)]


def test_attachments_are_kept_safely_when_configured(
    db: str, tmp_path: Path, config: Path, isolated_home: Path
) -> None:
    config.write_text(CONFIG + "[ingest]\nstore_attachments = true\nattachment_max_bytes = 5000\n")
    raw = corpus.with_attachments(["../../.bashrc", "big.bin"], size=3000)
    big = corpus.with_attachments(["huge.bin"], size=6000).replace(b"att1@", b"att2@")
    imp(db, eml(tmp_path, "a.eml", raw), eml(tmp_path, "b.eml", big))
    stored = rows(db, "select filename, size, stored_path from attachment order by id")
    assert [(f, s) for f, s, _ in stored] == [
        ("../../.bashrc", 3000), ("big.bin", 3000), ("huge.bin", 6000),
    ]  # fmt: skip
    root = (isolated_home / "data" / "attachments").resolve()
    bashrc = Path(stored[0][2])
    assert bashrc.name == "bashrc" and bashrc.resolve().is_relative_to(root)
    assert bashrc.read_bytes() == bytes(j % 256 for j in range(3000))
    assert stored[2][2] is None  # over attachment_max_bytes: recorded, not kept
    assert not (tmp_path / ".bashrc").exists() and not (isolated_home / ".bashrc").exists()


def test_missing_path_is_a_clear_error(db: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", db, "import", "mail", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert "nope does not exist" in result.stderr


def test_summary_for_people(db: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["--db", db, "import", "mail", str(eml(tmp_path, "a.eml", corpus.message()))]
    )
    assert result.exit_code == 0
    assert "messages: 1 new, 0 duplicate, 0 failed" in result.stdout
    assert "tickets: 1 created, 0 updated, 0 reopened" in result.stdout


# -- interrupted imports -------------------------------------------------------------------


def big_mbox(path: Path, threads: int) -> int:
    mails = [
        m
        for t in range(threads)
        for m in corpus.thread(4, prefix=f"big{t}-", customer=f"C {t} <c{t}@example.org>",
                               subject=f"Question {t}")
    ]  # fmt: skip
    corpus.write_mbox(path, mails)
    return len(mails)


def committed(db: str) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return int(conn.execute("select count(*) from message").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_interrupted_import_resumes_without_loss_or_doubles(
    db: str, tmp_path: Path, config: Path, how: signal.Signals
) -> None:
    config.write_text(CONFIG + "[ingest]\nbatch_size = 50\n")
    total = big_mbox(tmp_path / "big.mbox", 1500)
    cmd = [str(Path(sys.executable).with_name("deskterm")), "--db", db, "import", "mail",
           str(tmp_path / "big.mbox"), "--json", "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)
    deadline = time.monotonic() + 120
    while committed(db) < 200 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the import finished before it could be interrupted"
    proc.send_signal(how)
    out, err = proc.communicate(timeout=60)
    if how == signal.SIGINT:
        assert proc.returncode == 130, err
        assert json.loads(out)["interrupted"] is True
    else:
        assert proc.returncode == -signal.SIGKILL
    saved = committed(db)
    assert 0 < saved < total, (saved, err)
    result = subprocess.run(cmd, capture_output=True, text=True, env=os.environ, check=True)
    summary = json.loads(result.stdout)
    assert (summary["messages_duplicate"], summary["messages_new"]) == (saved, total - saved), (
        summary,
        result.stderr,
    )
    assert rows(db, "select count(*), count(distinct source_key) from message") == [(total, total)]
    assert rows(db, "select count(*) from ticket") == [(1500,)]


def test_ctrl_c_while_the_store_opens_leaves_at_once(tmp_path: Path, config: Path) -> None:
    """Into a new store the parse workers start before the store is created. Ctrl-C
    at any moment of that stretch exits 130 promptly and leaves no parser behind (a
    worker stopped halfway through sending a result had left the interpreter waiting
    for it at exit, forever)."""
    mails = [
        m
        for t in range(750)
        for m in corpus.thread(4, prefix=f"s{t}-", customer=f"C {t} <c{t}@example.org>",
                               subject=f"Question {t}")
    ]  # fmt: skip
    maildir = corpus.write_maildir(tmp_path / "maildir", mails)
    deskterm = str(Path(sys.executable).with_name("deskterm"))
    for n, delay in enumerate((0.2, 0.35, 0.5, 0.65, 0.8)):
        cmd = [deskterm, "--db", str(tmp_path / f"new-{n}.db"), "import", "mail", str(maildir)]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ,
            start_new_session=True,  # its parsers share its process group: counted below
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"still running 30 s after Ctrl-C at {delay} s")
        assert proc.returncode == 130, (delay, err)
        assert b"Warning" not in err, err  # one line for the agent, no tracker noise
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"parser processes left running after Ctrl-C at {delay} s")
