"""An import running beside agents and other imports (issue 11): real OS processes.

An import must never write back a stale copy of a ticket: what an agent changes while
it runs (status, priority, assignee, queue; a customer merge) survives it, and two
imports at once leave correct counters and no false failures. Each scenario runs on
SQLite and on a real PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.mail import corpus

DESKTERM = str(Path(sys.executable).with_name("deskterm"))
CONFIG = '[agent]\nname = "Ana Souza"\nemail = "support@example.com"\n[ingest]\nbatch_size = 10\n'


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path, isolated_home: Path) -> str:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG)
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_url"))


def maildir(root: Path, threads: int, length: int) -> int:
    """``threads`` conversations of ``length`` customer mails each, interleaved in time
    so every ticket keeps receiving mail until the end of the import."""
    mails = []
    for step in range(length):
        for t in range(threads):
            msgid = f"<t{t}-m{step}@example.org>"
            previous = f"<t{t}-m{step - 1}@example.org>" if step else None
            mails.append(
                corpus.message(
                    sender=f"Customer {t} <c{t}@example.org>",
                    subject=f"Order {t} is late" if not step else f"Re: Order {t} is late",
                    body=f"Message {step} about order {t}. Any news?\n",
                    msgid=msgid,
                    in_reply_to=previous,
                    date=corpus.BASE + timedelta(minutes=step * threads + t),
                )
            )
    corpus.write_maildir(root, mails)
    return len(mails)


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url if "://" in url else f"sqlite:///{url}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []  # the store is not created yet
    finally:
        engine.dispose()


def deskterm(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DESKTERM, "--db", url, *args], capture_output=True, text=True, env=os.environ, timeout=120
    )


def start_import(url: str, path: Path) -> subprocess.Popen[str]:
    cmd = [DESKTERM, "--db", url, "import", "mail", str(path), "--json", "--workers", "1"]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )


def wait_for(url: str, proc: subprocess.Popen[str], messages: int) -> None:
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline:
        rows = query(url, "select count(*) from message")
        if rows and rows[0][0] >= messages:
            return
        time.sleep(0.05)
    raise AssertionError(f"the import ended or stalled early: {proc.communicate()}")


def test_agent_changes_and_merges_survive_a_running_import(target: str, tmp_path: Path) -> None:
    threads = 40
    total = maildir(tmp_path / "mail", threads, 150)
    proc = start_import(target, tmp_path / "mail")
    wait_for(target, proc, 4 * threads)
    changed = deskterm(
        target, "tickets", "set", "1", "--status", "pending", "--priority", "urgent",
        "--assignee", "Ana Souza", "--queue", "billing",
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    merged = deskterm(target, "customers", "merge", "c2@example.org", "c3@example.org")
    assert merged.returncode == 0, merged.stderr
    count_then = query(target, "select message_count from ticket where id = 1")[0][0]
    assert proc.poll() is None, "the import ended before the agent's change: make it bigger"
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["messages_new"] == total and summary["messages_failed"] == 0, summary

    ticket = query(target, "select status, priority, assignee, queue, message_count from ticket "
                           "where id = 1")[0]  # fmt: skip
    assert ticket[:4] == ("pending", "urgent", "Ana Souza", "billing")
    assert ticket[4] == 150 > count_then  # the import went on writing to this ticket
    source, dest = (
        query(target, f"select customer_id from identity where value = 'c{n}@example.org'")[0][0]
        for n in (2, 3)
    )
    assert source == dest
    live = "select id from customer where merged_into_id is null"
    assert query(target, f"select count(*) from ticket where customer_id not in ({live})") == [(0,)]
    assert query(target, "select count(*) from ticket") == [(threads,)]
    check = deskterm(target, "db", "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr


def test_two_imports_at_once_leave_right_counters(target: str, tmp_path: Path) -> None:
    threads = 30
    total = maildir(tmp_path / "mail", threads, 60)
    assert deskterm(target, "db", "upgrade").returncode == 0
    procs = [start_import(target, tmp_path / "mail") for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    summaries = [json.loads(out) for out, _ in results]
    assert sum(s["messages_new"] for s in summaries) == total, summaries
    assert all(s["messages_failed"] == 0 for s in summaries), summaries
    assert query(target, "select count(*) from import_failure") == [(0,)]
    assert query(target, "select count(*) from message") == [(total,)]
    assert query(
        target,
        "select count(*) from ticket t where message_count <> "
        "(select count(*) from message m where m.ticket_id = t.id)",
    ) == [(0,)]
    check = deskterm(target, "db", "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
