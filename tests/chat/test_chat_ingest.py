"""Chat exports through the real CLI and pipeline into a real store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from deskterm.desk import open_store
from deskterm.store import Store
from tests.chat.builders import (
    Msg,
    all_messages,
    cli,
    cli_json,
    config,
    slack_export,
    ts,
    whatsapp_text,
    write,
    zip_bytes,
)
from tests.chat.test_slack import current_day, legacy_day
from tests.store.helpers import ingest, mail

AGENTS = '[chat]\nagents = ["Ana Souza", "+1 415 555 0100", "U024BE7LH"]\n'
BEA = "+1 (415) 555-0177"


def day(d: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, d, hour, minute)


def chat(messages: list[Msg]) -> str:
    return whatsapp_text("android-en_GB", messages)


FIRST = [
    Msg(day(13, 9), BEA, "My card was charged twice"),
    Msg(day(13, 9, 5), "Ana Souza", "Sorry! Let me check."),
    Msg(day(13, 10), BEA, "ok"),
    Msg(day(13, 10), BEA, "ok"),
    Msg(day(14, 8), "+1 415-555-0100", "Refunded, from the support phone."),
    Msg(day(17, 12), BEA, "New problem: the app logs me out"),
]
MORE = [
    Msg(day(17, 12, 30), "Ana Souza", "Which version?"),
    Msg(day(17, 12, 31), BEA, "ok"),
    Msg(day(20, 9), BEA, "Still broken"),
]


@pytest.fixture
def db(tmp_path: Path, isolated_home: Path) -> str:
    config(isolated_home, AGENTS)
    return str(tmp_path / "store.db")


@pytest.fixture
def store(db: str):  # type: ignore[no-untyped-def]
    s = open_store(db)
    yield s
    s.close()


def wa(tmp_path: Path, messages: list[Msg], name: str = "WhatsApp Chat with Bea.txt") -> str:
    return str(write(tmp_path / "exports" / name, chat(messages)))


def test_whatsapp_import_reimport_and_appended_export(
    db: str, store: Store, tmp_path: Path
) -> None:
    first = cli_json("--db", db, "import", "whatsapp", wa(tmp_path, FIRST))
    assert (first["messages_new"], first["messages_duplicate"], first["messages_failed"]) == (
        6,
        0,
        0,
    )
    assert (first["tickets_created"], first["customers_created"]) == (2, 1)
    again = cli_json("--db", db, "import", "whatsapp", wa(tmp_path, FIRST))
    assert (again["messages_new"], again["messages_duplicate"]) == (0, 6)
    assert (again["tickets_created"], again["tickets_updated"], again["customers_created"]) == (
        0, 0, 0,
    )  # fmt: skip
    longer = cli_json("--db", db, "import", "whatsapp", wa(tmp_path, FIRST + MORE))
    assert (longer["messages_new"], longer["messages_duplicate"]) == (3, 6)
    # 12:30 and 12:31 continue the session of the 17th; the 20th is a new one
    assert (longer["tickets_created"], longer["tickets_updated"]) == (1, 1)
    tickets = sorted(store.queue.list_tickets(limit=10).rows, key=lambda r: r.number)
    assert [store.tickets.get_ticket(t.number).ticket.message_count for t in tickets] == [5, 3, 1]
    assert len(all_messages(store)) == 9


def test_sessions_split_at_the_configured_gap(
    db: str, store: Store, tmp_path: Path, isolated_home: Path
) -> None:
    config(isolated_home, AGENTS + "session_gap_hours = 2\n")
    summary = cli_json("--db", db, "import", "whatsapp", wa(tmp_path, FIRST + MORE))
    # gaps over 2 h: 13th 9:00-10:00 | 14th | 17th | 20th
    assert summary["tickets_created"] == 4
    rows = sorted(store.queue.list_tickets(limit=10).rows, key=lambda r: r.number)
    detail = [store.tickets.get_ticket(r.number) for r in rows]
    assert [[m.sent_at.day for m in d.messages] for d in detail] == [
        [13, 13, 13, 13], [14], [17, 17, 17], [20],
    ]  # fmt: skip
    # messages keep their own times; the ticket spans them
    assert detail[0].ticket.created_at == detail[0].messages[0].sent_at
    assert detail[0].ticket.updated_at == detail[0].messages[-1].sent_at


def test_a_solved_ticket_ends_the_session(db: str, store: Store, tmp_path: Path) -> None:
    cli("--db", db, "import", "whatsapp", wa(tmp_path, FIRST[:4]))
    [row] = store.queue.list_tickets(limit=5).rows
    store.tickets.set_status(row.number, "solved", "ana")
    appended = [*FIRST[:4], Msg(day(13, 11), BEA, "one more thing")]
    summary = cli_json("--db", db, "import", "whatsapp", wa(tmp_path, appended))
    assert (summary["messages_new"], summary["tickets_created"]) == (1, 1)
    assert store.tickets.get_ticket(row.number).ticket.status == "solved"


def test_agents_by_name_phone_and_slack_id(db: str, store: Store, tmp_path: Path) -> None:
    cli("--db", db, "import", "whatsapp", wa(tmp_path, FIRST))
    directions = {(m.author_name, m.direction) for m in all_messages(store)}
    assert directions == {
        (BEA, "inbound"),
        ("Ana Souza", "outbound"),
        ("+1 415-555-0100", "outbound"),
    }
    first = store.tickets.get_ticket(
        min(r.number for r in store.queue.list_tickets(limit=5).rows)
    ).ticket
    assert first.first_response_at is not None and first.first_response_at.minute == 5
    assert first.status == "open"
    customers = cli_json("--db", db, "customers", "list")
    assert [(c["name"], c["identities"]) for c in customers] == [(BEA, ["phone:+14155550177"])]
    slack = slack_export(tmp_path / "ws", {"support": {"2024-03-14": current_day()}})
    cli("--db", db, "import", "slack", str(slack))
    ana = [m for m in all_messages(store) if m.author_address == "U024BE7LH"]
    assert ana and all(m.direction == "outbound" for m in ana)


def test_identities_attach_across_mail_slack_whatsapp_and_jsonl(
    db: str, store: Store, tmp_path: Path
) -> None:
    ingest(store, mail("bea@acme.example", "Invoice question", "Hi, about my invoice"))
    [mailer] = store.customers.list_customers()
    slack = slack_export(tmp_path / "ws", {"support": {"2024-03-14": legacy_day()}})
    assert cli_json("--db", db, "import", "slack", str(slack))["customers_created"] == 0
    # the Slack profile's email linked Bea's Slack id and phone to the mail customer
    summary = cli_json("--db", db, "import", "whatsapp", wa(tmp_path, FIRST))
    assert summary["customers_created"] == 0
    line = {
        "conversation": "lc-9",
        "timestamp": "2024-05-20T10:00:00Z",
        "author": "B. Costa",
        "author_id": "visitor-77",
        "author_email": "bea@acme.example",
        "text": "hello again",
    }
    write(tmp_path / "live.jsonl", json.dumps(line) + "\n")
    assert cli_json("--db", db, "import", "jsonl", str(tmp_path / "live.jsonl"))[
        "customers_created"] == 0  # fmt: skip
    profile = cli_json("--db", db, "customers", "show", "bea@acme.example")
    assert profile["id"] == mailer["id"]
    assert {(i["kind"], i["value"]) for i in profile["identities"]} == {
        ("email", "bea@acme.example"), ("slack", "U0CUST001"), ("phone", "+14155550177"),
        ("chat", "visitor-77"),
    }  # fmt: skip
    assert {t["channel"] for t in profile["tickets"]} == {"email", "slack", "whatsapp", "chat"}
    assert cli_json("--db", db, "customers", "show", BEA)["id"] == mailer["id"]


def test_customers_merge(db: str, store: Store, tmp_path: Path) -> None:
    ingest(store, mail("bea@acme.example", "Invoice question", "Hi"))
    named = [Msg(day(13, 9), "Bea Costa", "it's me, Bea, from my phone")]
    cli("--db", db, "import", "whatsapp", wa(tmp_path, named, "WhatsApp Chat with Bea Costa.txt"))
    by_name = {c["name"]: c for c in cli_json("--db", db, "customers", "list")}
    mailer, phone = by_name["Bea"]["id"], by_name["Bea Costa"]["id"]
    result = cli_json("--db", db, "customers", "merge", str(phone), str(mailer))
    assert result == {"merged": phone, "into": mailer, "identities_moved": 1,
                      "tickets_moved": 1, "earlier_merges_moved": 0}  # fmt: skip
    listed = cli_json("--db", db, "customers", "list")
    assert [c["id"] for c in listed] == [mailer]
    assert set(listed[0]["identities"]) == {"email:bea@acme.example", "whatsapp:Bea Costa"}
    assert listed[0]["tickets"] == 2
    # the merged customer is kept, pointing at the survivor, and resolves to it
    assert cli_json("--db", db, "customers", "show", str(phone))["id"] == mailer
    # messages keep their author identity, which now belongs to the survivor
    wa_message = next(m for m in all_messages(store) if m.channel == "whatsapp")
    assert wa_message.author_identity_id is not None
    with store.db.engine.connect() as conn:
        owner = conn.execute(
            text("SELECT customer_id FROM identity WHERE id = :i"),
            {"i": wa_message.author_identity_id},
        ).scalar_one()
        merged_into = conn.execute(
            text("SELECT merged_into_id FROM customer WHERE id = :c"), {"c": phone}
        ).scalar_one()
        events = conn.execute(
            text("SELECT kind, customer_id, old, new FROM event WHERE kind IN "
                 "('customer_merge', 'customer') ORDER BY id")
        ).all()  # fmt: skip
    assert owner == mailer and merged_into == mailer
    assert [tuple(e) for e in events] == [
        ("customer_merge", mailer, str(phone), str(mailer)),
        ("customer", mailer, str(phone), str(mailer)),
    ]
    # a later message from the same WhatsApp contact lands on the survivor
    later = [*named, Msg(day(20, 9), "Bea Costa", "hello again")]
    cli("--db", db, "import", "whatsapp", wa(tmp_path, later, "WhatsApp Chat with Bea Costa.txt"))
    assert cli_json("--db", db, "customers", "show", "Bea Costa")["id"] == mailer
    assert len(cli_json("--db", db, "customers", "list")) == 1
    # errors are one sentence
    _, err, code = cli("--db", db, "customers", "merge", str(phone), str(mailer), ok=False)
    assert code == 3 and f"Customer #{phone} was already merged into #{mailer}." in err
    _, err, code = cli("--db", db, "customers", "merge", str(mailer), str(mailer), ok=False)
    assert code == 1 and "cannot be merged into itself" in err
    _, err, _ = cli("--db", db, "customers", "show", "nobody@nowhere", ok=False)
    assert "No customer matches 'nobody@nowhere'" in err


def test_customers_show_text_and_list_table(db: str, tmp_path: Path) -> None:
    cli("--db", db, "import", "whatsapp", wa(tmp_path, FIRST))
    out, _, _ = cli("--db", db, "customers", "show", "+14155550177")
    assert "Customer #1 +1 (415) 555-0177" in out and "phone: +14155550177" in out
    out, _, _ = cli("--db", db, "customers", "list", "--search", "555")
    assert "+1 (415) 555-0177" in out


def test_search_finds_imported_chat_and_the_index_stays_live(
    db: str, store: Store, tmp_path: Path
) -> None:
    many = [Msg(day(13, 9, i % 60), BEA, f"message number {i} about zebra{i}") for i in range(150)]
    cli("--db", db, "import", "whatsapp", wa(tmp_path, many))  # one big batch: deferred index
    assert len(store.queue.search_messages("zebra77")) == 1
    assert store.queue.count_search("zebra*") == 150
    cli("--db", db, "import", "whatsapp", wa(tmp_path, [*many, Msg(day(20, 9), BEA, "giraffe")]))
    assert len(store.queue.search_messages("giraffe")) == 1  # small batch: the trigger
    store.tickets.add_internal_note(
        store.queue.list_tickets(limit=1).rows[0].number, "okapi note", "ana"
    )
    assert len(store.queue.search_messages("okapi")) == 1
    with store.db.engine.connect() as conn:
        triggers = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        ).scalars()
        assert "message_fts_ai" in list(triggers)
        integrity = conn.execute(
            text("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
        )
        assert integrity is not None


def test_every_chat_command_with_json(db: str, store: Store, tmp_path: Path) -> None:
    from tests.chat.test_telegram_discord_jsonl import author, dce, tg_messages

    tg_chat = {"name": "Bea", "type": "personal_chat", "id": 5551, "messages": tg_messages()}
    tg = write(tmp_path / "result.json", json.dumps(tg_chat))
    dc = write(tmp_path / "support.json", json.dumps(dce([
        {"id": "2", "type": "Default", "timestamp": "2024-01-01T10:01:00+00:00",
         "content": "crash", "author": author("77", "bea")}])))  # fmt: skip
    jl = write(tmp_path / "c.jsonl", json.dumps({"conversation": 1, "timestamp": 1, "author": "x",
                                                 "text": "t"}) + "\n{oops\n")  # fmt: skip
    sl = slack_export(tmp_path / "ws", {"support": {"2024-03-14": current_day()}}, as_zip=True)
    results = {
        "telegram": cli_json("--db", db, "import", "telegram", str(tg)),
        "discord": cli_json("--db", db, "import", "discord", str(dc)),
        "jsonl": cli_json("--db", db, "import", "jsonl", str(jl)),
        "slack": cli_json("--db", db, "import", "slack", str(sl), "--channel", "support"),
    }
    assert {k: (v["messages_new"], v["messages_failed"]) for k, v in results.items()} == {
        "telegram": (5, 1), "discord": (1, 0), "jsonl": (1, 1), "slack": (7, 1),
    }  # fmt: skip
    recorded = cli_json("--db", db, "import", "failures")
    assert {f["connector"] for f in recorded} == {"telegram", "jsonl", "slack"}
    assert {m.channel for m in all_messages(store)} == {"telegram", "discord", "chat", "slack"}
    out, _, _ = cli("--db", db, "import", "discord", str(dc))
    assert out.startswith("messages: 0 new, 1 duplicate, 0 failed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("whatsapp", "AMBIG"), "Run again with --date-order dmy or --date-order mdy."),
        (("whatsapp", "AMBIG", "--date-order", "xyz"), "--date-order must be dmy, mdy or ymd"),
        (("whatsapp", "AMBIG", "--tz", "Mars/Olympus"), "Unknown time zone 'Mars/Olympus'"),
        (("slack", "WS", "--channel", "random"), "There is no channel 'random'"),
        (("telegram", "NOPE"), "does not exist"),
        (("jsonl", "NOPE"), "does not exist"),
    ],
)
def test_errors_are_one_sentence(
    db: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    ambiguous = write(tmp_path / "a.txt", chat([Msg(datetime(2024, 1, 2, 9, 0), BEA, "hi")]))
    ws = slack_export(tmp_path / "ws", {"support": {"2024-03-14": legacy_day()}})
    swap = {"AMBIG": str(ambiguous), "WS": str(ws), "NOPE": str(tmp_path / "nope")}
    _, err, code = cli("--db", db, "import", *(swap.get(a, a) for a in args), ok=False)
    assert code == 1
    assert err.startswith("deskterm: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_date_order_option_through_the_cli(db: str, store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", chat([Msg(datetime(2024, 1, 2, 9, 0), BEA, "hi")]))
    cli("--db", db, "import", "whatsapp", str(path), "--date-order", "mdy", "--tz", "UTC")
    assert all_messages(store)[0].sent_at.date().isoformat() == "2024-02-01"


def test_media_is_kept_under_the_data_dir(
    db: str, store: Store, tmp_path: Path, isolated_home: Path
) -> None:
    config(isolated_home, AGENTS + "\n[ingest]\nstore_attachments = true\n")
    export = write(tmp_path / "WhatsApp Chat - Bea.zip", zip_bytes({
        "_chat.txt": whatsapp_text("ios-en_GB", [Msg(datetime(2024, 5, 13, 9, 0, 1), BEA,
                                   "<attached: 00000001-PHOTO.jpg>", marked=True)]),
        "00000001-PHOTO.jpg": b"\xff\xd8photo",
        "../../escape.jpg": b"x",
    }))  # fmt: skip
    _, err, code = cli("--db", db, "import", "whatsapp", str(export), ok=False)
    assert code == 1 and "zip-slip" in err
    export = write(tmp_path / "WhatsApp Chat - Bea.zip", zip_bytes({
        "_chat.txt": whatsapp_text("ios-en_GB", [Msg(datetime(2024, 5, 13, 9, 0, 1), BEA,
                                   "<attached: 00000001-PHOTO.jpg>", marked=True)]),
        "00000001-PHOTO.jpg": b"\xff\xd8photo",
    }))  # fmt: skip
    cli("--db", db, "import", "whatsapp", str(export))
    detail = store.tickets.get_ticket(store.queue.list_tickets(limit=1).rows[0].number)
    [attachment] = detail.attachments[detail.messages[0].id or 0]
    assert attachment.filename == "00000001-PHOTO.jpg" and attachment.size == 7
    stored = Path(attachment.stored_path or "")
    assert stored.is_relative_to(isolated_home / "data") and stored.read_bytes() == b"\xff\xd8photo"


def test_slack_threads_become_their_own_tickets(db: str, store: Store, tmp_path: Path) -> None:
    path = slack_export(tmp_path / "ws", {"support": {"2024-03-14": current_day()}})
    cli("--db", db, "import", "slack", str(path))
    subjects = sorted(r.subject for r in store.queue.list_tickets(limit=10).rows)
    assert subjects == [
        "#support", "#support thread", "#support: Card declined, @Ana Souza see status",
    ]  # fmt: skip
    thread = next(
        r for r in store.queue.list_tickets(limit=10).rows if r.subject.startswith("#support:")
    )
    detail = store.tickets.get_ticket(thread.number)
    assert [m.direction for m in detail.messages] == ["inbound", "outbound"]
    assert detail.messages[0].sent_at.isoformat().startswith("2024-03-14T09:00:00.000010")
    assert ts(datetime(2024, 3, 14, 9, 0), 10) in detail.messages[0].source_key


def test_chat_config_region_timezone_and_bad_values(
    db: str, store: Store, tmp_path: Path, isolated_home: Path
) -> None:
    path = write(
        tmp_path / "c.txt", chat([Msg(datetime(2024, 7, 14, 9, 0), "0171 1234567", "Hallo")])
    )
    config(isolated_home, '[chat]\ndefault_region = "de"\ntimezone = "Europe/Berlin"\n')
    cli("--db", db, "import", "whatsapp", str(path))
    [message] = all_messages(store)
    assert message.author_address == "+491711234567"
    assert message.sent_at.isoformat() == "2024-07-14T07:00:00+00:00"
    config(isolated_home, '[chat]\ndefault_region = "Atlantis"\n')
    _, err, code = cli("--db", db, "import", "whatsapp", str(path), ok=False)
    assert code == 1 and "[chat] default_region: expected a region code" in err
    config(isolated_home, "[chat]\nbatch_size = 0\n")
    _, err, code = cli("--db", db, "import", "whatsapp", str(path), ok=False)
    assert code == 1 and "[chat] batch_size: expected a whole number above 0, got 0." in err


def test_triage_rules_tag_and_route_new_chat_tickets(
    db: str, store: Store, tmp_path: Path, isolated_home: Path
) -> None:
    config(
        isolated_home,
        AGENTS
        + '\n[[rules]]\nname = "WhatsApp billing"\n'
        + 'when = { channel = "whatsapp", body = "charged|refund" }\n'
        + 'set = { queue = "billing", priority = "high", tags = ["billing"] }\n',
    )
    many = [Msg(day(13, 11, i % 60), BEA, f"filler {i}") for i in range(100)]
    cli("--db", db, "import", "whatsapp", wa(tmp_path, [*FIRST[:4], *many, *FIRST[4:]]))
    tagged = cli_json("--db", db, "tickets", "list", "--tag", "billing")
    assert len(tagged) == 1
    detail = store.tickets.get_ticket(tagged[0]["number"])
    assert (detail.ticket.queue, detail.ticket.priority, detail.tags) == (
        "billing", "high", ["billing"],
    )  # fmt: skip
    assert detail.ticket.message_count == len(detail.messages) == 105
    kinds = [e.kind for e in store.tickets.events(detail.ticket.id or 0)]
    assert kinds[0] == "created" and "rule" in kinds
