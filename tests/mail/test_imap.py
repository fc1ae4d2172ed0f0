"""``deskterm sync`` against a real, private Dovecot."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.connectors import imap as imap_mod
from tests.mail import corpus
from tests.mail.conftest import Imap

pytestmark = pytest.mark.imap
runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "imap.db")


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The UIDs of every FETCH of message bodies the sync sends."""
    calls: list[list[int]] = []
    real = IMAPClient.fetch

    def spy(self: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
        if b"BODY.PEEK[]" in data:
            calls.append(list(messages))
        return real(self, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", spy)
    return calls


def sync(db: str, *args: str, code: int = 0) -> tuple[dict[str, Any], str]:
    result = runner.invoke(app, ["--db", db, "sync", *args, "--json", "--workers", "1"])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return (json.loads(result.stdout) if code == 0 else {}), result.stderr


def rows(db: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def uidvalidity(imap: Imap) -> int:
    with imap.client() as client:
        return int(client.select_folder(imap.folder, readonly=True)[b"UIDVALIDITY"])


def test_first_and_incremental_sync_fetch_only_new_uids(
    imap: Imap, db: str, fetched: list[list[int]]
) -> None:
    uids = [imap.append(raw) for raw in corpus.thread(3, prefix="inc")]
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["tickets_created"]) == (3, 1)
    assert fetched == [uids]
    uv = uidvalidity(imap)
    keys = [k for (k,) in rows(db, "select source_key from message order by id")]
    assert keys == [f"imap:support:{uv}:{u}" for u in uids]
    assert rows(db, "select account, folder, uidvalidity, last_uid from sync_state") == [
        ("support", imap.folder, uv, uids[-1])
    ]
    # BODY.PEEK[]: the mail is not marked read on the server.
    with imap.client() as client:
        client.select_folder(imap.folder, readonly=True)
        flags = client.get_flags(uids)
    assert all(b"\\Seen" not in f for f in flags.values())

    fetched.clear()
    more = [imap.append(raw) for raw in corpus.thread(2, prefix="inc2", subject="Second")]
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["messages_duplicate"]) == (2, 0)
    assert fetched == [more]

    fetched.clear()
    summary, _ = sync(db)  # nothing new: UID SEARCH n:* still answers the last UID
    assert summary["messages_new"] == summary["messages_duplicate"] == 0
    assert fetched == []


def test_uidvalidity_change_resyncs_without_duplicates(imap: Imap, db: str) -> None:
    mails = corpus.thread(3, prefix="uv")
    for raw in mails:
        imap.append(raw)
    sync(db)
    old = uidvalidity(imap)
    # The folder is recreated: new UIDVALIDITY, every UID renumbered.
    with imap.client() as client:
        client.delete_folder(imap.folder)
        client.create_folder(imap.folder)
    for raw in [corpus.message(msgid="<uv-new@x>", body="After the change.\n"), *mails]:
        imap.append(raw)
    new = uidvalidity(imap)
    assert new != old
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["messages_duplicate"]) == (1, 3)
    assert rows(db, "select count(*) from message") == [(4,)]
    assert rows(db, "select uidvalidity, last_uid from sync_state") == [(new, 4)]
    assert sync(db)[0]["messages_duplicate"] == 0  # and it is incremental again


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap_mod, "FETCH_BATCH", 5)
    monkeypatch.setattr(imap_mod, "RETRIES", 2)
    monkeypatch.setattr(imap_mod, "BACKOFF", 0.05)


