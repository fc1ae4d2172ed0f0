"""Generated chat exports for the import benchmark (nothing is committed; run it).

* A WhatsApp export (Android layout, day-first dates, 24 h clock) of N lines: a
  support line's chat with one customer over several years, in sessions (bursts of
  messages with quiet days between), with multi-line messages, media, a deleted
  message now and then and the encryption notice on top.
* A Slack workspace export (the zip Slack sends) with N messages: users with
  profile emails, public and private channels, threads, bot messages, file shares,
  edits, tombstones, joins, and an empty ``dms.json``.

    python bench/chat_corpus.py whatsapp /tmp/wa.txt --lines 1000000
    python bench/chat_corpus.py slack /tmp/slack.zip --messages 200000
"""

from __future__ import annotations

import argparse
import json
import random
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

# fmt: off
WORDS = (
    "order", "invoice", "refund", "delivery", "package", "tracking", "account", "password",
    "login", "error", "app", "update", "payment", "card", "charge", "subscription", "plan",
    "cancel", "upgrade", "please", "thanks", "hello", "help", "urgent", "broken", "missing",
    "late", "still", "waiting", "today", "tomorrow", "week", "number", "address", "email",
    "phone", "support", "ticket", "issue", "problem", "fixed", "works", "again", "sorry",
    "understand", "check",
)
# fmt: on
AGENT = "Ana Souza"
CUSTOMER = "+1 (415) 555-0142"


def _sentence(rng: random.Random, low: int = 3, high: int = 18) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + rng.choice((".", "?", "!", ""))


def whatsapp(path: Path, lines: int, seed: int = 7) -> dict[str, int]:
    """Write an Android-style export of about ``lines`` lines; returns counts."""
    rng = random.Random(seed)
    when = datetime(2019, 1, 3, 9, 0)
    written = messages = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(
            f"{when:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted. No one "
            "outside of this chat, not even WhatsApp, can read or listen to them.\n"
        )
        written += 1
        while written < lines:
            # one session: a customer opens, agent and customer go back and forth
            for turn in range(rng.randint(4, 40)):
                if written >= lines:
                    break
                author = CUSTOMER if turn % 2 == 0 else AGENT
                when += timedelta(seconds=rng.randint(5, 400))
                stamp = f"{when:%d/%m/%Y, %H:%M}"
                roll = rng.random()
                if roll < 0.03:
                    text = "<Media omitted>"
                elif roll < 0.035:
                    text = "This message was deleted"
                else:
                    text = _sentence(rng)
                eol = "\r\n" if rng.random() < 0.01 else "\n"
                out.write(f"{stamp} - {author}: {text}{eol}")
                written += 1
                messages += 1
                if rng.random() < 0.08:
                    for _ in range(rng.randint(1, 3)):
                        out.write(_sentence(rng) + "\n")
                        written += 1
            when += timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 12))
    return {"lines": written, "message_lines": messages}


def slack(path: Path, messages: int, seed: int = 7) -> dict[str, int]:
    """Write a Slack export zip with about ``messages`` messages; returns counts."""
    rng = random.Random(seed)
    users = [
        {
            "id": f"U{i:07d}",
            "name": f"user{i}",
            "real_name": f"User {i}",
            "profile": {
                "real_name": f"User {i}",
                "display_name": f"user{i}",
                "email": f"user{i}@customer{i % 97}.example",
            },
            "is_bot": False,
        }
        for i in range(1, 801)
    ]
    users.append(
        {"id": "U0AGENT01", "name": "ana", "real_name": AGENT, "profile": {}, "is_bot": False}
    )
    users.append({"id": "U0BOT0001", "name": "deploybot", "is_bot": True, "profile": {}})
    channels = [
        {"id": f"C{i:07d}", "name": f"support-{i}", "created": 1546300800, "members": []}
        for i in range(1, 41)
    ]
    groups = [{"id": f"G{i:07d}", "name": f"escalations-{i}", "members": []} for i in range(1, 6)]
    per_conversation = messages // (len(channels) + len(groups))
    written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("users.json", json.dumps(users))
        zf.writestr("channels.json", json.dumps(channels))
        zf.writestr("groups.json", json.dumps(groups))
        zf.writestr("dms.json", "[]")
        zf.writestr("mpims.json", "[]")
        for conv in channels + groups:
            start = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
            day_messages: dict[str, list[dict[str, object]]] = {}
            when = start
            count = 0
            open_threads: list[str] = []
            while count < per_conversation:
                when += timedelta(seconds=rng.randint(30, 3600))
                ts = f"{int(when.timestamp())}.{rng.randint(0, 999999):06d}"
                user = rng.choice(users[:800] if rng.random() < 0.7 else users[800:801])
                msg: dict[str, object] = {
                    "type": "message",
                    "user": user["id"],
                    "text": _sentence(rng),
                    "ts": ts,
                }
                roll = rng.random()
                if roll < 0.25 and open_threads:
                    msg["thread_ts"] = rng.choice(open_threads[-5:])
                    msg["parent_user_id"] = user["id"]
                elif roll < 0.32:
                    msg["thread_ts"] = ts
                    msg["reply_count"] = 3
                    open_threads.append(ts)
                elif roll < 0.34:
                    msg = {
                        "type": "message",
                        "subtype": "bot_message",
                        "bot_id": "B0DEPLOY",
                        "username": "deploybot",
                        "text": "Deployed build " + str(count),
                        "ts": ts,
                    }
                elif roll < 0.36:
                    msg["files"] = [
                        {"id": f"F{count}", "name": f"screenshot-{count}.png",
                         "mimetype": "image/png", "size": rng.randint(1000, 900000)}
                    ]  # fmt: skip
                elif roll < 0.37:
                    msg["text"] += f" <@{rng.choice(users)['id']}> <https://example.com|docs>"
                elif roll < 0.38:
                    msg["edited"] = {"user": user["id"], "ts": ts}
                elif roll < 0.385:
                    msg = {"type": "message", "subtype": "channel_join", "user": user["id"],
                           "text": f"<@{user['id']}> has joined the channel", "ts": ts}  # fmt: skip
                    count -= 1
                day_messages.setdefault(f"{when:%Y-%m-%d}", []).append(msg)
                count += 1
            for day, items in day_messages.items():
                zf.writestr(f"{conv['name']}/{day}.json", json.dumps(items, indent=1))
            written += count
    return {"messages": written}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("whatsapp", "slack"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.kind == "whatsapp":
        print(json.dumps(whatsapp(args.path, args.lines, args.seed)))
    else:
        print(json.dumps(slack(args.path, args.messages, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
