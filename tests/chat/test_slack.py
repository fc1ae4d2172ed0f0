"""Slack workspace exports, 2016-era and current, as folders and zips."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deskterm.connectors.chatbase import ConnectorError
from deskterm.connectors.slack import SlackExport
from tests.chat.builders import failures, records, slack_export, ts, write

T = datetime(2024, 3, 14, 9, 0)


def legacy_day() -> list[dict[str, Any]]:
    """A 2016 export's day: plain text, a bot, a file share and a comment on it."""
    return [
        {"type": "message", "user": "U0CUST001", "text": "Hello <@U024BE7LH>, export fails",
         "ts": ts(T, 1)},
        {"type": "message", "subtype": "channel_join", "user": "U0CUST002",
         "text": "<@U0CUST002|carl> has joined the channel", "ts": ts(T, 2)},
        {"type": "message", "subtype": "bot_message", "username": "jenkins", "bot_id": "B0JENKINS",
         "text": "Build #12 failed", "ts": ts(T, 3)},
        {"type": "message", "subtype": "file_share", "user": "U0CUST001", "ts": ts(T, 4),
         "text": "<@U0CUST001|bea> uploaded a file: <https://files.example/F1|shot.png> and "
                 "commented: see this",
         "file": {"id": "F1", "name": "shot.png", "title": "shot", "mimetype": "image/png",
                  "size": 12345}},
        {"type": "message", "subtype": "file_comment", "ts": ts(T, 5),
         "text": "<@U024BE7LH|ana> commented on <@U0CUST001|bea>'s file shot: looking",
         "comment": {"id": "Fc1", "user": "U024BE7LH", "comment": "looking at it"}},
    ]  # fmt: skip


def current_day() -> list[Any]:
    """A current export's day: rich text, threads, a tombstone, edits, files, an app."""
    t1, t3 = ts(T, 10), ts(T, 30)
    return [
        {"type": "message", "user": "U0CUST001", "text": "", "ts": t1, "thread_ts": t1,
         "reply_count": 1, "replies": [{"user": "U024BE7LH", "ts": ts(T, 11)}],
         "blocks": [{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
             {"type": "text", "text": "Card declined, "},
             {"type": "user", "user_id": "U024BE7LH"},
             {"type": "text", "text": " see "},
             {"type": "link", "url": "https://status.example", "text": "status"}]}]}]},
        {"type": "message", "user": "U024BE7LH", "text": "Looking <!here> &lt;now&gt; &amp; soon",
         "ts": ts(T, 11), "thread_ts": t1, "parent_user_id": "U0CUST001"},
        {"type": "message", "subtype": "tombstone", "user": "USLACKBOT", "hidden": True,
         "text": "This message was deleted.", "ts": t3, "thread_ts": t3, "reply_count": 1},
        {"type": "message", "user": "U0CUST001", "text": "still waiting", "ts": ts(T, 31),
         "thread_ts": t3},
        {"type": "message", "user": "U0CUST001", "text": "fixed typo in <#C0GENERAL|general>",
         "edited": {"user": "U0CUST001", "ts": ts(T, 41)}, "ts": ts(T, 40)},
        {"type": "message", "user": "U0CUST001", "text": "", "ts": ts(T, 50),
         "files": [{"id": "F2", "name": "log.txt", "mimetype": "text/plain", "size": 42},
                   {"id": "F3", "mode": "tombstone"}]},
        {"type": "message", "user": "U0BOTAPP1", "bot_id": "B0DEPLOY", "text": "Deployed v2",
         "ts": ts(T, 60)},
        {"type": "message", "user": "U0CUST002", "text": "docs: <https://x.example|the docs>, "
         "<mailto:c@x.example|c@x.example>, <@U0NOBODY>", "ts": ts(T, 70)},
        "not a message object",
    ]  # fmt: skip


def read(path: Path, **kw: Any) -> list[Any]:
    export = SlackExport(path, **kw)
    try:
        return list(export.items())
    finally:
        export.close()


def test_2016_export(tmp_path: Path) -> None:
    path = slack_export(tmp_path / "ws", {"support": {"2024-03-14": legacy_day()}}, era="2016")
    got = records(read(path))
    assert [(r.author.value, r.direction, r.body) for r in got] == [
        ("U0CUST001", None, "Hello @Ana Souza, export fails"),
        ("B0JENKINS", "note", "Build #12 failed"),
        ("U0CUST001", None,
         "@Bea Costa uploaded a file: shot.png (https://files.example/F1) and commented: see this"),
        ("U024BE7LH", None, "looking at it"),
    ]  # fmt: skip
    assert got[2].attachments[0].filename == "shot.png"
    assert got[2].attachments[0].size == 12345
    assert {r.conversation for r in got} == {"slack:C0SUPPORT"}
    assert got[0].conversation_title == "#support"
    assert got[0].source_key == f"slack:C0SUPPORT:{ts(T, 1)}"
    assert got[0].sent_at == datetime(2024, 3, 14, 9, 0, 0, 1, tzinfo=UTC)


