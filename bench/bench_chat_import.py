"""Chat import benchmark: messages/s and peak RSS of ``deskterm import``.

Generates the corpora of ``bench/chat_corpus.py`` (a WhatsApp export of 1M lines, a
Slack export zip of 200k messages) unless they exist, then imports each into a fresh
SQLite store in a child process running the real CLI command (agents ``Ana Souza`` and
``U0AGENT01``), and reads the child's own peak RSS. A second run of the same import
measures the duplicate check (a no-op re-import). Each import runs with emotion cues
off (``[emotion] enabled = false``) and with the default hooks (emotion cues and SLA
clocks). Prints a Markdown table; "msgs per CPU-s" is the number that does not depend
on what else runs on the machine.

    python bench/bench_chat_import.py [--lines 1000000] [--messages 200000] [--dir /tmp]
        [--hooks off|on|both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chat_corpus

CHILD = """
import json, resource, sys, time
from deskterm.cli import app
args = json.loads(sys.argv[1])
start = time.perf_counter()
try:
    app(args, standalone_mode=False)
finally:
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                      "peak_rss_mb": usage.ru_maxrss / 1024}), file=sys.stderr)
"""


def run(db: Path, command: list[str], home: Path) -> dict[str, Any]:
    """One import in a child process: its JSON summary, wall time and peak RSS."""
    env = dict(os.environ, DESKTERM_HOME=str(home))
    env.pop("DESKTERM_DB", None)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(["--db", str(db), "import", *command, "--json"])],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    summary = json.loads(proc.stdout)
    stats = json.loads(proc.stderr.strip().splitlines()[-1])
    seen = summary["messages_new"] + summary["messages_duplicate"] + summary["messages_failed"]
    return {
        **stats,
        "new": summary["messages_new"],
        "duplicate": summary["messages_duplicate"],
        "failed": summary["messages_failed"],
        "tickets": summary["tickets_created"],
        "msgs_per_s": seen / stats["seconds"],
        "msgs_per_cpu_s": seen / stats["cpu_seconds"],
        "load": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--hooks", choices=("off", "on", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    wa = args.dir / f"deskterm-bench-whatsapp-{args.lines}.txt"
    sl = args.dir / f"deskterm-bench-slack-{args.messages}.zip"
    if not wa.exists():
        chat_corpus.whatsapp(wa, args.lines)
    if not sl.exists():
        chat_corpus.slack(sl, args.messages)

    results: dict[str, Any] = {}
    modes = {"off": (False,), "on": (True,), "both": (False, True)}[args.hooks]
    for emotion in modes:
        home = Path(tempfile.mkdtemp(prefix="deskterm-bench-home-"))
        (home / "config").mkdir()
        (home / "config" / "config.toml").write_text(
            f'[chat]\nagents = ["{chat_corpus.AGENT}", "U0AGENT01"]\n'
            f"[emotion]\nenabled = {'true' if emotion else 'false'}\n",
            encoding="utf-8",
        )
        label = "emotion cues on (default)" if emotion else "emotion cues off"
        for name, command in (
            (f"WhatsApp, {args.lines:,} lines", ["whatsapp", str(wa), "--tz", "Europe/Berlin"]),
            (f"Slack, {args.messages:,} messages (zip)", ["slack", str(sl)]),
        ):
            db = args.dir / f"deskterm-bench-chat-{name.split(',')[0].lower()}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            first = run(db, command, home)
            again = run(db, command, home)
            results[f"{name}, {label}"] = {"import": first, "reimport": again}
            time.sleep(0.1)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        "| export | messages | tickets | seconds | msgs/s | msgs per CPU-s | peak RSS "
        "| re-import msgs/s | load avg |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for name, r in results.items():
        f, a = r["import"], r["reimport"]
        print(
            f"| {name} | {f['new']:,} | {f['tickets']:,} | {f['seconds']:.1f} | "
            f"{f['msgs_per_s']:,.0f} | {f['msgs_per_cpu_s']:,.0f} | {f['peak_rss_mb']:.0f} MB | "
            f"{a['msgs_per_s']:,.0f} | {f['load']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
