"""The ingest service: the CLI only parses and prints, bugs stop a run (not failure
rows), refused files do not stop the others, sync leases, and ``db check`` counters."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.cli import app
from deskterm.store import Store
from tests.chat.builders import zip_bytes
from tests.mail import corpus

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src" / "deskterm"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_cli_module_imports_a_connector() -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(
            m for m in imported_modules(path) if m.startswith("deskterm.connectors")
        )
        for path in sorted((SRC / "cli").glob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_scan_sees_lazy_imports_inside_functions(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from deskterm.connectors.imap import ImapSync\n")
    assert "deskterm.connectors.imap" in imported_modules(sample)


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_a_bug_stops_the_run_with_one_sentence_and_a_logged_traceback(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskterm.ingest.state import People

    db = str(tmp_path / "s.db")
    mails = [corpus.message(msgid=f"<m{i}@acme.com>", subject=f"S{i}") for i in range(3)]
    maildir = corpus.write_maildir(tmp_path / "md", mails)

    def broken(self: Any, party: Any, channel: str) -> bool:
        raise KeyError("id")

    monkeypatch.setattr(People, "is_agent", broken)
    result = cli("--db", db, "import", "mail", str(maildir), "--workers", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("deskterm: The import stopped on an internal error (KeyError")
    assert len(result.stderr.strip().splitlines()) == 1
    log = (isolated_home / "data" / "deskterm.log").read_text()
    assert "Traceback" in log and "KeyError: 'id'" in log
    store = Store.open(db)
    try:
        assert store.ingest.import_failures() == []  # a bug is not bad input
    finally:
        store.close()


def test_one_refused_archive_does_not_stop_the_other_files(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(zip_bytes({"../evil": "x", "_chat.txt": "hi"}))
    good = tmp_path / "WhatsApp Chat with Bea.txt"
    good.write_text("12/31/23, 13:33 - Bea: Hello, my order is late\n")
    result = cli("--db", db, "import", "whatsapp", str(bad), str(good), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("deskterm: Refusing bad.zip")
    summary = json.loads(result.stdout)
    assert (summary["messages_new"], summary["messages_failed"]) == (1, 1)
    failures = json.loads(cli("--db", db, "import", "failures", "--json").stdout)
    assert [(f["source"], f["reason"][:8]) for f in failures] == [(str(bad), "Refusing")]


def test_an_import_where_every_item_failed_exits_non_zero(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = cli("--db", db, "import", "mail", str(empty), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["messages_failed"] == 1
    assert "Nothing was imported: all 1 items failed" in result.stderr
    good = tmp_path / "good.eml"
    good.write_bytes(corpus.message())
    again = cli("--db", db, "import", "mail", str(empty), str(good), "--json")
    assert again.exit_code == 0, again.stderr


def test_a_sync_lease_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store.open(db).close()
    code = (
        "import sys, time\n"
        "from deskterm.store import Store\n"
        "from deskterm.ingest.leases import account_leases\n"
        "store = Store.open(sys.argv[1])\n"
        "with account_leases(store, ['work']):\n"
        "    print('holding', flush=True)\n"
        "    time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        from deskterm.ingest.leases import account_leases
        from deskterm.ingest.state import IngestError

        store = Store.open(db)
        try:
            held = pytest.raises(IngestError, match=f"synced by process {holder.pid} on ")
            with held, account_leases(store, ["work"]):
                pass
            with account_leases(store, ["home"]):  # another account is free
                pass
        finally:
            store.close()
    finally:
        holder.kill()
        holder.wait()


def test_a_lapsed_lease_is_taken_over(store: Store) -> None:
    assert store.leases.acquire("sync:a", "one", timedelta(seconds=-1)) is None
    assert store.leases.acquire("sync:a", "two", timedelta(seconds=60)) is None
    held = store.leases.acquire("sync:a", "one", timedelta(seconds=60))
    assert held is not None and held.holder == "two"
    assert not store.leases.renew("sync:a", "one", timedelta(seconds=60))
    store.leases.release("sync:a", "two")
    assert store.leases.acquire("sync:a", "one", timedelta(seconds=60)) is None


def test_db_check_reports_counters_that_disagree_with_their_rows(tmp_path: Path) -> None:
    import sqlite3

    db = str(tmp_path / "s.db")
    mails = [corpus.message(msgid=f"<m{i}@acme.com>", subject="Same") for i in range(3)]
    assert cli("--db", db, "import", "mail", str(corpus.write_maildir(tmp_path / "md", mails)))
    clean = cli("--db", db, "db", "check", "--json")
    assert clean.exit_code == 0 and json.loads(clean.stdout)["counter_mismatches"] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("update ticket set message_count = message_count + 2 where id = 1")
        conn.execute("insert into ticket_tag (ticket_id, tag, updated_at) "
                     "values (1, 'vip', '2001-01-01 00:00:00.000000')")  # fmt: skip
    result = cli("--db", db, "db", "check")
    assert result.exit_code == 1
    assert "2 counter mismatches" in result.stdout
    assert "#1 message_count: stored 5, actual 3" in result.stdout
    assert "#1 sort key of tag 'vip'" in result.stdout


def test_a_chat_message_without_an_id_gets_a_stable_key_from_its_content(
    store: Store,
) -> None:
    from datetime import UTC, datetime

    from deskterm.connectors.records import InboundRecord, Party
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.settings import parse_settings as parse_config

    def records() -> list[InboundRecord]:
        at = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
        bea = Party("telegram", "user42", "Bea")
        return [
            InboundRecord("", "telegram", at, bea, "ok", conversation="telegram:7"),
            InboundRecord(
                "", "telegram", at.replace(minute=5), bea, "ok", conversation="telegram:7"
            ),
        ]

    config = parse_config({})
    first = Ingestor(store, config).run(records(), connector="telegram")
    again = Ingestor(store, config).run(records(), connector="telegram")
    assert (first.messages_new, first.messages_failed) == (2, 0)  # same text, other time
    assert (again.messages_new, again.messages_duplicate) == (0, 2)


def test_mail_for_a_merged_ticket_lands_on_the_ticket_it_was_merged_into(
    store: Store,
) -> None:
    from deskterm.ingest.pipeline import Ingestor
    from deskterm.settings import parse_settings as parse_config
    from tests.store.helpers import mail

    config = parse_config({"agent": {"email": "support@example.com"}})
    first = mail("ana@acme.com", "Printer", message_id="<p1@acme.com>")
    other = mail("ana@acme.com", "Invoice", message_id="<i1@acme.com>", minutes=1)
    Ingestor(store, config).run([first, other], connector="mail")
    store.workflow.merge_tickets(1, 2, "Ana")
    reply = mail("ana@acme.com", "Re: Printer", in_reply_to="<p1@acme.com>", minutes=5)
    summary = Ingestor(store, config).run([reply], connector="mail")
    assert (summary.tickets_created, summary.tickets_updated) == (0, 1)
    assert store.tickets.get_ticket(2).ticket.message_count == 3
    with store.db.engine.connect() as conn:
        landed = conn.exec_driver_sql(
            "select ticket_id from message where message_id = ?", (reply.message_id,)
        ).scalar_one()
    assert landed == 2