def test_current_export(tmp_path: Path) -> None:
    path = slack_export(tmp_path / "ws", {"support": {"2024-03-14": current_day()}})
    items = read(path)
    got = records(items)
    by_body = {r.body: r for r in got}
    parent = by_body["Card declined, @Ana Souza see status"]
    reply = by_body["Looking @here <now> & soon"]
    assert parent.conversation == reply.conversation == f"slack:C0SUPPORT:{ts(T, 10)}"
    assert parent.conversation_title == "#support: Card declined, @Ana Souza see status"
    orphan = by_body["still waiting"]
    assert orphan.conversation == f"slack:C0SUPPORT:{ts(T, 30)}"
    assert orphan.conversation_title == "#support thread"
    assert "This message was deleted." not in by_body
    edited = by_body["fixed typo in #general"]
    assert edited.extra["edited"] == "1" and edited.conversation == "slack:C0SUPPORT"
    files = by_body["[file: log.txt]"]
    assert [(a.filename, a.content_type, a.size) for a in files.attachments] == [
        ("log.txt", "text/plain", 42)
    ]
    assert by_body["Deployed v2"].direction == "note"
    assert by_body["docs: the docs (https://x.example), c@x.example, @U0NOBODY"]
    assert [f.reason for f in failures(items)] == ["unreadable message: not a JSON object"]


def test_users_become_identities_with_profile_links(tmp_path: Path) -> None:
    path = slack_export(tmp_path / "ws", {"support": {"2024-03-14": legacy_day()}})
    bea = records(read(path))[0].author
    assert (bea.kind, bea.value, bea.name) == ("slack", "U0CUST001", "Bea Costa")
    assert set(bea.links) == {("email", "bea@acme.example"), ("phone", "+14155550177")}


def test_zip_and_folder_give_the_same_records(tmp_path: Path) -> None:
    days = {"support": {"2024-03-14": current_day()}, "vip": {"2024-03-15": legacy_day()}}
    folder = read(slack_export(tmp_path / "a", days))
    zipped = read(slack_export(tmp_path / "b", days, as_zip=True))
    assert [(r.source_key, r.body) for r in records(folder)] == [
        (r.source_key, r.body) for r in records(zipped)
    ]
    assert {r.conversation_title for r in records(folder)} >= {"#vip", "#support"}


def test_a_zip_with_a_top_folder(tmp_path: Path) -> None:
    from tests.chat.builders import zip_bytes

    members = {
        "Acme Slack export/users.json": json.dumps([]),
        "Acme Slack export/channels.json": json.dumps([{"id": "C1", "name": "help"}]),
        "Acme Slack export/help/2024-01-02.json": json.dumps(
            [{"type": "message", "user": "U9", "text": "hi", "ts": "1704189600.000100",
              "user_profile": {"real_name": "Dora"}}]
        ),
    }  # fmt: skip
    got = records(read(write(tmp_path / "e.zip", zip_bytes(members))))
    assert [(r.author.name, r.body, r.conversation) for r in got] == [("Dora", "hi", "slack:C1")]


def test_dms_and_channel_selection(tmp_path: Path) -> None:
    days = {
        "support": {"2024-03-14": legacy_day()},
        "general": {"2024-03-14": [{"type": "message", "user": "U0CUST002", "text": "x",
                                    "ts": ts(T, 90)}]},
        "D0DIRECT1": {"2024-03-14": [{"type": "message", "user": "U0CUST001", "text": "dm",
                                      "ts": ts(T, 91)}]},
    }  # fmt: skip
    dms = [{"id": "D0DIRECT1", "members": ["U024BE7LH", "U0CUST001"]}]
    path = slack_export(tmp_path / "ws", days, extra={"dms.json": dms})
    everything = records(read(path))
    dm = next(r for r in everything if r.body == "dm")
    assert dm.conversation == "slack:D0DIRECT1"
    assert dm.conversation_title == "Slack DM with Ana Souza, Bea Costa"
    only = records(read(path, channels=["#general"]))
    assert [r.body for r in only] == ["x"]
    with pytest.raises(ConnectorError, match=r"no channel 'random'.*general, support, vip"):
        read(path, channels=["random"])


def test_broken_files_are_failures(tmp_path: Path) -> None:
    path = slack_export(tmp_path / "ws", {"support": {"2024-03-14": legacy_day()}})
    write(path / "support" / "2024-03-15.json", "{not json")
    write(path / "support" / "2024-03-16.json", '{"a": 1}')
    write(path / "support" / "2024-03-17.json", '[{"type": "message", "text": "no ts"}]')
    items = read(path)
    assert len(records(items)) == 4
    assert [(f.position, f.reason.split(":")[0]) for f in failures(items)] == [
        ("file", "not valid JSON"),
        ("file", "not a list of messages"),
        ("message 0", "unreadable message"),
    ]


def test_not_a_slack_export(tmp_path: Path) -> None:
    write(tmp_path / "empty" / "readme.txt", "hi")
    with pytest.raises(ConnectorError, match="is not a Slack export"):
        SlackExport(tmp_path / "empty")
    with pytest.raises(ConnectorError, match="does not exist"):
        SlackExport(tmp_path / "nope")
