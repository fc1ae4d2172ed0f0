"""Triage rules: the TOML contract, evaluation at ingest, the event log, re-runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deskterm.connectors.records import InboundRecord, Party
from deskterm.ingest.hooks import default_hooks
from deskterm.ingest.pipeline import Ingestor
from deskterm.settings import ConfigError, parse_settings
from deskterm.store import Store
from deskterm.triage import Rule, rules_from
from tests.store.helpers import T0, ingest, mail

RULES = """
[[rules]]
name = "Invoices go to billing"
when = { subject = "invoice|refund", channel = "email" }
set = { queue = "billing", priority = "high", tags = ["billing"] }

[[rules]]
name = "Angry customers are urgent"
when = { emotion = "anger" }
set = { raise_priority = "urgent", tags = ["angry"] }

[[rules]]
name = "Acme is premium"
when = { from_domain = "acme\\\\.com", new = true }
set = { assignee = "Ben", tags = ["vip"] }
stop = true

[[rules]]
name = "Never reached after a stop"
when = { from_domain = "acme\\\\.com" }
set = { queue = "nowhere" }

[[rules]]
name = "Sales address"
when = { to = "^sales@" }
unless = { subject = "unsubscribe" }
set = { queue = "sales" }
"""


def config_from(text: str) -> Any:
    import tomllib

    return parse_settings(tomllib.loads(text))


def parse_rules(rules: list[dict[str, Any]]) -> list[Rule]:
    return rules_from(parse_settings({"rules": rules}).rules)


def run(store: Store, config: Any, *records: InboundRecord) -> None:
    Ingestor(store, config, hooks=default_hooks(config)).run(list(records), connector="test")


def ticket_of(store: Store, subject: str) -> Any:
    for row in store.queue.list_tickets(limit=100).rows:
        if row.subject == subject:
            return store.tickets.get_ticket(row.number)
    raise AssertionError(subject)


def test_rules_route_new_mail_and_log_why(store: Store) -> None:
    config = config_from(RULES)
    run(
        store,
        config,
        mail("ana@globex.com", "Invoice 42 is wrong", "Please fix the amount."),
        mail("bo@acme.com", "Printer", "Hello, the printer jams."),
        mail("cy@initech.com", "Pricing", "Quote please", to="sales@example.com"),
        mail("di@initech.com", "Unsubscribe me", "stop", to="sales@example.com"),
        mail("ed@hooli.com", "Your refund policy", "THIS IS A SCAM!!! I WANT MY MONEY BACK NOW"),
    )
    invoice = ticket_of(store, "Invoice 42 is wrong")
    assert (invoice.ticket.queue, invoice.ticket.priority) == ("billing", "high")
    assert invoice.tags == ["billing"]
    events = store.tickets.events(invoice.ticket.id)
    rule_events = [e for e in events if e.kind == "rule"]
    assert [e.new for e in rule_events] == ["Invoices go to billing"]
    detail = json.loads(rule_events[0].detail or "{}")
    assert detail["changes"] == {"queue": ["general", "billing"], "priority": ["normal", "high"]}
    assert detail["tags"] == ["billing"]
    assert ("queue", "general", "billing", "triage") in [
        (e.kind, e.old, e.new, e.actor) for e in events
    ]

    acme = ticket_of(store, "Printer")
    assert acme.ticket.assignee == "Ben" and acme.tags == ["vip"]
    assert acme.ticket.queue == "general"  # the stop kept the next rule out
    assert ticket_of(store, "Pricing").ticket.queue == "sales"
    assert ticket_of(store, "Unsubscribe me").ticket.queue == "general"

    angry = ticket_of(store, "Your refund policy")
    assert angry.ticket.emotion == "anger"
    assert angry.ticket.priority == "urgent"  # billing set high, then raised
    assert angry.tags == ["angry", "billing"]
    assert [e.new for e in store.tickets.events(angry.ticket.id) if e.kind == "rule"] == [
        "Invoices go to billing",
        "Angry customers are urgent",
    ]


def test_new_versus_reply_and_outbound(store: Store) -> None:
    config = config_from(
        """
