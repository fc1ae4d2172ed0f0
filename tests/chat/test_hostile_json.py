"""Hostile JSON in chat exports: each bad message is one recorded failure, never a crash.

Deep nesting (RecursionError in ``json``, a broken ``repr`` later), lone surrogate
escapes (``\\ud800``: unstorable as UTF-8; yajl raises or writes ``?``) and messages
without an id are written into real export files here, next to good messages that
must still be imported.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deskterm.connectors.chatbase import MAX_NESTING, ConnectorError
from deskterm.connectors.discord import DiscordExport
from deskterm.connectors.jsonl import JsonlExport
from deskterm.connectors.jsonstream import Utf8Reader, items
from deskterm.connectors.records import InboundRecord
from deskterm.connectors.telegram import TelegramExport
from tests.chat.builders import cli_json, failures, records, write

DEEP = "[" * 10_000 + "]" * 10_000
SURROGATE = "the text holds a lone UTF-16 surrogate"


def deep_json(value: Any) -> str:
    """``value`` as JSON with every ``"DEEP"`` string replaced by 10,000 nested lists."""
    return json.dumps(value).replace('"DEEP"', DEEP)


def tg(n: int, text: Any, **more: Any) -> dict[str, Any]:
    message = {"id": n, "type": "message", "date": "2023-05-01T10:00:00",
               "date_unixtime": str(1682935200 + 60 * n), "from": "Bea Costa",
               "from_id": "user5551", "text": text}  # fmt: skip
    message.update(more)
    return {k: v for k, v in message.items() if v is not None}


def hostile_telegram() -> list[dict[str, Any]]:
    return [
        tg(1, "first, fine"),
        tg(2, "half an emoji \ud83d here"),
        tg(3, "fine", **{"from": "Bea \udc00"}),
        tg(4, ["text with ", "DEEP"]),
        tg(5, "a valid pair \ud83d\ude00 and an escaped \\ud800 backslash"),
        tg(6, "no id", id=None),
        tg(7, "no id", id=None),  # the same text again: another message, another key
        tg(8, "last, fine"),
    ]


def test_telegram_chat_hostile_messages_fail_alone(tmp_path: Path) -> None:
    chat = {"name": "Bea Costa", "type": "personal_chat", "id": 5551,
            "messages": hostile_telegram()}  # fmt: skip
    path = write(tmp_path / "result.json", deep_json(chat))
    got = list(TelegramExport(path).items())
    assert [r.body for r in records(got)] == [
        "first, fine",
        "a valid pair \U0001f600 and an escaped \\ud800 backslash",
        "no id",
        "no id",
        "last, fine",
    ]
    assert [(f.position, f.reason[: len(SURROGATE)]) for f in failures(got)] == [
        ("chat 5551 message 1", SURROGATE),
        ("chat 5551 message 2", SURROGATE),
        ("chat 5551 message 3", f"nested more than {MAX_NESTING} levels deep"),
    ]
    keys = [r.source_key for r in records(got)]
    assert len(set(keys)) == 5
    # id-less keys come from the content: the same file read again gives the same keys
    again = [r.source_key for r in records(list(TelegramExport(path).items()))]
    assert again == keys
    assert keys[2].startswith("telegram:5551:h") and keys[2] != keys[3]


def test_telegram_account_hostile_messages_fail_alone(tmp_path: Path) -> None:
    account = {"chats": {"list": [
        {"name": "Bea Costa", "type": "personal_chat", "id": 5551,
         "messages": hostile_telegram()},
        {"name": "Carl", "type": "personal_chat", "id": 6, "messages": [tg(1, "after")]},
    ]}}  # fmt: skip
    path = write(tmp_path / "result.json", deep_json(account))
    got = list(TelegramExport(path).items())
    assert [r.body for r in records(got)][-1] == "after"
    assert len(records(got)) == 6
    assert [f.position for f in failures(got)] == [
        "chat 5551 message 1", "chat 5551 message 2", "chat 5551 message 3",
    ]  # fmt: skip


def dc(n: int, content: str, **more: Any) -> dict[str, Any]:
    message = {"id": str(1000 + n), "type": "Default",
               "timestamp": f"2023-01-01T10:{n:02d}:00+00:00", "content": content,
               "author": {"id": "77", "name": "ann"}}  # fmt: skip
    message.update(more)
    return {k: v for k, v in message.items() if v is not None}


def test_discord_hostile_messages_fail_alone(tmp_path: Path) -> None:
    export = {
        "guild": {"id": "1", "name": "Shop"},
        "channel": {"id": "2", "name": "help", "type": "GuildTextChat"},
        "messages": [
            dc(1, "fine"),
            dc(2, "broken \udbff"),
            dc(3, "deep embed", embeds="DEEP"),
            dc(4, "DEEP"),
            dc(5, "no id", id=None),
            dc(6, "last"),
        ],
    }
    path = write(tmp_path / "help.json", deep_json(export))
    got = list(DiscordExport(path).items())
    assert [r.body for r in records(got)] == ["fine", "no id", "last"]
    assert [(f.position, f.reason[:20]) for f in failures(got)] == [
        ("message 1", SURROGATE[:20]),
        ("message 2", "nested more than 64 "),
        ("message 3", "nested more than 64 "),
    ]
    key = records(got)[1].source_key
    assert key.startswith("discord:2:h")
    assert key == records(list(DiscordExport(path).items()))[1].source_key


def test_discord_deep_channel_is_one_clear_error(tmp_path: Path) -> None:
    export = {"guild": {}, "channel": {"id": "2", "name": "DEEP"}, "messages": [dc(1, "x")]}
    path = write(tmp_path / "help.json", deep_json(export))
    with pytest.raises(ConnectorError, match="channel is nested more than 64 levels deep"):
        DiscordExport(path)


def jl(text: str, **more: Any) -> dict[str, Any]:
    return {"conversation": "c1", "timestamp": "2026-03-01T10:15:00Z", "author": "Bea",
            "text": text, **more}  # fmt: skip


def test_jsonl_hostile_lines_fail_alone(tmp_path: Path) -> None:
    rows = [
        jl("first"),
        jl("deep", extra="DEEP"),
        jl("a bit deep", extra="SHALLOW"),
        jl("lone \ud800"),
        jl("fine", author="Bea \udfff"),
        jl("far future", timestamp=1e300),
        jl("pair \ud83d\ude00"),
    ]
    text = "\n".join(deep_json(r) for r in rows)
    text = text.replace('"SHALLOW"', "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))
    got = list(JsonlExport(write(tmp_path / "x.jsonl", text + "\n")).items())
    assert [r.body for r in records(got)] == ["first", "pair \U0001f600"]
    assert [(f.position, f.reason[:30]) for f in failures(got)] == [
        ("line 2", "not readable JSON: nested thou"),
        ("line 3", f"nested more than {MAX_NESTING} levels dee"),
        ("line 4", SURROGATE[:30]),
        ("line 5", SURROGATE[:30]),
        ("line 6", "timestamp 1e+300 is out of ran"),
    ]


@pytest.mark.parametrize("size", [1, 2, 5, 6, 7, 11, 12, 13])
def test_stream_reader_finds_lone_halves_across_chunks(size: int) -> None:
    # Escapes cut anywhere between two reads: pairs stay pairs, escaped backslashes
    # stay text, and only true lone halves are marked.
    texts = ["a\ud800b", "\ud83d\ude00", "\\ud800", "x\\\\\udbff\\\\", "\udc00\ud800", "\ud83d"]
    data = json.dumps({"messages": texts}).encode()

    class Small(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            return super().read(size)

    got = list(items(Utf8Reader(Small(data)), "messages.item"))
    lone = "\ufdd0"
    assert got == [f"a{lone}b", "\U0001f600", "\\ud800", f"x\\\\{lone}\\\\", lone * 2, lone]


def test_cli_import_records_hostile_lines_and_imports_the_rest(tmp_path: Path) -> None:
    rows = [jl("first"), jl("deep", extra="DEEP"), jl("lone \ud800"), jl("last")]
    path = write(tmp_path / "x.jsonl", "\n".join(deep_json(r) for r in rows))
    summary = cli_json("--db", str(tmp_path / "s.db"), "import", "jsonl", str(path))
    assert summary["messages_new"] == 2
    assert [f["position"] for f in summary["failures"]] == ["line 2", "line 3"]


def test_slack_hostile_messages_and_days_fail_alone(tmp_path: Path) -> None:
    from deskterm.connectors.slack import SlackExport
    from tests.chat.builders import slack_export, ts

    when = datetime(2024, 5, 13, 9, 0)

    def msg(n: int, text: str, **more: Any) -> dict[str, Any]:
        return {"type": "message", "user": "U0CUST001", "text": text, "ts": ts(when, n), **more}

    # A day is one JSON document: 100 levels in one message fail that message, 10,000
    # levels (beyond the decoder's stack) fail the day's file.
    root = slack_export(tmp_path / "ws", {"support": {
        "2024-05-13": [msg(1, "fine"), msg(2, "half \ud83d"), msg(3, "deep", blocks="100"),
                       msg(4, "last")],
        "2024-05-14": [msg(5, "DEEP")],
    }})  # fmt: skip
    for day in (root / "support").iterdir():
        text = day.read_text().replace('"DEEP"', DEEP)
        day.write_text(text.replace('"100"', "[" * 100 + "]" * 100))
    got = list(SlackExport(root).items())
    assert [r.body for r in records(got)] == ["fine", "last"]
    assert [(f.position, f.reason[:20]) for f in failures(got)] == [
        ("message 1", SURROGATE[:20]),
        ("message 2", "nested more than 64 "),
        ("file", "not readable JSON: n"),
    ]


def test_a_bad_character_in_a_chat_name_does_not_lose_the_chat(tmp_path: Path) -> None:
    chat = {"name": "Bea \ud800", "type": "personal_chat", "id": 5551, "messages": [tg(1, "hi")]}
    [record] = list(TelegramExport(write(tmp_path / "result.json", json.dumps(chat))).items())
    assert isinstance(record, InboundRecord)
    assert record.conversation_title == "Telegram: Bea \ufffd"
    export = {"guild": {"name": "Shop \udc00"}, "channel": {"id": "2", "name": "help"},
              "messages": [dc(1, "hi")]}  # fmt: skip
    [record] = list(DiscordExport(write(tmp_path / "help.json", json.dumps(export))).items())
    assert isinstance(record, InboundRecord)
    assert record.conversation_title == "Discord Shop \ufffd #help"