def failing_after(monkeypatch: pytest.MonkeyPatch, calls: int, action: Any) -> list[list[int]]:
    """Run ``action`` (kill or restart the server) right after FETCH number ``calls``."""
    seen: list[list[int]] = []
    real = IMAPClient.fetch

    def spy(self: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
        if b"BODY.PEEK[]" not in data:
            return real(self, messages, data, modifiers)
        seen.append(list(messages))
        result = real(self, messages, data, modifiers)
        if len(seen) == calls:
            action()
        return result

    monkeypatch.setattr(IMAPClient, "fetch", spy)
    return seen


def thirty_mails(imap: Imap) -> int:
    mails = [m for t in range(10) for m in corpus.thread(3, prefix=f"k{t}-", subject=f"Q{t}")]
    for raw in mails:
        imap.append(raw)
    return len(mails)


@pytest.mark.usefixtures("quick_retries")
def test_server_killed_mid_sync_then_resumed(
    imap: Imap, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = thirty_mails(imap)
    failing_after(monkeypatch, 2, imap.server.kill)
    _, err = sync(db, code=1)
    assert "Lost the connection to 127.0.0.1" in err and "run sync again" in err
    saved = rows(db, "select count(*) from message")[0][0]
    assert saved == 10  # two fetched batches of 5, each committed with its checkpoint
    imap.server.start()
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["messages_duplicate"]) == (total - saved, 0)
    assert rows(db, "select count(*), count(distinct message_id) from message") == [(total, total)]


@pytest.mark.usefixtures("quick_retries")
def test_server_restart_during_sync_is_survived(
    imap: Imap, db: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    total = thirty_mails(imap)
    seen = failing_after(monkeypatch, 3, imap.server.restart)
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["messages_duplicate"]) == (total, 0)
    assert "reconnecting" in caplog.text
    assert len({uid for batch in seen for uid in batch}) == total  # resumed, not restarted
    assert rows(db, "select count(distinct source_key) from message") == [(total,)]


def test_same_mail_over_imap_and_from_an_mbox_is_stored_once(
    imap: Imap, db: str, tmp_path: Path
) -> None:
    mails = [
        *corpus.thread(2, prefix="both"),
        corpus.nul_bytes(),  # Dovecot hands NUL bytes back as 0x80
        corpus.windows1252(),
        corpus.no_message_id("Only my words identify me.\n"),
    ]
    for raw in mails:
        imap.append(raw)
    assert sync(db)[0]["messages_new"] == 5
    corpus.write_mbox(tmp_path / "same.mbox", mails)
    result = runner.invoke(app, ["--db", db, "import", "mail", str(tmp_path / "same.mbox"),
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["messages_new"], summary["messages_duplicate"]) == (0, 5)


def test_wrong_password_is_a_clear_error(imap: Imap, db: str) -> None:
    imap.configure(password_env=None, password_cmd="echo not-the-password")
    _, err = sync(db, code=1)
    assert err.startswith("deskterm: Login to 127.0.0.1:")
    assert "as support@example.com failed" in err
    assert len(err.strip().splitlines()) == 1


def test_untrusted_certificate_is_refused_unless_cafile(
    imap: Imap, db: str, caplog: pytest.LogCaptureFixture
) -> None:
    imap.append(corpus.message(msgid="<tls@x>"))
    imap.configure(cafile=None)
    _, err = sync(db, code=1)
    assert "is not trusted" in err and "cafile" in err
    assert rows(db, "select count(*) from message") == [(0,)]
    imap.configure(cafile=None, verify=False)
    summary, _ = sync(db)
    assert summary["messages_new"] == 1
    assert "NOT checked" in caplog.text  # loudly


def test_starttls_and_plaintext(imap: Imap, db: str, caplog: pytest.LogCaptureFixture) -> None:
    imap.append(corpus.message(msgid="<st@x>"))
    imap.configure(port=imap.server.imap_port, security="starttls")
    assert sync(db)[0]["messages_new"] == 1
    imap.configure(port=imap.server.imap_port, security="none")
    result = runner.invoke(app, ["--db", db, "sync"])
    assert result.exit_code == 1 and "allow_plaintext" in result.stderr
    imap.append(corpus.message(msgid="<plain@x>"))
    imap.configure(port=imap.server.imap_port, security="none", allow_plaintext=True)
    summary, _ = sync(db)
    assert summary["messages_new"] == 1 and "unencrypted" in caplog.text


def test_unknown_account_and_no_accounts(imap: Imap, db: str) -> None:
    result = runner.invoke(app, ["--db", db, "sync", "nope"])
    assert result.exit_code == 1
    assert "No account 'nope'" in result.stderr and "support" in result.stderr
    imap.config.write_text("[agent]\nemail = 'support@example.com'\n")
    result = runner.invoke(app, ["--db", db, "sync"])
    assert result.exit_code == 1 and "No IMAP accounts" in result.stderr


# -- --watch ---------------------------------------------------------------------------


def lines(stream: Any) -> queue.Queue[str]:
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in iter(stream.readline, ""):
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def next_json(out: queue.Queue[str], timeout: float) -> dict[str, Any]:
    line = out.get(timeout=timeout)
    return dict(json.loads(line))


@pytest.fixture
def watching(imap: Imap, db: str) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    cmd = [str(Path(sys.executable).with_name("deskterm")), "--db", db, "sync", "--watch",
           "--json", "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        yield proc, lines(proc.stdout)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_watch_picks_up_appends_and_survives_a_server_restart(
    imap: Imap, db: str, watching: tuple[subprocess.Popen[str], queue.Queue[str]]
) -> None:
    proc, out = watching
    imap.append(corpus.message(msgid="<w0@x>", subject="Before watching"))
    first = next_json(out, 30)  # the catch-up when the IDLE connection is up
    assert first["messages_new"] == 1 and first["folders"] == [imap.folder]
    time.sleep(1)
    started = time.monotonic()
    imap.append(corpus.message(msgid="<w1@x>", subject="While idling"))
    assert next_json(out, 15)["messages_new"] == 1
    assert time.monotonic() - started < 10
    imap.server.restart()
    imap.append(corpus.message(msgid="<w2@x>", subject="After a restart"))
    got = 0
    deadline = time.monotonic() + 60
    while got < 1 and time.monotonic() < deadline:
        got += next_json(out, deadline - time.monotonic())["messages_new"]
    assert got == 1
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    assert rows(db, "select count(*) from message") == [(3,)]


def test_internaldate_stands_in_for_a_missing_date_and_mark_read(imap: Imap, db: str) -> None:
    when = datetime(2025, 12, 24, 18, 30, tzinfo=UTC)
    imap.server.append(corpus.message(msgid="<nodate@x>", date=None), imap.folder, when)
    imap.configure(mark_read=True)
    sync(db)
    assert rows(db, "select sent_at, date_source from message") == [
        ("2025-12-24 18:30:00.000000", "internaldate")
    ]
    with imap.client() as client:  # mark_read = true fetches with BODY[]: now \Seen
        client.select_folder(imap.folder, readonly=True)
        assert all(b"\\Seen" in f for f in client.get_flags(client.search()).values())


def test_every_configured_folder_is_synced(imap: Imap, db: str) -> None:
    other = f"{imap.folder}-sent"
    imap.append(corpus.message(msgid="<f1@x>"))
    imap.server.append(
        corpus.message(msgid="<f2@x>", sender="Ana Souza <support@example.com>",
                       to="Maria Silva <maria@acme.com>", subject="Re: Cannot log in",
                       in_reply_to="<f1@x>"),
        other,
    )  # fmt: skip
    imap.configure(folders=[imap.folder, other])
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["tickets_created"]) == (2, 1)
    assert sorted(f for (f,) in rows(db, "select folder from sync_state")) == sorted(
        [imap.folder, other]
    )
    assert rows(db, "select direction from message order by id") == [("inbound",), ("outbound",)]


def test_a_missing_folder_is_a_recorded_failure_not_an_abort(imap: Imap, db: str) -> None:
    imap.append(corpus.message(msgid="<mf@x>"))
    imap.configure(folders=["No/Such/Folder", imap.folder])
    summary, _ = sync(db)
    assert (summary["messages_new"], summary["messages_failed"]) == (1, 1)
    (failure,) = summary["failures"]
    assert failure["source"] == "imap:support/No/Such/Folder"
    assert failure["reason"].startswith("cannot open folder")


def test_a_second_sync_of_a_watched_account_names_the_process_holding_it(
    imap: Imap, db: str, watching: tuple[subprocess.Popen[str], queue.Queue[str]]
) -> None:
    proc, out = watching
    imap.append(corpus.message(msgid="<l0@x>", subject="Lease"))
    assert next_json(out, 30)["messages_new"] == 1  # the watch holds the lease now
    _, err = sync(db, code=1)
    assert f"Account 'support' is being synced by process {proc.pid} on " in err
    assert len(err.strip().splitlines()) == 1
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    summary, _ = sync(db)  # the lease was given back
    assert summary["messages_duplicate"] == 0 and summary["messages_new"] == 0