[[rules]]
name = "Replies get a tag"
when = { new = false }
set = { tags = ["followup"] }
"""
    )
    run(store, config, mail("a@x.org", "Hello", "first", message_id="<a1@x>"))
    assert store.tickets.get_ticket(1).tags == []
    outbound = InboundRecord(
        source_key="mail:<r1@us>",
        channel="email",
        sent_at=T0.replace(hour=10),
        author=Party("email", "support@example.com"),
        body="answer",
        subject="Re: Hello",
        direction="outbound",
        message_id="<r1@us>",
        in_reply_to="<a1@x>",
        recipients=(Party("email", "a@x.org"),),
    )
    run(store, config, outbound)
    assert store.tickets.get_ticket(1).tags == []  # rules skip outbound mail unless asked
    run(store, config, mail("a@x.org", "Re: Hello", "again", at=T0.replace(hour=11),
                            in_reply_to="<r1@us>"))  # fmt: skip
    assert store.tickets.get_ticket(1).tags == ["followup"]


def test_tier_condition(store: Store) -> None:
    config = config_from(
        """
[[rules]]
name = "Enterprise first"
when = { tier = "enterprise|premium" }
set = { queue = "priority-desk" }
"""
    )
    run(store, config, mail("a@x.org", "One", "first", message_id="<t1@x>"))
    assert store.tickets.get_ticket(1).ticket.queue == "general"
    customer = store.tickets.get_ticket(1).ticket.customer_id
    assert customer is not None
    store.customers.set_customer_tier(customer, "enterprise", "ana")
    run(store, config, mail("a@x.org", "Two", "second", message_id="<t2@x>", minutes=5))
    assert store.tickets.get_ticket(2).ticket.queue == "priority-desk"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            '[[rules]]\nname = "A"\nwhen = { subjct = "x" }',
            r"^config \[\[rules\]\] #1 \('A'\) when\.subjct: not a condition — did you mean "
            r"subject\? \(an ignored condition would make the rule match more than it says\)\.$",
        ),
        (
            '[[rules]]\nname = "A"\nunless = { subject = "(" }',
            r"#1 \('A'\) unless\.subject: expected a valid regular expression \(missing \), "
            r"unterminated subpattern at position 0\), got '\('\.$",
        ),
        (
            '[[rules]]\nname = "B"\nset = { priority = "hot" }',
            r"#1 \('B'\) set\.priority: expected one of low, normal, high, urgent, got 'hot'",
        ),
        (
            '[[rules]]\nname = "B"\nset = { priority = "high", raise_priority = "urgent" }',
            r"#1 \('B'\) set\.raise_priority: set either priority or raise_priority, not both",
        ),
        ('[[rules]]\nwhen = { subject = "x" }', r"\[\[rules\]\] #1 name: required, but missing"),
        ('[[rules]]\nname = "C"\n[[rules]]\nname = "C"', r"#2 \('C'\) name: another rule"),
        (
            '[[rules]]\nname = "D"\nwhen = { new = "yes" }',
            r"#1 \('D'\) when\.new: expected true or false, got 'yes'",
        ),
        (
            '[[rules]]\nname = "E"\nwhen = { min_emotion_score = 1.5 }',
            r"#1 \('E'\) when\.min_emotion_score: expected a number from 0 to 1, got 1\.5",
        ),
        ('rules = "x"', r"\[\[rules\]\]: expected an array of tables: write each rule as"),
    ],
)
def test_broken_rules_name_the_rule_and_key(rules: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from(rules)


@pytest.mark.parametrize(
    ("rules", "warning"),
    [
        ('[[rules]]\nname = "B"\nset = { colour = "red" }', r"#1 \('B'\) set\.colour \(known: "),
        ('[[rules]]\nname = "E"\nsett = { queue = "x" }', r"#1 \('E'\) sett — did you mean set\?"),
    ],
)
def test_unknown_rule_keys_warn(rules: str, warning: str) -> None:
    (found,) = config_from(rules).warnings
    assert re.search(r"^config: unknown key \[\[rules\]\] " + warning, found)


def test_disabled_rules_are_checked_but_skipped() -> None:
    rules = parse_rules([{"name": "off", "enabled": False, "set": {"queue": "x"}}])
    assert rules == []
    with pytest.raises(ConfigError, match=r"set\.queue: expected a non-empty string"):
        parse_rules([{"name": "off", "enabled": False, "set": {"queue": " "}}])


def test_broken_rules_are_one_line_on_the_cli(tmp_path: Path, isolated_home: Path) -> None:
    from deskterm.cli import app

    (isolated_home / "config").mkdir()
    (isolated_home / "config" / "config.toml").write_text(
        '[[rules]]\nname = "Bad"\nwhen = { subject = "[" }\n', encoding="utf-8"
    )
    db = str(tmp_path / "s.db")
    result = CliRunner().invoke(app, ["--db", db, "triage", "--rules"])
    assert result.exit_code == 1
    assert "[[rules]] #1 ('Bad') when.subject: expected a valid regular expression" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_rerun_dry_run_then_apply(store: Store, db_path: Path, isolated_home: Path) -> None:
    ingest(  # imported without rules
        store,
        mail("ana@globex.com", "Refund for order 7", "please refund", message_id="<r1@g>"),
        mail("bo@acme.com", "Printer", "jams", message_id="<p1@a>", minutes=1),
        mail("cy@initech.com", "Hello", "hi", message_id="<h1@i>", minutes=2),
    )
    store.tickets.set_status(3, "solved", "ana")
    (isolated_home / "config").mkdir()
    (isolated_home / "config" / "config.toml").write_text(
        RULES + '\n[[rules]]\nname = "Everything"\nset = { tags = ["seen"] }\n', encoding="utf-8"
    )
    from deskterm.cli import app

    runner = CliRunner()
    db = str(db_path)
    result = runner.invoke(app, ["--db", db, "triage", "--dry-run", "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["changed"] == 2  # #3 is solved: not open
    by_number = {t["number"]: t for t in report["tickets"]}
    assert by_number[1]["changes"] == {
        "queue": ["general", "billing"],
        "priority": ["normal", "high"],
    }
    assert by_number[1]["tags_added"] == ["billing", "seen"]
    assert by_number[2]["rules"] == ["Acme is premium"]
    assert store.tickets.get_ticket(1).ticket.queue == "general"  # dry run changed nothing

    result = runner.invoke(app, ["--db", db, "triage", "queue:general"])
    assert result.exit_code == 0, result.stderr
    assert "2 tickets changed" in result.stdout
    one = store.tickets.get_ticket(1)
    assert (one.ticket.queue, one.ticket.priority, one.tags) == (
        "billing",
        "high",
        ["billing", "seen"],
    )
    assert [e.new for e in store.tickets.events(1) if e.kind == "rule"] == [
        "Invoices go to billing",
        "Everything",
    ]
    result = runner.invoke(app, ["--db", db, "triage", "--json"])
    assert json.loads(result.stdout)["changed"] == 0  # re-running is idempotent

    result = runner.invoke(app, ["--db", db, "triage", "status:solved", "--json"])
    assert json.loads(result.stdout)["changed"] == 1
    assert store.tickets.get_ticket(3).tags == ["seen"]


def test_chat_rules_match_the_sender_id(store: Store) -> None:
    config = config_from(
        """
