"""Telegram and Discord JSON import benchmark: messages/s and peak RSS of ``deskterm import``.

Generates (unless they exist) a Telegram Desktop whole-account ``result.json`` with
N messages spread over personal chats and groups (contacts after the chats, one
Saved Messages chat, service messages, entity lists, photos not included), the same
messages as one single-chat ``result.json``, and a DiscordChatExporter file of one
channel with N messages. Each is imported into a fresh SQLite store in a child process
running the real CLI command (agent ``Ana Souza``, emotion cues off so the parse and
store costs show), and the child's own peak RSS is read. With ``--cut`` the account
export is also imported cut off at half its size (a copy that did not finish).

``--code DIR`` runs the children against another checkout's ``src`` (for "before"
numbers: ``git worktree add /tmp/old <commit>`` then ``--code /tmp/old``).

    python bench/bench_chat_json.py [--messages 1000000] [--dir /tmp] [--code DIR] [--cut]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chat_corpus
from bench_chat_import import CHILD  # the same child: real CLI, its own RSS and CPU

AGENT_ID = 1001
CHAT_SIZE = 5_000  # messages per chat in the account export


def _telegram_message(rng: random.Random, n: int, when: datetime, chat: int) -> dict[str, Any]:
    """One message as Telegram Desktop writes it (``text`` and ``text_entities``)."""
    customer = rng.random() < 0.55
    sender, name = (chat, f"Customer {chat}") if customer else (AGENT_ID, chat_corpus.AGENT)
    base: dict[str, Any] = {
        "id": n,
        "type": "message",
        "date": f"{when:%Y-%m-%dT%H:%M:%S}",
        "date_unixtime": str(int(when.timestamp())),
    }
    roll = rng.random()
    if roll < 0.02:
        return {**base, "type": "service", "actor": name, "actor_id": f"user{sender}",
                "action": "phone_call", "duration_seconds": rng.randint(5, 900), "text": "",
                "text_entities": []}  # fmt: skip
    text: Any = chat_corpus._sentence(rng)
    entities = [{"type": "plain", "text": text}]
    if roll < 0.08:
        text = [text + " ", {"type": "link", "text": "https://acme.example/help"}]
        entities = [{"type": "plain", "text": text[0]}, text[1]]
    message = {**base, "from": name, "from_id": f"user{sender}", "text": text,
               "text_entities": entities}  # fmt: skip
    if roll > 0.97:
        message["photo"] = "(File not included. Change data exporting settings to download.)"
        message["photo_file_size"] = rng.randint(10_000, 900_000)
    if roll > 0.95 and roll <= 0.97:
        message["edited"] = message["date"]
        message["edited_unixtime"] = message["date_unixtime"]
    return message


def _telegram_chat_messages(rng: random.Random, chat: int, count: int) -> Iterator[dict[str, Any]]:
    when = datetime(2021, 1, 4, 9, 0, tzinfo=UTC) + timedelta(hours=chat)
    for n in range(1, count + 1):
        when += timedelta(seconds=rng.randint(20, 900))
        if n % 30 == 0:
            when += timedelta(days=rng.randint(1, 9))
        yield _telegram_message(rng, n, when, chat)


def telegram_account(path: Path, messages: int, seed: int = 11) -> None:
    """A whole-account ``result.json``: chats first, then left chats and contacts."""
    rng = random.Random(seed)
    chats = max(1, messages // CHAT_SIZE)
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "about": "Here is the data you requested.",\n')
        out.write(f' "personal_information": {{"user_id": {AGENT_ID}, "first_name": "Ana"}},\n')
        out.write(' "chats": {\n  "about": "This page lists all chats.",\n  "list": [\n')
        saved = {"type": "saved_messages", "id": AGENT_ID,
                 "messages": list(_telegram_chat_messages(rng, AGENT_ID, 20))}  # fmt: skip
        out.write(json.dumps(saved, indent=1, ensure_ascii=False))
        for chat in range(1, chats + 1):
            group = chat % 10 == 0
            body = {
                "name": f"Support group {chat}" if group else f"Customer {chat}",
                "type": "private_supergroup" if group else "personal_chat",
                "id": chat,
                "messages": list(_telegram_chat_messages(rng, chat, CHAT_SIZE)),
            }
            out.write(",\n" + json.dumps(body, indent=1, ensure_ascii=False))
        out.write('\n  ]\n },\n "left_chats": {"about": "", "list": []},\n "contacts": {\n')
        contacts = [{"first_name": "Customer", "last_name": str(c), "date": "2021-01-01T00:00:00",
                     "phone_number": f"+1 415 555 {c % 10_000:04d}"}
                    for c in range(1, chats + 1)]  # fmt: skip
        out.write(f'  "list": {json.dumps(contacts, indent=1)}\n }}\n}}\n')


def telegram_chat(path: Path, messages: int, seed: int = 11) -> None:
    """A single-chat ``result.json`` (one long personal chat), written as it goes."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "name": "Customer 7",\n "type": "personal_chat",\n "id": 7,\n')
        out.write(' "messages": [')
        for n, message in enumerate(_telegram_chat_messages(rng, 7, messages)):
            text = json.dumps(message, indent=1, ensure_ascii=False).replace("\n", "\n  ")
            out.write(("\n  " if n == 0 else ",\n  ") + text)
        out.write("\n ]\n}\n")


