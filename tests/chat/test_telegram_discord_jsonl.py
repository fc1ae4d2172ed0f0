"""Telegram Desktop JSON, DiscordChatExporter JSON and the generic JSON Lines format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from deskterm.connectors.chatbase import ConnectorError
from deskterm.connectors.discord import DiscordExport
from deskterm.connectors.jsonl import JsonlExport
from deskterm.connectors.telegram import TelegramExport
from tests.chat.builders import cli_json, failures, records, write

# -- Telegram ----------------------------------------------------------------------------


def tg_messages() -> list[dict[str, Any]]:
    return [
        {"id": 1, "type": "service", "date": "2023-05-01T10:00:00", "date_unixtime": "1682935200",
         "actor": "Bea Costa", "actor_id": "user5551", "action": "phone_call",
         "duration_seconds": 60, "text": ""},
        {"id": 2, "type": "message", "date": "2023-05-01T10:01:00", "date_unixtime": "1682935260",
         "from": "Bea Costa", "from_id": "user5551", "text": "My parcel is lost",
         "text_entities": [{"type": "plain", "text": "My parcel is lost"}]},
        {"id": 3, "type": "message", "date": "2023-05-01T10:02:00", "date_unixtime": "1682935320",
         "from": "Ana Souza", "from_id": "user1001",
         "text": ["Track it ", {"type": "text_link", "text": "here", "href": "https://t.example/1"},
                  " or ", {"type": "bold", "text": "call us"}]},
        {"id": 4, "type": "message", "date": "2023-05-01T10:03:00", "from": "Bea Costa",
         "from_id": "user5551", "text": "", "photo": "photos/photo_1@01-05-2023.jpg",
         "width": 10, "height": 10},
        {"id": 5, "type": "message", "date_unixtime": "1682935500", "from": "Bea Costa",
         "from_id": "user5551", "text": "",
         "file": "(File not included. Change data exporting settings to download.)",
         "file_name": "invoice.pdf", "media_type": "document"},
        {"id": 6, "type": "message", "date_unixtime": "1682935560", "from": "Bea Costa",
         "from_id": 5551, "text": "", "poll": {"question": "Happy?", "answers": [
             {"text": "Yes", "voters": 1}, {"text": "No", "voters": 0}]}},
        {"id": 7, "type": "message", "from": "Bea Costa", "text": "no date at all"},
    ]  # fmt: skip


def test_telegram_single_chat(tmp_path: Path) -> None:
    root = tmp_path / "ChatExport_2023-05-02"
    write(root / "photos" / "photo_1@01-05-2023.jpg", b"j" * 77)
    chat = {"name": "Bea Costa", "type": "personal_chat", "id": 5551, "messages": tg_messages()}
    path = write(root / "result.json", json.dumps(chat))
    export = TelegramExport(path, tz=timezone(timedelta(hours=2)))
    items = list(export.items())
    got = records(items)
    assert [(r.author.value, r.body) for r in got] == [
        ("5551", "My parcel is lost"),
        ("1001", "Track it here (https://t.example/1) or call us"),
        ("5551", "[file: photo_1@01-05-2023.jpg]"),
        ("5551", "[document: invoice.pdf]"),
        ("5551", "Poll: Happy?\n- Yes (1 votes)\n- No (0 votes)"),
    ]
    assert got[0].sent_at == datetime(2023, 5, 1, 10, 1, tzinfo=UTC)
    # only "date" (local time of the exporting machine): read in the given zone
    assert got[2].sent_at == datetime(2023, 5, 1, 8, 3, tzinfo=UTC)
    assert got[2].attachments[0].size == 77
    assert got[3].attachments[0].filename == "invoice.pdf"
    assert {r.conversation for r in got} == {"telegram:5551"}
    assert got[0].conversation_title == "Telegram: Bea Costa"
    assert got[0].source_key == "telegram:5551:2"
    assert [f.position for f in failures(items)] == ["chat 5551 message 6"]


def test_telegram_whole_account_links_contacts_by_phone(tmp_path: Path) -> None:
    data = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1001, "first_name": "Ana"},
        "contacts": {"list": [{"first_name": "Bea", "last_name": "Costa",
                               "phone_number": "+1 415 555 0177"}]},
        "chats": {"list": [
            {"name": "Bea Costa", "type": "personal_chat", "id": 5551, "messages": tg_messages()},
            {"type": "saved_messages", "id": 1001, "messages": [
                {"id": 1, "type": "message", "date_unixtime": "1682935200", "from": "Ana",
                 "from_id": "user1001", "text": "note to self"}]},
        ]},
        "left_chats": {"list": [
            {"name": "Old group", "type": "private_supergroup", "id": 777, "messages": [
                {"id": 9, "type": "message", "date_unixtime": "1682935200", "from": "Carl",
                 "from_id": "user42", "text": "bye"}]},
        ]},
    }  # fmt: skip
    got = records(list(TelegramExport(write(tmp_path / "result.json", json.dumps(data))).items()))
    assert "note to self" not in [r.body for r in got]
    bea = next(r for r in got if r.author.value == "5551")
    assert bea.author.links == (("phone", "+14155550177"),)
    ana = next(r for r in got if r.author.value == "1001")
    assert ana.author.links == ()
    assert next(r for r in got if r.body == "bye").conversation == "telegram:777"


def test_telegram_rejects_what_is_not_an_export(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="not valid JSON"):
        TelegramExport(write(tmp_path / "a.json", "{"))
    with pytest.raises(ConnectorError, match="not a Telegram Desktop export"):
        TelegramExport(write(tmp_path / "b.json", '{"hello": 1}'))


def cut_inside(text: str, marker: str) -> str:
    """The export cut off in the middle of the message that holds ``marker``."""
    return text[: text.index(marker) + len(marker) // 2]


def test_telegram_cut_short_keeps_what_came_before(tmp_path: Path) -> None:
    chat = {"name": "Bea Costa", "type": "personal_chat", "id": 5551, "messages": tg_messages()}
    full = json.dumps(chat, indent=1)
    path = write(tmp_path / "result.json", cut_inside(full, '"Happy?"'))
    items = list(TelegramExport(path).items())
    assert [r.source_key for r in records(items)] == [f"telegram:5551:{n}" for n in (2, 3, 4, 5)]
    [broken] = failures(items)
    assert broken.source == str(path)
    assert broken.position == "chat 5551 after message 4"
    assert broken.reason == (
        f"the export ends early: it is cut off at byte {path.stat().st_size:,}, "
        "as an export or copy that did not finish would be"
    )


def test_telegram_cut_short_then_whole_imports_only_the_rest(
    tmp_path: Path, isolated_home: Path
) -> None:
    chat = {"name": "Bea Costa", "type": "personal_chat", "id": 5551, "messages": tg_messages()}
    full = json.dumps(chat)
    db = str(tmp_path / "store.db")
    path = write(tmp_path / "result.json", cut_inside(full, '"Happy?"'))
    first = cli_json("--db", db, "import", "telegram", str(path))
    assert (first["messages_new"], first["messages_failed"]) == (4, 1)
    write(path, full)
    again = cli_json("--db", db, "import", "telegram", str(path))
    assert (again["messages_new"], again["messages_duplicate"]) == (1, 4)
    [cut] = [f for f in cli_json("--db", db, "import", "failures") if "after" in f["position"]]
    assert cut["position"] == "chat 5551 after message 4"
    assert cut["reason"].startswith("the export ends early")


def test_telegram_corrupt_middle_and_bad_bytes(tmp_path: Path) -> None:
    chat = {"name": "Bea", "type": "personal_chat", "id": 5551, "messages": tg_messages()}
    data = json.dumps(chat, ensure_ascii=False).replace("My parcel", "My caf\udcff parcel")
    raw = b"\xef\xbb\xbf" + data.encode("utf-8", "surrogateescape")  # BOM, a stray byte
    at = raw.index(b'"Happy?"')
    path = write(tmp_path / "result.json", raw[:at] + b"\0" * 40 + raw[at + 40 :])
    items = list(TelegramExport(path).items())
    got = records(items)
    assert got[0].body == "My caf\ufffd parcel is lost"
    assert [r.source_key for r in got][-1] == "telegram:5551:5"
    [broken] = failures(items)
    assert broken.position == "chat 5551 after message 4"
    # the parser reads 64 KiB at a time and says which chunk the bad bytes are in
    assert broken.reason == (
        f"the export is corrupt between bytes 0 and {len(raw):,} "
        "(lexical error: invalid char in json text)"
    )


def test_telegram_account_contacts_after_chats_and_cut_short(tmp_path: Path) -> None:
    chats = [
        {"name": "Old group", "type": "private_supergroup", "id": 777, "messages": [
            {"id": 9, "type": "message", "date_unixtime": "1682935200", "from": "Carl",
             "from_id": "user42", "text": "bye"}]},
        {"type": "saved_messages", "id": 1001, "messages": [
            {"id": 1, "type": "message", "date_unixtime": "1682935200", "from": "Ana",
             "from_id": "user1001", "text": "note to self"}]},
        {"name": "Bea Costa", "type": "personal_chat", "id": 5551, "messages": tg_messages()},
    ]  # fmt: skip
    data = {
        "about": "Here is the data you requested.",
        "chats": {"about": "", "list": chats},
        "contacts": {"list": [{"first_name": "Bea", "last_name": "Costa",
                               "phone_number": "+1 415 555 0177"}]},
    }  # fmt: skip
    whole = json.dumps(data)
    got = records(list(TelegramExport(write(tmp_path / "result.json", whole)).items()))
    assert got[0].body == "bye"
    assert "note to self" not in [r.body for r in got]
    bea = next(r for r in got if r.author.value == "5551")
    assert bea.author.links == (("phone", "+14155550177"),)

    # cut inside the contacts: every chat is whole, the break is after the last one
    path = write(tmp_path / "cut" / "result.json", cut_inside(whole, '"+1 415 555 0177"'))
    items = list(TelegramExport(path).items())
    assert len(records(items)) == len(got)
    assert [f.position for f in failures(items)] == ["chat 5551 message 6", "after chat 5551"]
    # cut inside Bea's chat: the contacts are never reached, so no link
    path = write(tmp_path / "cut2" / "result.json", cut_inside(whole, '"Happy?"'))
    items = list(TelegramExport(path).items())
    assert [r.body for r in records(items)][:2] == ["bye", "My parcel is lost"]
    assert records(items)[1].author.links == ()
    assert [f.position for f in failures(items)] == ["chat 5551 after message 4"]


def test_telegram_chat_header_after_its_messages(tmp_path: Path) -> None:
    messages = json.dumps(tg_messages())
    text = f'{{"messages": {messages}, "id": 5551, "type": "personal_chat", "name": "Bea"}}'
    got = records(list(TelegramExport(write(tmp_path / "result.json", text)).items()))
    assert got[0].source_key == "telegram:5551:2"
    assert got[0].conversation_title == "Telegram: Bea"


def test_telegram_open_reads_just_enough_to_tell(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="not valid JSON"):
        TelegramExport(write(tmp_path / "a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100))
    with pytest.raises(ConnectorError, match="expected a JSON object"):
        TelegramExport(write(tmp_path / "b.json", "[1, 2]"))
    with pytest.raises(ConnectorError, match="ends before its first chat"):
        TelegramExport(write(tmp_path / "c.json", '{"name": "Bea", "type": "personal_chat"'))
    # the head is read, the broken tail is for items() to report
    export = TelegramExport(write(tmp_path / "d.json", '{"id": 1, "messages": [{"id": 1'))
    assert [f.position for f in failures(list(export.items()))] == [
        "chat 1 before its first message"
    ]


# -- Discord -----------------------------------------------------------------------------


def dce(messages: list[Any], channel_type: str = "GuildTextChat") -> dict[str, Any]:
    return {
        "guild": {"id": "9001", "name": "Acme Community", "iconUrl": ""},
        "channel": {"id": "4242", "type": channel_type, "categoryId": "1", "category": "Help",
                    "name": "support", "topic": None},
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-01-01T00:00:00+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }  # fmt: skip


def author(uid: str, name: str, bot: bool = False, nick: str | None = None) -> dict[str, Any]:
    return {"id": uid, "name": name, "discriminator": "0000", "nickname": nick or name,
            "color": None, "isBot": bot, "roles": [], "avatarUrl": ""}  # fmt: skip


def test_discord_export(tmp_path: Path) -> None:
    messages = [
        {"id": "1", "type": "GuildMemberJoin", "timestamp": "2024-01-01T10:00:00+00:00",
         "content": "", "author": author("77", "bea")},
        {"id": "2", "type": "Default", "timestamp": "2024-01-01T10:01:00.123+01:00",
         "timestampEdited": "2024-01-01T10:02:00+01:00",
         "content": "Hi <@!88>, app crashes <:sad:123>",
         "author": author("77", "bea", nick="Bea"), "attachments": [], "embeds": [],
         "mentions": [author("88", "ana", nick="Ana Souza")]},
        {"id": "3", "type": "Reply", "timestamp": "2024-01-01T10:05:00+00:00", "content": "",
         "author": author("88", "ana", nick="Ana Souza"),
         "attachments": [{"id": "a1", "url": "https://cdn/x.log", "fileName": "x.log",
                          "fileSizeBytes": 2048}],
         "reference": {"messageId": "2", "channelId": "4242"}},
        {"id": "4", "type": "Default", "timestamp": "2024-01-01T10:06:00+00:00", "content": "",
         "author": author("99", "statusbot", bot=True),
         "embeds": [{"title": "Incident", "description": "API degraded"}]},
        {"id": "5", "type": "Default", "content": "no timestamp", "author": author("77", "bea")},
    ]  # fmt: skip
    export = DiscordExport(write(tmp_path / "support.json", json.dumps(dce(messages))))
    items = list(export.items())
    got = records(items)
    assert [(r.author.value, r.author.name, r.direction, r.body) for r in got] == [
        ("77", "Bea", None, "Hi @Ana Souza, app crashes :sad:"),
        ("88", "Ana Souza", None, "[file: x.log]"),
        ("99", "statusbot", "note", "Incident\nAPI degraded"),
    ]
    assert got[0].sent_at == datetime(2024, 1, 1, 9, 1, 0, 123000, tzinfo=UTC)
    assert got[0].extra["edited"] == "1"
    assert got[1].attachments[0].size == 2048
    assert got[0].conversation == "discord:4242"
    assert got[0].conversation_title == "Discord Acme Community #support"
    assert got[0].source_key == "discord:4242:2"
    assert [f.position for f in failures(items)] == ["message 4"]


def test_discord_dm_title_and_bad_files(tmp_path: Path) -> None:
    export = DiscordExport(write(tmp_path / "dm.json", json.dumps(dce([], "DirectTextChat"))))
    assert export.title == "Discord DM: support"
    with pytest.raises(ConnectorError, match="not a DiscordChatExporter JSON export"):
        DiscordExport(write(tmp_path / "x.json", "[]"))


def dce_message(n: int) -> dict[str, Any]:
    return {"id": str(n), "type": "Default", "timestamp": f"2024-01-01T10:{n:02d}:00+00:00",
            "content": f"message number {n}", "author": author("77", "bea")}  # fmt: skip


def test_discord_cut_short_keeps_what_came_before(tmp_path: Path) -> None:
    full = json.dumps(dce([dce_message(n) for n in range(1, 6)]), indent=2)
    path = write(tmp_path / "support.json", cut_inside(full, "message number 4"))
    items = list(DiscordExport(path).items())
    assert [r.source_key for r in records(items)] == [f"discord:4242:{n}" for n in (1, 2, 3)]
    [broken] = failures(items)
    assert (broken.source, broken.position) == (str(path), "after message 2")
    assert broken.reason.startswith("the export ends early: it is cut off at byte")


def test_discord_guild_and_channel_after_the_messages(tmp_path: Path) -> None:
    data = dce([dce_message(1)])
    reordered = {"messages": data.pop("messages"), **data}
    export = DiscordExport(write(tmp_path / "support.json", json.dumps(reordered)))
    assert export.title == "Discord Acme Community #support"
    assert [r.source_key for r in records(list(export.items()))] == ["discord:4242:1"]
    # and cut before the channel: nothing says which channel it is, so it is refused
    text = json.dumps(reordered)
    with pytest.raises(ConnectorError, match="ends before its messages"):
        DiscordExport(write(tmp_path / "cut.json", text[: text.index('"guild"')]))
    with pytest.raises(ConnectorError, match="not valid JSON"):
        DiscordExport(write(tmp_path / "x.bin", b"\x00\x01binary"))


# -- JSON Lines --------------------------------------------------------------------------


def jsonl(path: Path, rows: list[Any]) -> Path:
    return write(path, "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def line(**fields: Any) -> dict[str, Any]:
    base = {"conversation": "chat-1", "timestamp": "2026-03-01T10:15:00Z", "author": "Bea Costa",
            "author_id": "visitor-5521", "text": "Hello", "direction": "inbound"}  # fmt: skip
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_jsonl_format(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "chats.jsonl",
        [
            line(id="m1"),
            line(timestamp="2026-03-01T11:15:00+01:00", text="same minute, other zone"),
            line(timestamp=1772360160, author_id="bea@acme.example", text="epoch seconds"),
            line(timestamp=1772360160000, author_id="+1 415 555 0177", author_kind="phone",
                 text="epoch millis", direction=None),
            line(author="Ana Souza", author_id="agent-1", direction="outbound", text="Hi!",
                 author_email="ana@example.com", channel="livechat",
                 conversation_title="Checkout problem",
                 attachments=[{"filename": "a.png", "size": 5}]),
            line(timestamp="2026-03-01T10:20:00", text="naive time"),
        ],
    )  # fmt: skip
    items = list(JsonlExport(path, tz=timezone(timedelta(hours=-5))).items())
    assert failures(items) == []
    got = records(items)
    assert [r.sent_at for r in got] == [
        datetime(2026, 3, 1, 10, 15, tzinfo=UTC),
        datetime(2026, 3, 1, 10, 15, tzinfo=UTC),
        datetime(2026, 3, 1, 10, 16, tzinfo=UTC),
        datetime(2026, 3, 1, 10, 16, tzinfo=UTC),
        datetime(2026, 3, 1, 10, 15, tzinfo=UTC),
        datetime(2026, 3, 1, 15, 20, tzinfo=UTC),
    ]
    assert [(r.author.kind, r.author.value) for r in got[:5]] == [
        ("chat", "visitor-5521"),
        ("chat", "visitor-5521"),
        ("email", "bea@acme.example"),
        ("phone", "+14155550177"),
        ("livechat", "agent-1"),
    ]
    assert got[0].source_key == "jsonl:chat:chat-1:m1"
    assert got[0].conversation == "jsonl:chat:chat-1"
    assert got[3].direction is None and got[4].direction == "outbound"
    assert got[4].author.links == (("email", "ana@example.com"),)
    assert got[4].conversation == "jsonl:livechat:chat-1"
    assert got[4].conversation_title == "Checkout problem"
    assert got[4].attachments[0].content_type == "image/png"


def test_jsonl_malformed_lines_are_failures(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "bad.jsonl",
        [
            "{not json",
            "[1, 2]",
            line(conversation=None),
            line(timestamp="yesterday"),
            line(author=None, author_id=None),
            line(direction="sideways"),
            line(text="", attachments=None),
            line(author_kind="Bad Kind"),
            line(author_email="nope"),
            line(attachments=[{"size": 1}]),
            "",
            line(text="the one good line"),
        ],
    )
    items = list(JsonlExport(path).items())
    assert [r.body for r in records(items)] == ["the one good line"]
    reasons = [(f.position, f.reason) for f in failures(items)]
    assert [p for p, _ in reasons] == [f"line {n}" for n in range(1, 11)]
    assert reasons[0][1].startswith("not valid JSON")
    assert reasons[1][1] == "the line is not a JSON object"
    assert reasons[2][1] == "conversation is required (a string or number)"
    assert "not ISO 8601" in reasons[3][1]
    assert reasons[4][1] == "author or author_id is required"
    assert "direction must be one of inbound, outbound, note" in reasons[5][1]


def test_jsonl_keys_without_ids_survive_appends_and_repeats(tmp_path: Path) -> None:
    rows = [line(text="ok"), line(text="ok"), line(text="different")]
    first = records(list(JsonlExport(jsonl(tmp_path / "a.jsonl", rows)).items()))
    more = records(list(JsonlExport(jsonl(tmp_path / "b.jsonl", [*rows, line(text="ok")])).items()))
    assert len({r.source_key for r in first}) == 3
    assert [r.source_key for r in more[:3]] == [r.source_key for r in first]
    assert more[3].source_key not in {r.source_key for r in first}