[[rules]]
name = "US phones"
when = { channel = "whatsapp", from = "^\\\\+1" }
set = { queue = "us" }
"""
    )
    run(
        store,
        config,
        InboundRecord(
            source_key="whatsapp:a",
            channel="whatsapp",
            sent_at=T0,
            author=Party("phone", "+14155550100", "Bo"),
            body="hello",
            conversation="wa:bo",
        ),
        InboundRecord(
            source_key="whatsapp:b",
            channel="whatsapp",
            sent_at=T0,
            author=Party("phone", "+4930123456", "Cy"),
            body="hallo",
            conversation="wa:cy",
        ),
    )
    assert [store.tickets.get_ticket(n).ticket.queue for n in (1, 2)] == ["us", "general"]


def test_rerun_scores_emotions_the_import_left_empty(store: Store) -> None:
    from deskterm.triage import plan

    ingest(  # no hooks: no emotion stored, as for superseded history messages
        store,
        mail("ana@globex.com", "Order", "This is a DISGRACE!!! I am furious!", message_id="<a1@g>"),
        mail("ana@globex.com", "Re: Order", "ok", message_id="<a2@g>", minutes=5,
             in_reply_to="<a1@g>"),
    )  # fmt: skip
    assert [m.emotion for m in store.tickets.get_ticket(1).messages] == [None, None]
    rules = parse_rules([{"name": "Angry", "when": {"emotion": "anger"}, "set": {"tags": ["x"]}}])
    (only,) = list(plan(store, rules, None))
    assert [a.rule for a in only.applied] == ["Angry"]