def discord(path: Path, messages: int, seed: int = 13) -> None:
    """One channel as DiscordChatExporter writes it (indent 2, full author objects)."""
    rng = random.Random(seed)

    def author(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
        return {"id": str(uid), "name": name.lower().replace(" ", ""), "discriminator": "0000",
                "nickname": name, "color": None, "isBot": bot, "roles": [],
                "avatarUrl": f"https://cdn.discordapp.com/avatars/{uid}/x.png"}  # fmt: skip

    agent = author(900000000000000001, chat_corpus.AGENT)
    bot = author(900000000000000002, "Status Bot", bot=True)
    when = datetime(2022, 3, 1, 8, 0, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        head = {
            "guild": {"id": "800000000000000001", "name": "Acme Community", "iconUrl": ""},
            "channel": {"id": "700000000000000001", "type": "GuildTextChat", "categoryId": "1",
                        "category": "Help", "name": "support", "topic": None},
            "dateRange": {"after": None, "before": None},
            "exportedAt": "2024-01-01T00:00:00+00:00",
        }  # fmt: skip
        out.write(json.dumps(head, indent=2)[:-2] + ',\n  "messages": [\n')
        for n in range(1, messages + 1):
            when += timedelta(seconds=rng.randint(5, 600))
            roll = rng.random()
            user = rng.randint(1, 3000)
            who = agent if roll < 0.4 else bot if roll > 0.99 else author(user, f"User {user}")
            message: dict[str, Any] = {
                "id": str(1_000_000_000_000_000_000 + n),
                "type": "Default" if roll > 0.03 else "GuildMemberJoin",
                "timestamp": when.isoformat(),
                "timestampEdited": None,
                "callEndedTimestamp": None,
                "isPinned": False,
                "content": chat_corpus._sentence(rng),
                "author": who,
                "attachments": [],
                "embeds": [],
                "stickers": [],
                "reactions": [],
                "mentions": [],
            }
            if 0.5 < roll < 0.52:
                file = {"id": str(n), "fileName": f"shot-{n}.png", "fileSizeBytes": 40960}
                message["attachments"] = [file]
            text = json.dumps(message, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            out.write(("    " if n == 1 else ",\n    ") + text)
        out.write(f'\n  ],\n  "messageCount": {messages}\n}}\n')


def run(db: Path, command: list[str], home: Path, code: Path | None) -> dict[str, Any]:
    """One import in a child process: its JSON summary, wall time and peak RSS."""
    env = dict(os.environ, DESKTERM_HOME=str(home))
    env.pop("DESKTERM_DB", None)
    if code is not None:
        env["PYTHONPATH"] = str(code / "src")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(["--db", str(db), "import", *command, "--json"])],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    stats = json.loads(next(line for line in lines if line.startswith('{"seconds"')))
    if not proc.stdout.strip():  # refused: the CLI's one-sentence error
        error = next((line for line in lines if line.startswith("deskterm: ")), lines[-1])
        return {**stats, "error": error.removeprefix("deskterm: ")}
    summary = json.loads(proc.stdout)
    seen = summary["messages_new"] + summary["messages_duplicate"] + summary["messages_failed"]
    return {
        **stats,
        "new": summary["messages_new"],
        "failed": summary["messages_failed"],
        "msgs_per_s": seen / stats["seconds"],
        "msgs_per_cpu_s": seen / stats["cpu_seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--code", type=Path, help="a checkout whose src the children run")
    parser.add_argument("--cut", action="store_true", help="also import a half-written copy")
    parser.add_argument("--only", choices=("account", "chat", "discord"), action="append")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    n = args.messages
    files = {
        "account": (args.dir / f"deskterm-bench-telegram-account-{n}.json", telegram_account),
        "chat": (args.dir / f"deskterm-bench-telegram-chat-{n}.json", telegram_chat),
        "discord": (args.dir / f"deskterm-bench-discord-{n}.json", discord),
    }
    cut = args.dir / f"deskterm-bench-telegram-account-{n}-cut.json"
    # Written by another process: a child's peak RSS counts its parent's from before
    # the fork, so this one must stay small.
    spawn = multiprocessing.get_context("spawn")
    for path, make in files.values():
        if not path.exists():
            writer = spawn.Process(target=make, args=(path, n))
            writer.start()
            writer.join()
    if args.cut and not cut.exists():
        with files["account"][0].open("rb") as whole, cut.open("wb") as half:
            shutil.copyfileobj(whole, half)
            half.truncate(files["account"][0].stat().st_size // 2)

    home = Path(tempfile.mkdtemp(prefix="deskterm-bench-home-"))
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text(
        f'[chat]\nagents = ["{chat_corpus.AGENT}", "{AGENT_ID}", "900000000000000001"]\n'
        "[emotion]\nenabled = false\n",
        encoding="utf-8",
    )
    runs = {
        "account": ("Telegram, whole account", ["telegram"]),
        "chat": ("Telegram, one chat", ["telegram"]),
        "discord": ("Discord, one channel", ["discord"]),
    }
    results: dict[str, Any] = {}
    db = args.dir / "deskterm-bench-chat-json.db"
    for key in args.only or list(runs):
        label, command = runs[key]
        path = files[key][0]
        size = path.stat().st_size / 2**20
        results[f"{label}, {n:,} messages ({size:,.0f} MB)"] = run(
            db, [*command, str(path)], home, args.code
        )
    if args.cut:
        size = cut.stat().st_size / 2**20
        results[f"Telegram, whole account cut at half ({size:,.0f} MB)"] = run(
            db, ["telegram", str(cut)], home, args.code
        )
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| export | new | failed | seconds | msgs/s | msgs per CPU-s | peak RSS |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | {r['error']} | | {r['seconds']:.1f} | | | "
                  f"{r['peak_rss_mb']:,.0f} MB |")  # fmt: skip
            continue
        print(
            f"| {name} | {r['new']:,} | {r['failed']:,} | {r['seconds']:.1f} | "
            f"{r['msgs_per_s']:,.0f} | {r['msgs_per_cpu_s']:,.0f} | {r['peak_rss_mb']:,.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
